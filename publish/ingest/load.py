"""Stage 1, ingest: read submission files into DuckDB exactly as received.

Every file gets a row in `input_files` and each of its records a row in
`submission_records` (all 18 columns as text, untrimmed, with the file's id and the
record's 1-based number), so that validation sees what the provider sent and the
quarantine can give it back.

Well-formed CSV goes through DuckDB's parallel reader. A file DuckDB refuses (ragged
rows, stray or unterminated quotes, bytes that are not UTF-8, a field too long for a
line) is read again by Python's csv module, record by record (`read_csv_records`), so
that its good records still load and each damaged one is quarantined with rule DIDS075;
this slow path runs only for broken files. A record holding a NUL character is
quarantined the same way, whichever path read it. A broken record costs only itself:
after an unterminated quote the reader starts again on the line after the one where
the quote opened, so one stray quote cannot swallow the rest of the file.

A file is rejected whole (every record counted as received and rejected, the file
copied to the restricted folder by the caller) when its layout cannot be known: the
wrong number of columns or a header that does not name the 18 columns (DIDS075), a
first record that cannot be parsed, UTF-16 or binary content, or a Parquet file that
cannot be read. An empty file, or a header with no records, gives 0 records and no
error.

Messages name the file, the record (and line) and the field, never a value: a
submission line can hold an NHS number.
"""

import contextlib
import csv
import hashlib
import io
import logging
import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

import duckdb
import numpy as np
import polars as pl

from publish.codes import SUBMISSION_COLUMNS
from publish.db import quote_literal, register_frame, rows, run, scalar
from publish.errors import InputError
from publish.ingest.submission_files import (
    DAMAGED_STREAM_ERRORS,
    SubmissionType,
    is_submission_name,
    list_archive,
    open_bytes,
    type_or_csv,
)
from publish.ingest.xml_reader import MalformedXml, read_xml_records

log = logging.getLogger("did_publish")

SUBMISSIONS_MANIFEST_HEADER = ("file", "submission_date")
FILE_LEVEL_RULE = "DIDS075"
# A field longer than this is a broken record (an unterminated quote, or not a DID
# field at all); it also bounds the memory one broken record can take.
CSV_FIELD_LIMIT = 32 * 1024 * 1024
# No DID field is longer than 20 characters: a field longer than this is not a value
# (a runaway quote, binary data) and its record is quarantined (DIDS072 stays for a long
# accession number).
MAX_FIELD_LENGTH = 1000
# Problems listed by record in a file's message; the rest are counted.
LISTED_PROBLEMS = 5
OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}
NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes decoded with errors="surrogateescape"

csv.field_size_limit(CSV_FIELD_LIMIT)


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
    # Records quarantined at ingest (DIDS075): (record number, its fields as received).
    malformed_records: list[tuple[int, list[str]]] = field(default_factory=list)
    # Where and why, one per malformed record: "record 7 (line 9): unterminated quote".
    problems: list[str] = field(default_factory=list)
    # Read back from the record store rather than parsed and validated again.
    from_store: bool = False
    # Its path relative to the INPUT it came from (FoundFile), for the manifest.
    shown_as: str = ""
    # The bytes hashed (sha256 is of exactly these), and the lines among them.
    bytes_read: int = 0
    modified_ns: int = 0
    lines: int = 0
    # The day of the build: it stands in for a missing submission date in the rules
    # "not after the submission date" (DIDS051, DIDS066): a record cannot be from the
    # future of the day it is published.
    build_date: date | None = None
    # The member of a zip archive at `path` this submission is, if it is one.
    member: str | None = None

    @property
    def name(self) -> str:
        """The file's name; a zip member's is `archive.zip/member.csv`."""
        return self.path.name if self.member is None else f"{self.path.name}/{self.member}"

    @property
    def type(self) -> SubmissionType:
        return type_or_csv(self.member if self.member is not None else self.path.name)

    @property
    def read_by_python(self) -> bool:
        """Read from a stream by the project's own readers (XML, zip members, compressed
        Parquet), not from its path by the engine's reader."""
        return self.member is not None or self.type.streamed

    def open(self) -> IO[bytes]:
        """The submission's bytes, decompressed (a context manager)."""
        return open_bytes(self.path, self.member)

    @property
    def size(self) -> int:
        """Bytes read: what ingest batches are measured in (a zip member: its size
        unpacked)."""
        if self.member is not None:
            with zipfile.ZipFile(self.path) as archive:
                return archive.getinfo(self.member).file_size
        return self.bytes_read

    def check_unchanged(self) -> None:
        """Refuse a file that changed after it was hashed: the manifest's SHA-256 must be
        of the bytes read."""
        if not self.sha256:
            return  # never read (not a regular file)
        try:
            now = self.path.stat()
        except OSError as error:
            raise unreadable(self.path, error) from None
        size = now.st_size
        if size != self.bytes_read or (self.modified_ns and now.st_mtime_ns != self.modified_ns):
            raise InputError(
                f"{self.path}: changed while the build read it ({self.bytes_read:,} bytes "
                f"hashed, {size:,} now); build again once the file is complete"
            )


