"""Stage 2, validate: apply the DIDS record rules and account for every record.

The rules are SQL (`queries/validate/validate.sql`); this module runs them, counts what became of
each file's records (received = accepted + rejected, always) and writes the restricted
folder: the quarantine of rejected records and the list of accepted records that broke
a warning rule, each with its rule codes and the 18 columns exactly as received.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import xlsxwriter

from publish.codes import SUBMISSION_COLUMNS
from publish.csv_files import write_csv
from publish.db import frame, rows, run
from publish.ingest.load import FILE_LEVEL_RULE, InputFile
from publish.ingest.submission_files import copy_as_received
from publish.resources import query, query_block

RESTRICTED_COLUMNS = ("source_file", "row_number", "rule_codes", *SUBMISSION_COLUMNS)


@dataclass
class FileOutcome:
    """What became of one file's records."""

    received: int = 0
    accepted: int = 0
    rejected: int = 0
    warned: int = 0
    superseded: int = 0


def validate_records(con: duckdb.DuckDBPyConnection) -> None:
    """Create `checked_records`: the rule codes of every record in `submission_records`."""
    run(con, query("macros"))
    run(con, query("validate/validate"))


def derive_records(con: duckdb.DuckDBPyConnection) -> None:
    """Create `derived_records`, `record_outcomes` and `flagged_records` (derive.sql),
    and the files' shares of the tables, `file_cube` and `file_waits` (cube.sql)."""
    run(con, query("derive/derive"))
    sum_shares(con, "derived_records", "file")


def resolve_resubmissions(con: duckdb.DuckDBPyConnection) -> None:
    """Find `superseded_records` among every file's derived records, then count."""
    run(con, query_block("validate/resolve", "repeated_hashes"))
    run(con, query_block("validate/resolve", "superseded_records"))
    count_what_counts(con)


def count_what_counts(con: duckdb.DuckDBPyConnection) -> None:
    """Create `counted_cube` and `counted_waits`: the files' shares less the share of the
    records a later resubmission replaced (`superseded_records`)."""
    sum_shares(con, "superseded_records", "superseded")
    run(con, query("validate/counted"))


def sum_shares(con: duckdb.DuckDBPyConnection, records: str, prefix: str) -> None:
    """`<prefix>_cube` and `<prefix>_waits`: cube.sql run on the table `records`."""
    run(con, f"CREATE OR REPLACE VIEW cube_records AS SELECT * FROM {records}")
    run(con, query("derive/cube"))
    run(
        con,
        f"CREATE OR REPLACE TABLE {prefix}_cube AS SELECT * FROM records_cube; "
        f"CREATE OR REPLACE TABLE {prefix}_waits AS SELECT * FROM records_waits; "
        f"CREATE OR REPLACE TABLE {prefix}_commissioner_cube AS "
        "SELECT * FROM records_commissioner_cube",
    )


def file_outcomes(con: duckdb.DuckDBPyConnection, files: list[InputFile]) -> dict[int, FileOutcome]:
    """Per file: records received, accepted, rejected, warned and superseded."""
    counts = rows(
        con,
        """
        WITH checked AS (
            SELECT file_id,
                   sum(CASE WHEN len(rejection_codes) = 0 THEN n ELSE 0 END) AS accepted,
                   sum(CASE WHEN len(rejection_codes) > 0 THEN n ELSE 0 END) AS rejected,
                   sum(CASE WHEN len(rejection_codes) = 0 AND len(warning_codes) > 0
                            THEN n ELSE 0 END) AS warned
            FROM record_outcomes
            GROUP BY file_id
        ),
        superseded AS (
            SELECT file_id, count(*) AS superseded FROM superseded_records GROUP BY file_id
        )
        SELECT c.file_id, CAST(c.accepted AS BIGINT), CAST(c.rejected AS BIGINT),
               CAST(c.warned AS BIGINT), CAST(coalesce(s.superseded, 0) AS BIGINT)
        FROM checked AS c
        LEFT JOIN superseded AS s ON s.file_id = c.file_id
        """,
    )
    by_file = {file_id: FileOutcome(0, a, r, w, s) for file_id, a, r, w, s in counts}
    outcomes: dict[int, FileOutcome] = {}
    for input_file in files:
        outcome = by_file.get(input_file.file_id, FileOutcome())
        if input_file.status == "rejected":
            outcome = FileOutcome(rejected=input_file.records_received)
        else:
            outcome.rejected += len(input_file.malformed_records)
        outcome.received = input_file.records_received
        outcomes[input_file.file_id] = outcome
    return outcomes


def rejection_rule_counts(
    con: duckdb.DuckDBPyConnection, files: list[InputFile]
) -> list[tuple[str, int]]:
    """(rule code, records rejected under it), most first; whole files and malformed
    records count under their file-level rule (DIDS075)."""
    counts = dict(rows(con, query("validate/rejection_rules")))
    for input_file in files:
        whole = input_file.records_received if input_file.status == "rejected" else 0
        found = whole + len(input_file.malformed_records)
        if found:
            code = input_file.rule_code or FILE_LEVEL_RULE
            counts[code] = counts.get(code, 0) + found
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def malformed_records_frame(files: list[InputFile]) -> pl.DataFrame:
    """Records with the wrong number of fields, kept whole: extra fields join the last."""
    rows = []
    width = len(SUBMISSION_COLUMNS)
    for input_file in files:
        for row_number, record in input_file.malformed_records:
            values = record[: width - 1] + [",".join(record[width - 1 :])]
            values += [""] * (width - len(values))
            rows.append(
                [input_file.file_order, input_file.name, row_number, FILE_LEVEL_RULE, *values]
            )
    schema = [("file_order", pl.Int64), ("source_file", pl.Utf8), ("row_number", pl.Int64)]
    schema += [("rule_codes", pl.Utf8)]
    schema += [(name, pl.Utf8) for name in SUBMISSION_COLUMNS]
    return pl.DataFrame(rows, schema=schema, orient="row")


