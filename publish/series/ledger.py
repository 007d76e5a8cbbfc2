"""The restricted ledger: every cell's unrounded value, kept for the next releases.

`<identifier>.restricted/ledger.parquet` (never in the publication): the cell's key
(CELL_KEY_COLUMNS, text), its unrounded value and its marker before protection. A later
release of the series reads it to tell a cell whose unrounded value is unchanged (one
unknown across the releases, and under `strict` suppressed again where it was) from one
that changed. It holds what the suppression hides: it lives beside the quarantine.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from publish.tables import CELL_KEY_COLUMNS

LEDGER_FILE = "ledger.parquet"
LEDGER_SCHEMA = {**{c: pl.Utf8 for c in CELL_KEY_COLUMNS}, "value": pl.Float64, "marker": pl.Utf8}


def ledger_frame(cells: pl.DataFrame) -> pl.DataFrame:
    """The ledger of unprotected cells (any frame with CELL_KEY_COLUMNS, value, marker),
    in key order so that the same cells give the same bytes."""
    return (
        cells.select(
            *[pl.col(c).cast(pl.Utf8).fill_null("") for c in CELL_KEY_COLUMNS],
            pl.col("value").cast(pl.Float64),
            pl.col("marker").cast(pl.Utf8).fill_null(""),
        )
        .unique(subset=list(CELL_KEY_COLUMNS), keep="first", maintain_order=True)
        .sort(list(CELL_KEY_COLUMNS))
    )


def write_ledger(ledger: pl.DataFrame, folder: Path) -> None:
    ledger.write_parquet(Path(folder) / LEDGER_FILE, statistics=False)


def read_ledger(path: Path) -> pl.DataFrame | None:
    """The ledger at `path`, or None when there is none (or it cannot be read: said)."""
    if not Path(path).is_file():
        return None
    try:
        ledger = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError):
        return None
    if any(c not in ledger.columns for c in LEDGER_SCHEMA):
        return None
    return ledger.select([pl.col(c).cast(t) for c, t in LEDGER_SCHEMA.items()])