@dataclass(frozen=True)
class FoundFile:
    """A file to read, and how the manifest names it: its path relative to the INPUT
    folder it came from (`april/a.csv`), or its name when given as a file."""

    path: Path
    shown_as: str
    given: Path | None = None  # the INPUT folder it was found in (a file's own folder)
    in_folder: bool = False  # found in a folder, rather than named on the command line


def unreadable_type(found: FoundFile) -> str | None:
    """Why a file found in an input folder is not read, or None when it is. Which types
    are read is `publish.ingest.submission_files.submission_type`; a file of another type is
    rejected whole with this reason (never skipped), so every file of an input folder
    is read or listed. (A file named on the command line is read as CSV whatever its
    name.)"""
    if not found.in_folder or is_submission_name(found.path.name):
        return None
    suffixes = "".join(found.path.suffixes[-2:]).lower() or "no file extension"
    return (
        f"unsupported type ({suffixes}): submissions are CSV (.csv, .txt), Parquet "
        "(.parquet, .pq) or XML (.xml), each possibly .gz, or a .zip of them"
    )


def not_regular_file(path: Path) -> str | None:
    """Why `path` is not a regular file that can be read (a FIFO would hang a reader)."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        return cannot_be_read(error)
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "not a regular file (a named pipe)"
    return "not a regular file"


def is_inside(path: Path, folders: Sequence[Path]) -> Path | None:
    """The folder of `folders` that holds `path`, if any."""
    resolved = path.resolve()
    for folder in folders:
        if resolved == folder or folder in resolved.parents:
            return folder
    return None


def discover_input_files(inputs: Iterable[Path], excluded: Sequence[Path] = ()) -> list[FoundFile]:
    """Files named on the command line, and every file inside named folders.

    A folder is searched recursively; every file found is returned, whatever its type
    (an unreadable type or a file that is not regular is rejected whole later, with its
    reason). Not returned: a submissions manifest (header `file,submission_date`), and
    anything inside `excluded`, the build's own output, store and work folders, which
    would otherwise be read as submissions by the next build; each exclusion is said
    once.
    """
    excluded = [folder.resolve() for folder in excluded]
    found: dict[Path, FoundFile] = {}
    said: set[Path] = set()
    for path in inputs:
        try:
            if path.is_dir():
                for candidate in sorted(path.rglob("*")):
                    if candidate.is_dir():
                        continue
                    holder = is_inside(candidate, excluded)
                    if holder is not None:
                        if holder not in said:
                            log.info(
                                "%s: the build's own output or store, not read as input", holder
                            )
                            said.add(holder)
                        continue
                    if candidate.is_file() and is_submissions_manifest(candidate):
                        continue
                    shown = candidate.relative_to(path).as_posix()
                    found.setdefault(candidate, FoundFile(candidate, shown, path, True))
            elif path.exists() or path.is_symlink():
                found.setdefault(path, FoundFile(path, path.name, path.parent))
            else:
                raise InputError(f"{path}: no such file or folder")
        except OSError as error:
            raise unreadable(path, error) from None
    return sorted(distinct_names(found.values()), key=lambda f: (f.path.name, f.shown_as))


def distinct_names(found: Iterable[FoundFile]) -> list[FoundFile]:
    """Files two INPUTs both name alike (`a.csv` of `in1/` and of `in2/`) are named with
    their INPUT as given in front (`in1/a.csv`, `in2/a.csv`)."""
    found = list(found)
    counts: dict[str, int] = {}
    for item in found:
        counts[item.shown_as] = counts.get(item.shown_as, 0) + 1
    return [
        item
        if counts[item.shown_as] == 1 or item.given is None
        else FoundFile(item.path, (item.given / item.shown_as).as_posix(), item.given)
        for item in found
    ]


def is_submissions_manifest(path: Path) -> bool:
    if path.suffix.lower() != ".csv" or not_regular_file(path):
        return False
    with path.open("rb") as handle:
        first_line = handle.readline(200).decode("utf-8-sig", errors="replace")
    fields = [part.strip().lower() for part in first_line.strip().split(",")]
    return tuple(fields) == SUBMISSIONS_MANIFEST_HEADER


def read_submissions_manifest(path: Path) -> dict[str, date]:
    """`file,submission_date` rows -> {file name: date} (INPUT.md section 1)."""
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except Exception:  # polars raises several types for unreadable CSV
        raise InputError(f"{path}: cannot be read as a UTF-8 CSV submissions manifest") from None
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


def cannot_be_read(error: OSError) -> str:
    """Why a path could not be read, as the build says it (the system's reason)."""
    return f"cannot be read ({error.strerror or 'error'})"


def unreadable(path: Path, error: OSError) -> InputError:
    """The error that stops a build on a path it cannot read."""
    return InputError(f"{path}: {cannot_be_read(error)}")


@dataclass(frozen=True)
class FileDigest:
    """One pass over a file's bytes: their SHA-256, how many, and the lines among them
    (what DuckDB's count of records is checked against)."""

    sha256: str
    size: int
    lines: int
    modified_ns: int = 0  # the file's modification time when hashed


NEWLINE = ord("\n")


def digest_of(path: Path) -> FileDigest:
    digest = hashlib.sha256()
    size = newlines = 0
    last = b"\n"
    try:
        with path.open("rb") as handle:
            modified_ns = os.fstat(handle.fileno()).st_mtime_ns
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
                # numpy's comparison lets go of Python's lock, where bytes.count holds it:
                # the hashing threads would take turns (a national year: 7.1 s against 3.6 s).
                newlines += int(np.count_nonzero(np.frombuffer(block, np.uint8) == NEWLINE))
                last = block[-1:]
    except OSError as error:
        raise unreadable(path, error) from None
    return FileDigest(digest.hexdigest(), size, newlines + (last != b"\n"), modified_ns)


# Files hashed at once: hashlib and file reads release the GIL, so a build hashes its
# inputs on every core (every input is hashed in full, every build).
HASHING_THREADS = min(4, os.cpu_count() or 1)


def digest_all(paths: list[Path], checksum: Callable[[Path], FileDigest]) -> dict[Path, FileDigest]:
    """The digest of every path, several at once; an error is the first path's in order."""
    with ThreadPoolExecutor(HASHING_THREADS) as pool:
        return dict(zip(paths, pool.map(checksum, paths), strict=True))


def sha256_of(path: Path) -> str:
    """A file's SHA-256 alone (the store's own files: no lines to count)."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as error:
        raise unreadable(path, error) from None


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
        """,
    )
    create_input_files_table(con)