def restricted_records(con: duckdb.DuckDBPyConnection, rejected: bool) -> pl.DataFrame:
    columns = ", ".join(f'r."{name}"' for name in SUBMISSION_COLUMNS)
    codes = "r.rejection_codes || r.warning_codes" if rejected else "r.warning_codes"
    condition = (
        "len(r.rejection_codes) > 0"
        if rejected
        else ("len(r.rejection_codes) = 0 AND len(r.warning_codes) > 0")
    )
    return frame(
        con,
        f"""
        SELECT f.file_order, f.source_file, r.row_number,
               array_to_string(list_sort({codes}), ' ') AS rule_codes, {columns}
        FROM flagged_records AS r
        JOIN input_files AS f USING (file_id)
        WHERE {condition}
        """,
    )


def write_restricted(
    con: duckdb.DuckDBPyConnection, files: list[InputFile], restricted_dir: Path
) -> None:
    """quarantine.csv, warnings.csv and copies of wholly rejected files (record-level data)."""
    restricted_dir.mkdir(parents=True, exist_ok=True)
    quarantine = pl.concat(
        [restricted_records(con, rejected=True), malformed_records_frame(files)],
        how="vertical_relaxed",
    )
    order = ["file_order", "row_number"]
    write_csv(
        quarantine.sort(order).drop("file_order"),
        restricted_dir / "quarantine.csv",
        as_received=True,
    )
    write_csv(
        restricted_records(con, rejected=False).sort(order).drop("file_order"),
        restricted_dir / "warnings.csv",
        as_received=True,
    )
    write_spreadsheet_safe(quarantine.sort(order).drop("file_order"), restricted_dir)
    rejected_files = [f for f in files if f.status == "rejected"]
    copied: list[str] = []
    for input_file in rejected_files:
        # By its path under the INPUT it came from: two `a.csv` of two folders both kept.
        # A file that is not a regular one (a named pipe) is not read, so not copied.
        copy = Path("rejected_files") / inside(input_file.shown_as or input_file.name)
        if input_file.bytes_read or input_file.sha256:
            copy_as_received(input_file.path, input_file.member, restricted_dir / copy)
            copied.append(copy.as_posix())
        else:
            copied.append("")
    rejected_files_list = pl.DataFrame(
        {
            "source_file": [f.name for f in rejected_files],
            "rule_code": [f.rule_code or "" for f in rejected_files],
            "records": [f.records_received for f in rejected_files],
            "message": [f.message or "" for f in rejected_files],
            "copy": copied,
        },
        schema={
            "source_file": pl.Utf8,
            "rule_code": pl.Utf8,
            "records": pl.Int64,
            "message": pl.Utf8,
            "copy": pl.Utf8,
        },
    )
    write_csv(rejected_files_list, restricted_dir / "rejected_files.csv")


def inside(shown_as: str) -> Path:
    """A file's name under the INPUT it came from, as a path that stays inside the
    folder it is copied to (no root, no `..`)."""
    parts = [part if part != ".." else "_" for part in Path(shown_as).parts]
    return Path(*[part for part in parts if part not in ("/", "") and not part.endswith(":\\")])


def write_spreadsheet_safe(quarantine: pl.DataFrame, restricted_dir: Path) -> None:
    """`quarantine.xlsx`: the quarantine for a spreadsheet, every value written as text.

    quarantine.csv keeps the values as received (the contract); opened in Excel, a field
    such as `=HYPERLINK(...)` would run as a formula. Here each cell is a string cell,
    so nothing in a submission is ever evaluated when the producer opens it.
    """
    workbook = xlsxwriter.Workbook(
        str(restricted_dir / "quarantine.xlsx"),
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    # A fixed creation date: the same quarantine gives the same bytes.
    workbook.set_properties(
        {"title": "Quarantine: rejected records (restricted)", "created": datetime(2000, 1, 1)}
    )
    workbook.set_calc_mode("manual")
    sheet = workbook.add_worksheet("Quarantine")
    for column, name in enumerate(quarantine.columns):
        sheet.write_string(0, column, name)
    shown = quarantine.head(XLSX_MAX_ROWS - 2)
    for row_index, values in enumerate(shown.iter_rows(), start=1):
        for column, value in enumerate(values):
            # Excel holds at most 32,767 characters a cell: a longer value is cut there
            # (quarantine.csv has it whole).
            text = "" if value is None else str(value)
            sheet.write_string(row_index, column, text[:XLSX_MAX_CELL])
    if quarantine.height > shown.height:
        sheet.write_string(
            shown.height + 1,
            0,
            f"{quarantine.height - shown.height} more records: more than a sheet holds; "
            "see quarantine.csv",
        )
    workbook.close()


XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_CELL = 32_767
