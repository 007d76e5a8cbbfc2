"""CSV files as every stage writes them: RFC 4180, UTF-8, LF, formulas neutralised.

Shared by the renderers (tidy CSV, data-quality CSVs) and the restricted writer
(quarantine, warnings), so neither layer imports the other (issue 14's layers).
"""

from pathlib import Path

import polars as pl

# A cell a spreadsheet would read as a formula: it starts with =, +, -, @, tab or CR.
FORMULA_START = r"^[=+\-@\t\r]"
# ... unless the whole cell is a plain number, which a spreadsheet reads as that number.
PLAIN_NUMBER = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def neutralise_formulas(text: pl.Expr) -> pl.Expr:
    """Text that a spreadsheet would run as a formula, prefixed with a single quote.

    OWASP's advice on CSV injection: a provider name from a reference file, or a value
    from a submission, such as `=HYPERLINK(...)` or `@SUM(...)` becomes `'=HYPERLINK(...)`.
    A plain number ("-3", "+5", "-0.5") is left alone: it is data, and stays a number.
    """
    return (
        pl.when(text.str.contains(FORMULA_START) & ~text.str.contains(PLAIN_NUMBER))
        .then(pl.lit("'") + text)
        .otherwise(text)
    )


def write_csv(frame: pl.DataFrame, path: Path, *, as_received: bool = False) -> None:
    """RFC 4180, UTF-8, LF; an empty text field is written bare, never as a quoted "".

    Text cells that would start a formula in a spreadsheet are neutralised (see
    `neutralise_formulas`); number columns, and text cells holding a plain number, are
    written as they are. `as_received` keeps record-level text exactly as submitted
    (the restricted quarantine, PUBLICATION.md section 5), where changing a value would
    misreport what the provider sent.
    """
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.Utf8]
    cleaned = [
        (pl.col(name) if as_received else neutralise_formulas(pl.col(name)))
        .replace("", None)
        .alias(name)
        for name in text_columns
    ]
    frame.with_columns(cleaned).write_csv(
        path, line_terminator="\n", quote_style="necessary", null_value=""
    )