def create_input_files_table(con: duckdb.DuckDBPyConnection) -> None:
    run(
        con,
        """
        CREATE OR REPLACE TABLE input_files (
            file_id INTEGER PRIMARY KEY, source_file VARCHAR NOT NULL,
            submission_date DATE, file_order INTEGER NOT NULL, build_date DATE);
        """,
    )


def list_input_files(con: duckdb.DuckDBPyConnection, files: Sequence["InputFile"]) -> None:
    """A row of `input_files` per file: its name, submission date and resubmission order.

    Inserted as one frame: a prepared INSERT per row took 0.4 s for the demo's 2,317."""
    if files:
        listed = pl.DataFrame(
            {
                "file_id": [f.file_id for f in files],
                "source_file": [f.name for f in files],
                "submission_date": [f.submission_date for f in files],
                "file_order": [f.file_order for f in files],
                "build_date": [f.build_date for f in files],
            },
            schema={
                "file_id": pl.Int32,
                "source_file": pl.Utf8,
                "submission_date": pl.Date,
                "file_order": pl.Int32,
                "build_date": pl.Date,
            },
        )
        register_frame(con, "listed_input_files", listed)
        try:
            run(con, "INSERT INTO input_files BY NAME SELECT * FROM listed_input_files")
        finally:
            con.unregister("listed_input_files")


# Errors that reading a damaged file can raise from the libraries below us. A file that
# raises one is rejected whole, with the error's type and never its text (which can
# quote the offending line).
READ_ERRORS = (
    duckdb.Error,
    pl.exceptions.PolarsError,
    csv.Error,
    UnicodeError,
    ValueError,
    *DAMAGED_STREAM_ERRORS,
)


def register_files(
    paths: Sequence[Path | FoundFile],
    submission_dates: dict[str, date] | None = None,
    default_submission_date: date | None = None,
    first_file_id: int = 1,
    checksum: Callable[[Path], FileDigest] | None = None,
    build_date: date | None = None,
) -> list[InputFile]:
    """An InputFile per submission, with its checksum, submission date and resubmission
    order: one per path, or one per member of a zip archive (each with the archive's
    checksum: the file as received). A damaged archive is one file, rejected whole.

    A path that is not a regular file, or a file of a folder whose type is not read, is
    rejected whole here, unread (a named pipe would hang the reader)."""
    submission_dates = submission_dates or {}
    files: list[InputFile] = []
    found_files = [g if isinstance(g, FoundFile) else FoundFile(g, g.name) for g in paths]
    digests = digest_all(
        [f.path for f in found_files if not_regular_file(f.path) is None], checksum or digest_of
    )
    for found in found_files:
        path = found.path
        problem = not_regular_file(path)
        digest = FileDigest("", 0, 0) if problem else digests[path]
        members: list[str | None] = [None]
        rule_code = None if problem else FILE_LEVEL_RULE
        problem = problem or unreadable_type(found)
        if problem is None and type_or_csv(path.name).format == "zip":
            listing = list_archive(path)
            members, problem = (listing.members or [None]), listing.problem
        for member in members:
            input_file = InputFile(
                file_id=first_file_id + len(files),
                path=path,
                sha256=digest.sha256,
                submission_date=None,
                member=member,
                shown_as=found.shown_as if member is None else f"{found.shown_as}/{member}",
                bytes_read=digest.size,
                modified_ns=digest.modified_ns,
                build_date=build_date or date.today(),
            )
            # The lines of a plain CSV file, for the check of DuckDB's count.
            plain = member is None and input_file.type.format == "csv" and not input_file.type.gzip
            input_file.lines = digest.lines if plain else 0
            input_file.submission_date = submission_date_of(
                input_file, submission_dates, default_submission_date
            )
            if problem is not None:
                reject_file(input_file, problem, rule_code)
            elif member is not None and input_file.type.format == "zip":
                reject_file(input_file, "a zip inside a zip is not read", FILE_LEVEL_RULE)
            files.append(input_file)
    order_files(files)
    return files


