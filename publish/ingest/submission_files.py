"""Which files are submissions, and how the bytes of each are reached: one place.

A submission is CSV, Parquet or XML (`DIDS-v1-0`, read by `publish.ingest.xml_reader`), any of
them gzip-compressed (`.csv.gz`, `.xml.gz`, `.parquet.gz`), or a member of a `.zip`
whose every member is a submission of its own (INPUT.md section 1). The file's name
says which: `submission_type` is the one mapping from a name to a type, used by input
discovery (`publish.ingest.load.discover_input_files`), by registration (a zip becomes one
submission per member) and by the readers.

Compressed files are read in place, as streams: nothing is unpacked beside the
inputs (or anywhere else). The record store and the manifest hash the file as
received (the `.gz`, or the whole `.zip`: each member is named `archive.zip/member`).
"""

import gzip
import shutil
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Literal

Format = Literal["csv", "parquet", "xml", "zip"]

# Name suffix (lower case) -> format. Anything else in a folder is not a submission; a
# file named on the command line with another suffix is read as CSV.
FORMAT_SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xml": "xml",
    ".zip": "zip",
}
GZIP_SUFFIX = ".gz"
# Errors of a damaged compressed stream, found while reading it. (`gzip.BadGzipFile` is
# an OSError: callers must catch these before OSError, which means a path unreadable.)
DAMAGED_STREAM_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error, zipfile.BadZipFile)
# Entries of a zip that are not members: folders and macOS resource forks.
NOT_MEMBERS = ("__MACOSX/",)


@dataclass(frozen=True)
class SubmissionType:
    format: Format
    gzip: bool = False

    @property
    def streamed(self) -> bool:
        """Read by the project's Python readers from a stream, rather than by the engine's
        own reader from the path (DuckDB and Spark read plain and gzip CSV themselves)."""
        return self.format == "xml" or (self.format == "parquet" and self.gzip)


CSV = SubmissionType("csv")


def submission_type(name: str) -> SubmissionType | None:
    """What a file's name says it is; None when it is not a submission file type."""
    lower = PurePosixPath(name).name.lower()
    compressed = lower.endswith(GZIP_SUFFIX)
    if compressed:
        lower = lower[: -len(GZIP_SUFFIX)]
    found = FORMAT_SUFFIXES.get(PurePosixPath(lower).suffix)
    if found is None or (compressed and found == "zip"):
        return None
    return SubmissionType(found, compressed)


def is_submission_name(name: str) -> bool:
    return submission_type(name) is not None


def type_or_csv(name: str) -> SubmissionType:
    """The type of a file given by name whatever its suffix: CSV unless it says otherwise."""
    return submission_type(name) or CSV


@dataclass(frozen=True)
class ArchiveListing:
    members: list[str]
    problem: str | None = None  # why the archive cannot be read (then no members)


def list_archive(path: Path) -> ArchiveListing:
    """The members of a zip, in archive order, each checked whole (CRC) before any is
    read: a damaged archive is rejected whole, never half loaded."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                info.filename
                for info in archive.infolist()
                if not info.is_dir() and not info.filename.startswith(NOT_MEMBERS)
            ]
            bad = archive.testzip()
    except (*DAMAGED_STREAM_ERRORS, NotImplementedError, RuntimeError, ValueError):
        return ArchiveListing([], "not a readable zip archive (damaged or incomplete)")
    if bad is not None:
        return ArchiveListing([], "a damaged zip archive (a member fails its check)")
    if not members:
        return ArchiveListing([], "a zip archive with no files in it")
    return ArchiveListing(members)


@contextmanager
def open_bytes(path: Path, member: str | None = None) -> Iterator[IO[bytes]]:
    """The submission's bytes, decompressed, as a stream: a plain or gzip file, or a
    member of a zip (itself possibly gzip)."""
    name = member if member is not None else path.name
    compressed = name.lower().endswith(GZIP_SUFFIX)
    with (
        zipfile.ZipFile(path) if member is not None else _no_archive() as archive,
        archive.open(member) if archive is not None else path.open("rb") as raw,
    ):
        if compressed:
            with gzip.GzipFile(fileobj=raw, mode="rb") as unpacked:
                yield unpacked
        else:
            yield raw


@contextmanager
def _no_archive() -> Iterator[None]:
    yield None


def copy_as_received(path: Path, member: str | None, target: Path) -> None:
    """A copy of the submission as it was received (a zip member: its bytes as stored
    in the archive, uncompressed by the zip but not by any gzip of its own). The caller
    makes `target` safe (`publish.validate.rules.inside`: a member `../x` stays inside)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if member is None:
        shutil.copyfile(path, target)
        return
    with zipfile.ZipFile(path) as archive, archive.open(member) as source, target.open("wb") as out:
        shutil.copyfileobj(source, out)
