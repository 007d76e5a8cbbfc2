"""Stage 1, ingest: read submission files into DuckDB exactly as received.

Every file gets a row in `input_files` and each of its records a row in
`submission_records` (all 18 columns as text, untrimmed, with the file's id and the
record's 1-based number), so that validation sees what the provider sent and the
quarantine can give it back unchanged.

Well-formed CSV goes through DuckDB's parallel reader. A file DuckDB refuses (ragged
rows, stray quotes) is read again by Python's csv module, record by record, so that its
good records still load and each bad one is kept with rule DIDS075; this slow path runs
only for broken files. A file that cannot be decoded as UTF-8, has the wrong number of
columns (DIDS075) or cannot be read at all is rejected whole: its records are counted as
received and rejected, and the file is copied to the restricted folder by the caller.

Messages name the file, the record and the field, never a value: a submission line can
hold an NHS number.
"""

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from publish.codes import SUBMISSION_COLUMNS
from publish.db import rows, run, scalar

SUBMISSIONS_MANIFEST_HEADER = ("file", "submission_date")
CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
FILE_LEVEL_RULE = "DIDS075"


class InputError(Exception):
    """A problem with the user's input that stops the command (exit code 2)."""


@dataclass
class InputFile:
    """One submission file and what became of it."""

    file_id: int
    path: Path
    sha256: str
    submission_date: date | None
    file_order: int = 0
    status: str = "loaded"  # "loaded" or "rejected"
    rule_code: str | None = None
    message: str | None = None
    records_received: int = 0
    malformed_records: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def discover_input_files(inputs: Iterable[Path]) -> list[Path]:
    """Files named on the command line, and the submission files inside named folders.

    A folder is searched recursively for CSV and Parquet files; a submissions manifest
    (header `file,submission_date`) found there is not a submission and is skipped.
    """
    found: list[Path] = []
    for path in inputs:
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                is_submission = candidate.suffix.lower() in CSV_SUFFIXES + PARQUET_SUFFIXES
                if candidate.is_file() and is_submission and not is_submissions_manifest(candidate):
                    found.append(candidate)
        elif path.exists():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    unique = sorted(set(found), key=lambda p: (p.name, str(p)))
    return unique


def is_submissions_manifest(path: Path) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    with path.open("rb") as handle:
        first_line = handle.readline(200).decode("utf-8-sig", errors="replace")
    fields = [part.strip().lower() for part in first_line.strip().split(",")]
    return tuple(fields) == SUBMISSIONS_MANIFEST_HEADER


def read_submissions_manifest(path: Path) -> dict[str, date]:
    """`file,submission_date` rows -> {file name: date} (INPUT.md section 1)."""
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except Exception as error:  # polars raises several types for unreadable CSV
        raise InputError(f"{path}: cannot be read as a submissions manifest ({error})") from None
    columns = {name.strip().lower(): name for name in frame.columns}
    if set(SUBMISSIONS_MANIFEST_HEADER) - set(columns):
        raise InputError(f"{path}: a submissions manifest needs the columns file,submission_date")
    dates: dict[str, date] = {}
    for row_number, row in enumerate(frame.iter_rows(named=True), start=1):
        file_name = (row[columns["file"]] or "").strip()
        text = (row[columns["submission_date"]] or "").strip()
        try:
            dates[Path(file_name).name] = date.fromisoformat(text)
        except ValueError:
            raise InputError(
                f"{path}: row {row_number}, field submission_date: not a CCYY-MM-DD date"
            ) from None
    return dates


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def order_files(files: list[InputFile]) -> None:
    """Resubmission order (INPUT.md): by submission date, files without one first, then name."""
    ranked = sorted(
        files,
        key=lambda f: (f.submission_date is not None, f.submission_date or date.min, f.name),
    )
    for order, input_file in enumerate(ranked, start=1):
        input_file.file_order = order