def submission_date_of(
    input_file: InputFile, submission_dates: dict[str, date], default: date | None
) -> date | None:
    """A zip member's date: given for `archive.zip/member`, else for the member's own
    name, else for the archive."""
    names = [input_file.name]
    if input_file.member is not None:
        names += [Path(input_file.member).name, input_file.path.name]
    for name in names:
        if name in submission_dates:
            return submission_dates[name]
    return default


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[Path],
    submission_dates: dict[str, date] | None = None,
    default_submission_date: date | None = None,
    first_file_id: int = 1,
) -> list[InputFile]:
    """Load every file into `submission_records`; return what happened to each."""
    files = register_files(paths, submission_dates, default_submission_date, first_file_id)
    load_files(con, files)
    return files


def load_files(con: duckdb.DuckDBPyConnection, files: list[InputFile]) -> None:
    """Read registered files into `submission_records` and list them in `input_files`."""
    create_ingest_tables(con)
    csv_batches: dict[CsvLayout, list[InputFile]] = {}
    for input_file in files:
        if input_file.status == "rejected":  # at registration: a damaged archive
            continue
        if input_file.read_by_python:
            guarded(con, input_file, lambda f: insert_streamed(con, f))
        elif input_file.type.format == "parquet":
            guarded(con, input_file, lambda f: load_parquet(con, f))
        else:
            layout = guarded(con, input_file, sniff_csv_layout)
            if layout is not None and input_file.status != "rejected":
                csv_batches.setdefault(layout, []).append(input_file)
    for layout, batch in csv_batches.items():
        if not load_csv_batch(con, batch, layout):
            for input_file in batch:
                guarded(con, input_file, lambda f, layout=layout: load_csv(con, f, layout))
    quarantine_unusable_records(con, files)
    for input_file in files:
        finish_message(input_file)
    list_input_files(con, files)


def guarded(con: duckdb.DuckDBPyConnection, input_file: InputFile, action):
    """Run one file's ingest step; a damaged file is rejected, an unreadable path stops."""
    try:
        return action(input_file)
    except READ_ERRORS as error:  # before OSError: a damaged gzip stream is one
        reject_unreadable_file(con, input_file, error)
        return None
    except OSError as error:
        raise unreadable(input_file.path, error) from None


def reject_unreadable_file(
    con: duckdb.DuckDBPyConnection, input_file: InputFile, error: Exception
) -> None:
    """A file that failed in a way not foreseen: rejected whole, the build goes on."""
    run(con, "DELETE FROM submission_records WHERE file_id = ?", [input_file.file_id])
    input_file.malformed_records.clear()
    input_file.problems.clear()
    damaged = isinstance(error, DAMAGED_STREAM_ERRORS)
    if input_file.type.format == "csv" and not damaged:  # others: as counted
        try:
            input_file.records_received = count_csv_records(input_file, None)
        except (OSError, csv.Error, ValueError, *DAMAGED_STREAM_ERRORS):
            input_file.records_received = 0
    if damaged:
        message = "damaged compressed data (it cannot be decompressed to the end)"
    else:
        message = f"cannot be read ({type(error).__name__})"
    reject_file(input_file, message, FILE_LEVEL_RULE)
    log.debug("%s: %s while reading", input_file.name, type(error).__name__)


def reject_file(input_file: InputFile, message: str, rule_code: str | None = None) -> None:
    input_file.status = "rejected"
    input_file.rule_code = rule_code
    input_file.message = f"{input_file.name}: rejected: {message}"


def finish_message(input_file: InputFile) -> None:
    """The file's message for its malformed records: where each is, never a value."""
    if input_file.status != "loaded" or not input_file.malformed_records:
        return
    count = len(input_file.malformed_records)
    listed = "; ".join(input_file.problems[:LISTED_PROBLEMS])
    more = count - min(count, LISTED_PROBLEMS)
    input_file.message = (
        f"{input_file.name}: {count} malformed record(s) quarantined ({FILE_LEVEL_RULE}): "
        f"{listed}" + (f"; and {more} more" if more else "")
    )


# --------------------------------------------------------------------------- Parquet


def parquet_submission_columns(input_file: InputFile, names: list[str]) -> dict[str, str] | None:
    """The file's column for each of the 18 submission columns (matched by name, case and
    blanks aside), or None, the file rejected whole with what was found, when its columns
    are not exactly those: one check for every Parquet reader (DuckDB's, a stream's,
    Spark's)."""
    by_upper = {name.strip().upper(): name for name in names}
    missing = [name for name in SUBMISSION_COLUMNS if name not in by_upper]
    if missing or len(names) != len(SUBMISSION_COLUMNS):
        reject_file(
            input_file,
            f"{len(names)} columns found, the 18 submission columns are needed"
            + (f" (missing: {', '.join(missing)})" if missing else ""),
            FILE_LEVEL_RULE,
        )
        return None
    return by_upper


