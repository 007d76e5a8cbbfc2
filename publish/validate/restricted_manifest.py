"""The restricted folder's manifest: every file's size and record accounting.

What only the producer may see (PUBLICATION.md section 5): received = accepted +
rejected per file, and the unprotected totals; and its `files.csv`, the same per file. Kept apart from the public manifest
(`publish.render.manifest`), which never sees a record outcome.
"""

from pathlib import Path

import polars as pl

from publish import __version__
from publish.csv_files import write_csv
from publish.ingest.load import InputFile
from publish.validate.rules import FileOutcome


def build_restricted_manifest(
    identifier: str, files: list[InputFile], outcomes: dict[int, FileOutcome]
) -> dict:
    """What only the producer may see: every file's size and the accounting of its
    records (received = accepted + rejected), and the unprotected totals."""
    inputs = []
    for input_file in sorted(files, key=lambda f: f.file_order):
        outcome = outcomes[input_file.file_id]
        inputs.append(
            {
                "file": input_file.shown_as or input_file.name,
                "sha256": input_file.sha256,
                "size_bytes": file_size(input_file),
                "submission_date": (
                    input_file.submission_date.isoformat() if input_file.submission_date else None
                ),
                "status": input_file.status,
                "message": input_file.message,
                "records_received": outcome.received,
                "records_accepted": outcome.accepted,
                "records_rejected": outcome.rejected,
                "records_warned": outcome.warned,
                "records_superseded": outcome.superseded,
            }
        )
    return {
        "tool": "did-publish",
        "version": __version__,
        "identifier": identifier,
        "totals": {
            key: sum(getattr(o, key) for o in outcomes.values())
            for key in ("received", "accepted", "rejected", "warned", "superseded")
        },
        "inputs": inputs,
        "audit": "disclosure-audit.csv",
    }


def file_size(input_file: InputFile) -> int | None:
    """The file's size in bytes (None for records read from a Spark table)."""
    try:
        return input_file.size
    except OSError:
        return None


def restricted_files_report(
    files: list[InputFile], outcomes: dict[int, FileOutcome]
) -> pl.DataFrame:
    """Per file, for the producer only: size and what became of every record."""
    rows = [
        {
            "source_file": f.name,
            "status": f.status,
            "size_bytes": file_size(f),
            "submission_date": f.submission_date.isoformat() if f.submission_date else "",
            "records_received": outcomes[f.file_id].received,
            "records_accepted": outcomes[f.file_id].accepted,
            "records_rejected": outcomes[f.file_id].rejected,
            "records_warned": outcomes[f.file_id].warned,
            "records_superseded": outcomes[f.file_id].superseded,
            "message": f.message or "",
        }
        for f in sorted(files, key=lambda f: f.file_order)
    ]
    counts = {
        c: pl.Int64
        for c in (
            "size_bytes",
            "records_received",
            "records_accepted",
            "records_rejected",
            "records_warned",
            "records_superseded",
        )
    }
    schema = {
        "source_file": pl.Utf8,
        "status": pl.Utf8,
        "size_bytes": pl.Int64,
        "submission_date": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema | counts | {"message": pl.Utf8})


def write_restricted_files(
    files: list[InputFile], outcomes: dict[int, FileOutcome], restricted_dir: Path
) -> None:
    """`<restricted>/files.csv`: every file's size and record accounting."""
    restricted_dir.mkdir(parents=True, exist_ok=True)
    write_csv(restricted_files_report(files, outcomes), restricted_dir / "files.csv")