def create_ingest_tables(con: duckdb.DuckDBPyConnection) -> None:
    columns = ", ".join(f'"{name}" VARCHAR' for name in SUBMISSION_COLUMNS)
    run(
        con,
        f"""
        CREATE OR REPLACE TABLE submission_records (
            file_id INTEGER NOT NULL, row_number BIGINT NOT NULL, {columns});
        CREATE OR REPLACE TABLE input_files (
            file_id INTEGER PRIMARY KEY, source_file VARCHAR NOT NULL,
            submission_date DATE, file_order INTEGER NOT NULL);
        """,
    )


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[Path],
    submission_dates: dict[str, date] | None = None,
    default_submission_date: date | None = None,
    first_file_id: int = 1,
) -> list[InputFile]:
    """Load every file into `submission_records`; return what happened to each."""
    create_ingest_tables(con)
    submission_dates = submission_dates or {}
    files = [
        InputFile(
            file_id=first_file_id + index,
            path=path,
            sha256=sha256_of(path),
            submission_date=submission_dates.get(path.name, default_submission_date),
        )
        for index, path in enumerate(paths)
    ]
    order_files(files)
    for input_file in files:
        if input_file.path.suffix.lower() in PARQUET_SUFFIXES:
            load_parquet(con, input_file)
        else:
            load_csv(con, input_file)
    con.executemany(
        "INSERT INTO input_files VALUES (?, ?, ?, ?)",
        [(f.file_id, f.name, f.submission_date, f.file_order) for f in files],
    )
    return files


def reject_file(input_file: InputFile, message: str, rule_code: str | None = None) -> None:
    input_file.status = "rejected"
    input_file.rule_code = rule_code
    input_file.message = f"{input_file.name}: rejected: {message}"


def load_parquet(con: duckdb.DuckDBPyConnection, input_file: InputFile) -> None:
    path = str(input_file.path)
    try:
        schema = rows(con, "DESCRIBE SELECT * FROM read_parquet(?)", [path])
    except duckdb.Error:
        reject_file(input_file, "cannot be read as a Parquet file")
        return
    by_upper = {name.strip().upper(): name for name, *_ in schema}
    missing = [name for name in SUBMISSION_COLUMNS if name not in by_upper]
    input_file.records_received = count_parquet_rows(con, path)
    if missing or len(schema) != len(SUBMISSION_COLUMNS):
        reject_file(
            input_file,
            f"{len(schema)} columns found, the 18 submission columns are needed"
            + (f" (missing: {', '.join(missing)})" if missing else ""),
            FILE_LEVEL_RULE,
        )
        return
    selected = ", ".join(
        f'CAST("{by_upper[name]}" AS VARCHAR) AS "{name}"' for name in SUBMISSION_COLUMNS
    )
    run(
        con,
        f"""
        INSERT INTO submission_records
        SELECT ?, file_row_number + 1, {selected}
        FROM read_parquet(?, file_row_number = true)
        """,
        [input_file.file_id, path],
    )


def count_parquet_rows(con: duckdb.DuckDBPyConnection, path: str) -> int:
    return scalar(con, "SELECT count(*) FROM read_parquet(?)", [path])


@dataclass(frozen=True)
class CsvLayout:
    has_header: bool
    column_names: tuple[str, ...]  # in file order


def sniff_csv_layout(input_file: InputFile) -> CsvLayout | None:
    """Header or not, and the column order, from the first record. None: file rejected."""
    with input_file.path.open("rb") as handle:
        head = handle.read(1 << 16)
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        input_file.message = f"{input_file.name}: empty file, no records"
        return None
    text = head.decode("utf-8-sig", errors="replace")
    try:
        first_record = next(csv.reader(io.StringIO(text)))
    except (csv.Error, StopIteration):
        reject_file(input_file, "the first record cannot be read as CSV", FILE_LEVEL_RULE)
        return None
    names = [value.strip().upper() for value in first_record]
    has_header = any(name in SUBMISSION_COLUMNS for name in names)
    if len(first_record) != len(SUBMISSION_COLUMNS):
        input_file.records_received = count_csv_records(input_file.path, has_header)
        reject_file(
            input_file,
            f"{len(first_record)} columns found in record 1 "
            f"{'(the header)' if has_header else ''}, 18 are needed".replace("  ", " "),
            FILE_LEVEL_RULE,
        )
        return None
    if has_header:
        unknown = [
            first_record[i].strip() for i, n in enumerate(names) if n not in SUBMISSION_COLUMNS
        ]
        missing = [name for name in SUBMISSION_COLUMNS if name not in names]
        if unknown or missing or len(set(names)) != len(names):
            input_file.records_received = count_csv_records(input_file.path, True)
            reject_file(
                input_file,
                "header does not name the 18 submission columns"
                + (f"; missing: {', '.join(missing)}" if missing else ""),
                FILE_LEVEL_RULE,
            )
            return None
        return CsvLayout(True, tuple(names))
    return CsvLayout(False, SUBMISSION_COLUMNS)