def load_parquet(con: duckdb.DuckDBPyConnection, input_file: InputFile) -> None:
    path = str(input_file.path)
    try:
        schema = rows(con, "DESCRIBE SELECT * FROM read_parquet(?)", [path])
        input_file.records_received = count_parquet_rows(con, path)
    except duckdb.Error:
        reject_file(input_file, "cannot be read as a Parquet file", FILE_LEVEL_RULE)
        return
    by_upper = parquet_submission_columns(input_file, [name for name, *_ in schema])
    if by_upper is None:
        return
    selected = ", ".join(
        f'CAST("{by_upper[name]}" AS VARCHAR) AS "{name}"' for name in SUBMISSION_COLUMNS
    )
    try:
        run(
            con,
            f"""
            INSERT INTO submission_records
            SELECT ?, file_row_number + 1, {selected}
            FROM read_parquet(?, file_row_number = true)
            """,
            [input_file.file_id, path],
        )
    except duckdb.Error:  # e.g. a damaged page, or text that is not UTF-8
        reject_file(
            input_file, "its records cannot be read (damaged, or text not UTF-8)", FILE_LEVEL_RULE
        )


def count_parquet_rows(con: duckdb.DuckDBPyConnection, path: str) -> int:
    return scalar(con, "SELECT count(*) FROM read_parquet(?)", [path])


# --------------------------------------------------------------------------- CSV records


@dataclass(frozen=True)
class CsvRecord:
    """One non-empty record of a CSV file as parsed, or the first line of a broken one."""

    line: int  # the record's first physical line, 1-based
    fields: list[str]  # as parsed; bytes that are not UTF-8 are lone surrogates
    problem: str | None = None  # why it cannot be parsed (never a value)


class _PhysicalLines:
    """The lines of a text file for csv.reader, able to hand back the lines of a record.

    When a record turns out to be broken, every line it took but the first is given
    back, so that reading starts again on the line after the broken record began.
    """

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._given_back: list[str] = []  # a stack: the next line is the last item
        self._taken: list[str] = []
        self.consumed = 0  # lines of the records already read

    def __iter__(self) -> "_PhysicalLines":
        return self

    def __next__(self) -> str:
        line = self._given_back.pop() if self._given_back else next(self._lines)
        self._taken.append(line)
        return line

    def record_read(self) -> None:
        self.consumed += len(self._taken)
        self._taken = []

    def record_broken(self) -> str:
        """Give back all but the first line of the broken record; return that line."""
        first, *rest = self._taken or [""]
        self._given_back.extend(reversed(rest))
        self._taken = []
        self.consumed += 1
        return first


def describe_csv_problem(error: csv.Error) -> str:
    """What csv.reader found, in words (its own text is not passed on)."""
    text = str(error)
    if "unexpected end of data" in text:
        return "unterminated quote (the quoted field runs to the end of the file)"
    if "expected after" in text:
        return "stray or unmatched quote (text follows a closing quote)"
    if "field larger than field limit" in text:
        return f"a field longer than {CSV_FIELD_LIMIT:,} characters"
    if "NUL" in text:
        return "a NUL character"
    return "cannot be parsed as CSV"


def split_leniently(line: str) -> list[str]:
    """The fields of one line of a broken record, for the quarantine, as best they go."""
    try:
        return next(csv.reader([line.rstrip("\r\n")], strict=False), [])
    except csv.Error:
        return [line.rstrip("\r\n")]


def open_source(source: "Path | InputFile") -> IO[bytes]:
    """The bytes of a submission (an InputFile: decompressed) or of a plain path."""
    return source.open() if isinstance(source, InputFile) else source.open("rb")


def read_csv_records(path: "Path | InputFile") -> Iterator[CsvRecord]:
    """Every non-empty record of a CSV file (header included), in order, never failing.

    RFC 4180 with strict quoting. Blank lines are skipped. A record that cannot be parsed
    is returned with its `problem` and its first line split as well as it goes, and
    reading goes on from the next line. Bytes that are not UTF-8 are kept as lone
    surrogates (errors="surrogateescape") for the caller to find.
    """
    with (
        open_source(path) as raw,
        io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle,
    ):
        lines = _PhysicalLines(iter(handle))
        reader = csv.reader(lines, strict=True)
        while True:
            first_line = lines.consumed + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raw = lines.record_broken()
                reader = csv.reader(lines, strict=True)
                yield CsvRecord(first_line, split_leniently(raw), describe_csv_problem(error))
                continue
            lines.record_read()
            if fields:
                yield CsvRecord(first_line, fields)


def field_problem(fields: Sequence[str], names: Sequence[str]) -> str | None:
    """A field that is not UTF-8 or holds a NUL, named by number and column."""
    for index, value in enumerate(fields):
        name = f" ({names[index]})" if index < len(names) else ""
        if NOT_UTF8.search(value):
            return f"field {index + 1}{name} is not valid UTF-8"
        if "\x00" in value:
            return f"field {index + 1}{name} holds a NUL character"
        if len(value) > MAX_FIELD_LENGTH:
            return f"field {index + 1}{name} is longer than {MAX_FIELD_LENGTH:,} characters"
    return None


