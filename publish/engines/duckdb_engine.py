"""The DuckDB engine: the build's SQL in process, each file read once through the record
store.

New files are read, validated and derived in batches of bounded size, and each file's
share of the tables is kept in the store (`--store`, else one in the build's work
folder); files it already holds, validated under the same submission date and
reference data, are not read again. What counts is then made from the store in one call
(`RecordStore.counted`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from publish import db
from publish.db import run
from publish.folders import kill_point
from publish.ingest.load import InputFile, create_ingest_tables, load_files, register_files
from publish.progress import Progress, stage
from publish.stage_tables import check_stage
from publish.store.record_store import STORED_TABLES, RecordStore, reference_digest
from publish.validate.rules import derive_records, validate_records

if TYPE_CHECKING:
    from publish.config import BuildConfig

# New files go through ingest, validation and derivation in batches of about this many
# bytes of input, so that memory is bounded whatever the number of files (a national
# month of CSV is about 700 MB).
INGEST_BATCH_BYTES = 256 * 1024 * 1024


class DuckDBEngine:
    """`publish.engines.Engine` on DuckDB."""

    def connect(self, config: BuildConfig, work_dir: Path) -> duckdb.DuckDBPyConnection:
        return db.connect(config.memory_limit, work_dir / "spill")

    def ingest(
        self,
        con: duckdb.DuckDBPyConnection,
        config: BuildConfig,
        work_dir: Path,
        paths: list[Path],
        submission_dates: dict,
    ) -> list[InputFile]:
        store = RecordStore(
            config.store or work_dir / "store",
            reference_digest(config.sites, config.imaging_codes, config.practices),
            records_in_memory=config.store is None,  # the build's own store, gone after it
        )
        files = register_files(paths, submission_dates, config.submission_date)
        stored, new = store.split(files)
        make_empty_tables(con)
        with Progress(len(files), sum(f.size for f in new)) as progress:
            progress.reused(len(stored))
            for batch in batches(new, INGEST_BATCH_BYTES):
                load_files(con, batch)
                for input_file in batch:
                    input_file.check_unchanged()
                validate_records(con)
                derive_records(con)
                store.save(con, batch)
                progress.ingested(batch)
                kill_point("ingest")
        run(con, "DROP TABLE IF EXISTS submission_records; DROP TABLE IF EXISTS checked_records")
        check_stage(con, "ingest")
        with stage("resolve", "resubmissions: what counts of every file's records"):
            store.counted(con, files, {f.file_id for f in new})
        check_stage(con, "resolve")
        return files


def make_empty_tables(con: duckdb.DuckDBPyConnection) -> None:
    """`<table>_empty` for each table the store keeps: the schema when no file has rows."""
    create_ingest_tables(con)
    validate_records(con)
    derive_records(con)
    for table in STORED_TABLES.values():
        run(con, f"CREATE OR REPLACE TABLE {table}_empty AS FROM {table} LIMIT 0")


def batches(files: list[InputFile], limit: int) -> Iterator[list[InputFile]]:
    """Consecutive groups of files of at most `limit` bytes (or one larger file)."""
    batch: list[InputFile] = []
    size = 0
    for input_file in files:
        if batch and size + input_file.size > limit:
            yield batch
            batch, size = [], 0
        batch.append(input_file)
        size += input_file.size
    if batch:
        yield batch