def count_csv_records(path: Path, has_header: bool) -> int:
    """Records in a file we reject whole, so that received = accepted + rejected holds."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        count = sum(1 for record in csv.reader(handle) if record)
    return max(count - (1 if has_header else 0), 0)


def load_csv(con: duckdb.DuckDBPyConnection, input_file: InputFile) -> None:
    layout = sniff_csv_layout(input_file)
    if layout is None:
        return
    columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in layout.column_names) + "}"
    selected = ", ".join(f'"{name}"' for name in SUBMISSION_COLUMNS)
    try:
        run(
            con,
            f"""
            INSERT INTO submission_records
            SELECT ?, row_number() OVER (), {selected}
            FROM read_csv(?, header = {str(layout.has_header).lower()}, columns = {columns},
                          auto_detect = false, delim = ',', quote = '"', escape = '"',
                          strict_mode = true, null_padding = false, encoding = 'utf-8')
            """,
            [input_file.file_id, str(input_file.path)],
        )
    except duckdb.Error as error:
        problem = describe_csv_error(str(error))
        if "not utf-8" in problem:
            input_file.records_received = count_csv_records(input_file.path, layout.has_header)
            reject_file(input_file, problem)
            return
        load_csv_record_by_record(con, input_file, layout)
        return
    input_file.records_received = scalar(
        con, "SELECT count(*) FROM submission_records WHERE file_id = ?", [input_file.file_id]
    )


def describe_csv_error(error_text: str) -> str:
    """DuckDB's CSV error without the offending line, which may hold patient data."""
    line = re.search(r"CSV Error on Line: (\d+)", error_text)
    where = f" at line {line.group(1)}" if line else ""
    if "Invalid unicode" in error_text:
        return f"not utf-8 encoded (first bad bytes{where})"
    if "Expected Number of Columns" in error_text:
        return f"wrong number of columns{where}"
    if "quote" in error_text.lower():
        return f"unterminated or stray quote{where}"
    return f"cannot be parsed as CSV{where}"


def load_csv_record_by_record(
    con: duckdb.DuckDBPyConnection, input_file: InputFile, layout: CsvLayout
) -> None:
    """Slow path for a malformed file: keep every good record, quarantine each bad one."""
    good_rows: list[list[str | None]] = []
    positions = [layout.column_names.index(name) for name in SUBMISSION_COLUMNS]
    try:
        with input_file.path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            if layout.has_header:
                next(reader, None)
            row_number = 0
            for record in reader:
                if not record:
                    continue
                row_number += 1
                if len(record) != len(SUBMISSION_COLUMNS):
                    input_file.malformed_records.append((row_number, record))
                    continue
                good_rows.append(
                    [input_file.file_id, row_number]
                    + [record[p] if record[p] != "" else None for p in positions]
                )
    except csv.Error:
        input_file.records_received = count_csv_records(input_file.path, layout.has_header)
        input_file.malformed_records.clear()
        reject_file(input_file, f"cannot be parsed as CSV near record {row_number + 1}")
        return
    except UnicodeDecodeError:
        input_file.records_received = count_csv_records(input_file.path, layout.has_header)
        input_file.malformed_records.clear()
        reject_file(input_file, "not utf-8 encoded")
        return
    input_file.records_received = row_number
    if input_file.malformed_records:
        input_file.message = (
            f"{input_file.name}: {len(input_file.malformed_records)} record(s) with the wrong "
            f"number of columns quarantined ({FILE_LEVEL_RULE}), first at record "
            f"{input_file.malformed_records[0][0]}"
        )
    if good_rows:
        frame = pl.DataFrame(
            good_rows,
            schema=[("file_id", pl.Int32), ("row_number", pl.Int64)]
            + [(name, pl.Utf8) for name in SUBMISSION_COLUMNS],
            orient="row",
        )
        con.register("malformed_file_good_rows", frame)
        run(con, "INSERT INTO submission_records SELECT * FROM malformed_file_good_rows")
        con.unregister("malformed_file_good_rows")