def as_received(value: str) -> str:
    """A field for the quarantine: bytes that are not UTF-8 shown as U+FFFD."""
    if NOT_UTF8.search(value):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def count_csv_records(path: "Path | InputFile", has_header: bool | None) -> int:
    """Records in a file, counted as the slow path numbers them (a header not counted;
    has_header None: a first record naming a submission column is the header)."""
    count = 0
    for count, csv_record in enumerate(read_csv_records(path), start=1):  # noqa: B007
        if count == 1 and has_header is None:
            has_header = looks_like_header(csv_record.fields)
    return max(count - (1 if has_header else 0), 0)


# --------------------------------------------------------------------------- CSV files


@dataclass(frozen=True)
class CsvLayout:
    has_header: bool
    column_names: tuple[str, ...]  # in file order


def binary_content(head: bytes) -> str | None:
    """Why the start of a file shows it is not a UTF-8 CSV file, or None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 encoded; save it as CSV UTF-8"
    if head.startswith(b"PK\x03\x04"):
        return "a zip file or Excel workbook, not CSV; save it as CSV UTF-8"
    if head.count(b"\x00") > len(head) // 10:
        return "binary content (or UTF-16 without a byte order mark), not a UTF-8 CSV file"
    return None


def count_utf16_records(source: "Path | InputFile") -> int:
    """Records of a UTF-16 file, so that a file rejected for its encoding is still counted."""
    with open_source(source) as handle:
        text = handle.read().decode("utf-16", errors="replace")
    records = [fields for fields in csv.reader(io.StringIO(text, newline="")) if fields]
    return max(len(records) - (1 if records and looks_like_header(records[0]) else 0), 0)


# A first record naming at least this many submission columns is a header: a data value
# that happens to be a column name ("POSTCODE") does not make one.
HEADER_MIN_NAMES = 3


def looks_like_header(fields: Sequence[str]) -> bool:
    """The record names submission columns (also when split by another delimiter)."""
    names = {part.strip().upper() for value in fields for part in re.split(r"[,;\t|]", value)}
    return len(names & set(SUBMISSION_COLUMNS)) >= HEADER_MIN_NAMES


def delimiter_hint(fields: Sequence[str]) -> str:
    text = ",".join(fields)
    for delimiter, words in OTHER_DELIMITERS.items():
        if text.count(delimiter) >= len(SUBMISSION_COLUMNS) - 1:
            return f"; the values look separated by {words}: use commas"
    return ""


def sniff_csv_layout(input_file: InputFile) -> CsvLayout | None:
    """Header or not, and the column order, from the first record. None: no records to load
    (the file is empty, or rejected whole)."""
    with input_file.open() as handle:
        head = handle.read(1 << 16)
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        input_file.message = f"{input_file.name}: empty file, no records"
        return None
    binary = binary_content(head)
    if binary:
        if binary.startswith("UTF-16"):
            input_file.records_received = count_utf16_records(input_file)
        reject_file(input_file, binary, FILE_LEVEL_RULE)
        return None
    first = next(read_csv_records(input_file), None)
    if first is None:
        input_file.message = f"{input_file.name}: empty file, no records"
        return None
    if first.problem:
        input_file.records_received = count_csv_records(input_file, False)
        reject_file(
            input_file,
            f"the first record (line {first.line}) cannot be read: {first.problem}",
            FILE_LEVEL_RULE,
        )
        return None
    fields = first.fields
    names = [value.strip().upper() for value in fields]
    has_header = looks_like_header(fields)
    if len(fields) != len(SUBMISSION_COLUMNS):
        input_file.records_received = count_csv_records(input_file, has_header)
        where = "in the header" if has_header else f"in record 1 (line {first.line})"
        reject_file(
            input_file,
            f"{len(fields)} column{'s' if len(fields) != 1 else ''} found {where}, "
            f"18 are needed{delimiter_hint(fields)}",
            FILE_LEVEL_RULE,
        )
        return None
    if has_header:
        unknown = [name for name in names if name not in SUBMISSION_COLUMNS]
        missing = [name for name in SUBMISSION_COLUMNS if name not in names]
        if unknown or missing or len(set(names)) != len(names):
            input_file.records_received = count_csv_records(input_file, True)
            reject_file(
                input_file,
                "header does not name the 18 submission columns"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + ("; a column is named twice" if len(set(names)) != len(names) else ""),
                FILE_LEVEL_RULE,
            )
            return None
        return CsvLayout(True, tuple(names))
    return CsvLayout(False, SUBMISSION_COLUMNS)


def read_csv_call(layout: CsvLayout, files_parameter: str) -> str:
    """DuckDB's strict CSV reader for the layout: every column text, nothing guessed."""
    columns = (
        "{" + ", ".join(f"{quote_literal(name)}: 'VARCHAR'" for name in layout.column_names) + "}"
    )
    return (
        f"read_csv({files_parameter}, header = {str(layout.has_header).lower()}, "
        f"columns = {columns}, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        "strict_mode = true, null_padding = false, encoding = 'utf-8', filename = true)"
    )


def load_csv_batch(
    con: duckdb.DuckDBPyConnection, batch: list[InputFile], layout: CsvLayout
) -> bool:
    """Fast path: all the files of one layout in one parallel DuckDB scan.

    DuckDB keeps insertion order (`preserve_insertion_order`), so the rows land in file
    order and, within a file, in record order: a record's number is its row id less its
    file's first row id. (Numbering in the scan, with row_number() OVER (), would force
    the insert onto one thread and cost twice the read.) If any file is malformed the
    statement fails and changes nothing, and False sends every file of the batch down
    the one-file path, where the broken one is found and handled.
    """
    if len(batch) < 2:
        return False
    paths = [str(f.path) for f in batch]
    con.register(
        "batch_files", pl.DataFrame({"path": paths, "file_id": [f.file_id for f in batch]})
    )
    selected = ", ".join(f'r."{name}"' for name in SUBMISSION_COLUMNS)
    try:
        run(
            con,
            f"""
            INSERT INTO submission_records
            SELECT m.file_id, 0, {selected}
            FROM {read_csv_call(layout, "$files")} AS r
            JOIN batch_files AS m ON m.path = r.filename
            """,
            {"files": paths},
        )
        run(
            con,
            """
            UPDATE submission_records
            SET row_number = submission_records.rowid - first.row_id + 1
            FROM (SELECT file_id, min(rowid) AS row_id FROM submission_records
                  WHERE row_number = 0 GROUP BY file_id) AS first
            WHERE submission_records.file_id = first.file_id
              AND submission_records.row_number = 0
            """,
        )
        counts = dict(
            rows(
                con,
                "SELECT file_id, count(*) FROM submission_records "
                "WHERE file_id IN (SELECT file_id FROM batch_files) GROUP BY file_id",
            )
        )
    except duckdb.Error:  # its text quotes the line: not passed on
        run(con, "DELETE FROM submission_records WHERE row_number = 0")
        return False
    finally:
        con.unregister("batch_files")
    for input_file in batch:
        input_file.records_received = counts.get(input_file.file_id, 0)
        if not count_is_whole(input_file, layout):
            run(con, "DELETE FROM submission_records WHERE file_id = ?", [input_file.file_id])
            guarded(con, input_file, lambda f: load_csv_record_by_record(con, f, layout))
    return True


def count_is_whole(input_file: InputFile, layout: CsvLayout) -> bool:
    """DuckDB's count of a file's records matches its lines (less a header).

    DuckDB's reader can drop a record silently (a line of tens of megabytes: seen with
    DuckDB 2.0). A file whose count falls short of its lines is read again by the
    project's own reader, which counts and quarantines every record; blank lines or a
    quoted line break send a good file there too, at the cost of speed only.
    """
    if not input_file.lines:
        return True
    return input_file.records_received == input_file.lines - int(layout.has_header)


def load_csv(con: duckdb.DuckDBPyConnection, input_file: InputFile, layout: CsvLayout) -> None:
    """One file on its own: a single file, or each file of a batch that failed."""
    selected = ", ".join(f'"{name}"' for name in SUBMISSION_COLUMNS)
    try:
        inserted = rows(
            con,
            f"""
            INSERT INTO submission_records
            SELECT ?, row_number() OVER (), {selected}
            FROM {read_csv_call(layout, "?")}
            """,
            [input_file.file_id, str(input_file.path)],
        )
    except duckdb.Error:  # its text quotes the line: not passed on
        load_csv_record_by_record(con, input_file, layout)
        return
    input_file.records_received = inserted[0][0]  # DuckDB returns the rows inserted
    if not count_is_whole(input_file, layout):
        run(con, "DELETE FROM submission_records WHERE file_id = ?", [input_file.file_id])
        load_csv_record_by_record(con, input_file, layout)


def load_csv_record_by_record(
    con: duckdb.DuckDBPyConnection, input_file: InputFile, layout: CsvLayout
) -> None:
    """Slow path for a damaged file: keep every good record, quarantine each bad one."""
    for chunk in csv_record_chunks(input_file, layout):
        insert_chunk(con, chunk)


# Records per frame handed to the engine by the Python readers: memory stays bounded.
CHUNK_RECORDS = 100_000
RECORD_SCHEMA = [("file_id", pl.Int32), ("row_number", pl.Int64)] + [
    (name, pl.Utf8) for name in SUBMISSION_COLUMNS
]


def insert_chunk(con: duckdb.DuckDBPyConnection, chunk: pl.DataFrame) -> None:
    con.register("streamed_records", chunk)
    try:
        run(con, "INSERT INTO submission_records SELECT * FROM streamed_records")
    finally:
        con.unregister("streamed_records")


def csv_record_chunks(input_file: InputFile, layout: CsvLayout) -> Iterator[pl.DataFrame]:
    """The good records of a CSV file read by Python's csv module, in chunks; each bad
    one is kept in `malformed_records`, with where and why in `problems`."""
    good_rows: list[list[object]] = []
    width = len(SUBMISSION_COLUMNS)
    positions = [layout.column_names.index(name) for name in SUBMISSION_COLUMNS]
    records = read_csv_records(input_file)
    if layout.has_header:
        next(records, None)
    row_number = 0
    for csv_record in records:
        row_number += 1
        fields = csv_record.fields
        where = f"record {row_number} (line {csv_record.line})"
        problem = csv_record.problem
        if problem is None and len(fields) != width:
            problem = f"{len(fields)} fields, 18 needed"
        if problem is None:
            problem = field_problem(fields, layout.column_names)
            if problem is None:
                good_rows.append(
                    [input_file.file_id, row_number]
                    + [fields[p] if fields[p] != "" else None for p in positions]
                )
                if len(good_rows) >= CHUNK_RECORDS:
                    yield pl.DataFrame(good_rows, schema=RECORD_SCHEMA, orient="row")
                    good_rows = []
                continue
            fields = [fields[p] for p in positions]  # the 18 columns, in order
        input_file.malformed_records.append((row_number, [as_received(v) for v in fields]))
        input_file.problems.append(f"{where}: {problem}")
    input_file.records_received = row_number
    if good_rows:
        yield pl.DataFrame(good_rows, schema=RECORD_SCHEMA, orient="row")


# --------------------------------------------------------------------------- streamed


def streamed_records(input_file: InputFile) -> Iterator[pl.DataFrame]:
    """The records of a file read from a stream by Python (`InputFile.read_by_python`),
    in chunks with the columns of `submission_records`, the same for either engine.

    Sets `records_received`; an XML file that cannot be read raises `MalformedXml`
    (the caller drops the chunks taken and rejects the file whole).
    """
    kind = input_file.type.format
    if kind == "xml":
        input_file.records_received = 0
        with contextlib.ExitStack() as opened:
            # A plain file by its name: libxml2 reads it itself, about a quarter faster
            # than through a Python stream.
            plain = input_file.member is None and not input_file.type.gzip
            source = str(input_file.path) if plain else opened.enter_context(input_file.open())
            for chunk in read_xml_records(source, input_file.file_id):
                input_file.records_received += chunk.height
                yield chunk
    elif kind == "parquet":
        chunk = parquet_from_stream(input_file)
        if chunk is not None:
            yield chunk
    else:
        layout = sniff_csv_layout(input_file)
        if layout is not None and input_file.status != "rejected":
            yield from csv_record_chunks(input_file, layout)


def insert_streamed(con: duckdb.DuckDBPyConnection, input_file: InputFile) -> None:
    """A file read by Python into `submission_records`; malformed XML is rejected whole."""
    try:
        for chunk in streamed_records(input_file):
            insert_chunk(con, chunk)
    except MalformedXml as error:
        run(con, "DELETE FROM submission_records WHERE file_id = ?", [input_file.file_id])
        input_file.records_received = error.activities_seen
        reject_file(input_file, str(error), FILE_LEVEL_RULE)


def parquet_from_stream(input_file: InputFile) -> pl.DataFrame | None:
    """A compressed or zipped Parquet file: read whole in memory (Parquet needs to seek;
    it is compressed already, so such files are rare and small)."""
    import pyarrow.parquet as pq

    try:
        with input_file.open() as stream:
            table = pq.read_table(io.BytesIO(stream.read()))
    except (OSError, ValueError) as error:
        if isinstance(error, DAMAGED_STREAM_ERRORS):
            raise
        reject_file(input_file, "cannot be read as a Parquet file", FILE_LEVEL_RULE)
        return None
    input_file.records_received = table.num_rows
    by_upper = parquet_submission_columns(input_file, table.column_names)
    if by_upper is None:
        return None
    frame = pl.from_arrow(table)
    return frame.select(
        pl.lit(input_file.file_id, pl.Int32).alias("file_id"),
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("row_number"),
        *[pl.col(by_upper[name]).cast(pl.Utf8).alias(name) for name in SUBMISSION_COLUMNS],
    )


def quarantine_unusable_records(con: duckdb.DuckDBPyConnection, files: list[InputFile]) -> None:
    """Move records with a NUL character or an overlong field to the quarantine.

    DuckDB's reader (and Parquet) keep NULs as data; no DID field holds one, and tools
    downstream may cut a value short at it. One pass over every file's records; the slow
    path has already quarantined the ones it read.
    """
    unusable = " OR ".join(
        f'(contains("{name}", chr(0)) OR length("{name}") > {MAX_FIELD_LENGTH})'
        for name in SUBMISSION_COLUMNS
    )
    columns = ", ".join(f'"{name}"' for name in SUBMISSION_COLUMNS)
    found = rows(
        con,
        f"SELECT file_id, row_number, {columns} FROM submission_records "
        f"WHERE {unusable} ORDER BY file_id, row_number",
    )
    if not found:
        return
    run(con, f"DELETE FROM submission_records WHERE {unusable}")
    by_id = {input_file.file_id: input_file for input_file in files}
    for file_id, row_number, *values in found:
        input_file = by_id[file_id]
        fields = [value or "" for value in values]
        input_file.malformed_records.append((row_number, fields))
        input_file.problems.append(
            f"record {row_number}: {field_problem(fields, SUBMISSION_COLUMNS)}"
        )
    for input_file in files:
        input_file.malformed_records.sort(key=lambda item: item[0])
