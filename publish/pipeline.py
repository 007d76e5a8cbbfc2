"""The monthly build, read top to bottom as the publication process.

ingest -> validate -> derive -> aggregate -> protect -> render -> write manifest.
Each stage is a module of its own; this file only puts them in order.
"""

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from publish import db
from publish.aggregate import aggregate_tables
from publish.audit import audit_publication
from publish.config import BuildConfig
from publish.db import frame, run, scalar
from publish.engines import require_spark
from publish.ingest import (
    InputError,
    InputFile,
    create_ingest_tables,
    discover_input_files,
    load_files,
    read_submissions_manifest,
    register_files,
)
from publish.manifest import build_manifest, write_manifest
from publish.progress import Progress
from publish.protect import protect_cells
from publish.publication import Publication, months_of_year_to_date
from publish.quality import write_quality_report
from publish.reference import ReferenceFiles, load_reference_data
from publish.site import write_site
from publish.store import STORED_TABLES, RecordStore, reference_digest
from publish.tidy import add_names, to_tidy, write_datapackage, write_tidy_csv
from publish.validate import (
    FileOutcome,
    count_what_counts,
    derive_records,
    file_outcomes,
    resolve_resubmissions,
    validate_records,
    write_restricted,
)
from publish.workbook import load_cover_text, write_workbook

log = logging.getLogger("did_publish")


@dataclass
class BuildResult:
    publication: Publication
    publication_dir: Path
    restricted_dir: Path
    files: list[InputFile]
    outcomes: dict[int, FileOutcome]
    audit_summary: str = ""


NOT_PROTECTED = (
    "WARNING: secondary_suppression = false: this publication is NOT protected "
    "(primary suppression alone, for testing the audit and attackers; do not release it)."
)


class DisclosureAuditFailed(Exception):
    """The strict policy's audit found a cell that can be recovered or narrowed."""


# New files go through ingest, validation and derivation in batches of about this many
# bytes of input, so that memory is bounded whatever the number of files (a national
# month of CSV is about 700 MB).
INGEST_BATCH_BYTES = 256 * 1024 * 1024


@contextmanager
def build_session(config: BuildConfig) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """A connection and a private working folder beside the output, both gone after.

    The folder holds DuckDB's spill files and, without `--store`, the build's own record
    store: record-level data stays beside the restricted folder, never in the current
    directory or a shared temporary one.
    """
    config.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".did-work-", dir=config.out_dir) as folder:
        work_dir = Path(folder)
        con = connect(config, work_dir)
        try:
            yield con, work_dir
        finally:
            con.close()


def connect(config: BuildConfig, work_dir: Path) -> duckdb.DuckDBPyConnection:
    if config.engine == "spark":  # the same SQL on a SparkSession (docs/spark.md)
        require_spark()
        from publish.engines.spark import connect_spark

        return connect_spark(config)
    return db.connect(config.memory_limit, work_dir / "spill")


def ingest_and_validate(
    con: duckdb.DuckDBPyConnection, config: BuildConfig, work_dir: Path
) -> list[InputFile]:
    """Stages 1-3: read, check and derive every record of the inputs.

    Each file's derived share is kept in the record store (`--store`, else one in the
    work folder for this build): files it already holds, validated under the same
    submission date and reference data, are not read again. The tables of later stages
    are then made from the store: see `publish.store`.
    """
    submission_dates = read_submissions_manifest(config.submissions) if config.submissions else {}
    if config.submissions is None and config.submission_date is None:
        log.warning(
            "no submission dates given: rules DIDS049, DIDS051, DIDS055 and DIDS066 not applied"
        )
    if config.spark_table:  # the records are in a Spark table, not in files
        files = con.load_table(config.spark_table, submission_dates, config.submission_date)
        return check_and_derive(con, files)
    paths = discover_input_files(config.inputs)
    if not paths:
        raise InputError("no submission files found in the inputs given")
    if config.engine == "spark":  # Spark keeps its tables; no store, no batches
        files = register_files(paths, submission_dates, config.submission_date)
        con.load_files(files)
        return check_and_derive(con, files)
    store = RecordStore(
        config.store or work_dir / "store", reference_digest(config.sites, config.imaging_codes)
    )
    files = register_files(paths, submission_dates, config.submission_date, checksum=store.checksum)
    store.save_checksums()
    stored, new = store.split(files)
    make_empty_tables(con)
    with Progress(len(files), sum(f.size for f in new)) as progress:
        progress.reused(len(stored))
        for batch in batches(new, INGEST_BATCH_BYTES):
            load_files(con, batch)
            validate_records(con)
            derive_records(con)
            store.save(con, batch)
            progress.ingested(batch)
        run(con, "DROP TABLE IF EXISTS submission_records; DROP TABLE IF EXISTS checked_records")
        store.load(con, files, {f.file_id for f in new})
        store.resolve(con, files)
        if not store.read_counted(con, files):
            count_what_counts(con)
            store.save_counted(con, files)
    return files


def check_and_derive(con: duckdb.DuckDBPyConnection, files: list[InputFile]) -> list[InputFile]:
    """Validation, derivation and resubmissions on tables already loaded (Spark)."""
    validate_records(con)
    derive_records(con)
    resolve_resubmissions(con)
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


def latest_month(con: duckdb.DuckDBPyConnection, config: BuildConfig) -> str:
    if config.period:
        return config.period
    month = scalar(con, "SELECT max(test_month) FROM counted_cube")
    if month is None:
        raise InputError("no record was accepted: nothing to publish (see the quarantine)")
    return month


def provider_names(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return frame(
        con,
        """
        SELECT region_code, provider_code, min(region_name) AS region_name,
               min(provider_name) AS provider_name
        FROM sites GROUP BY ALL
        """,
    )


def build_publication(config: BuildConfig) -> BuildResult:
    """Build one publication from submission files, and publish it atomically."""
    with build_session(config) as (con, work_dir):
        return build_with(con, config, work_dir)


def compute_publication(
    con: duckdb.DuckDBPyConnection, config: BuildConfig, work_dir: Path
) -> tuple[Publication, list[InputFile], dict[int, FileOutcome]]:
    """Everything up to the protected tables, nothing written."""
    load_reference_data(con, ReferenceFiles(config.sites, config.imaging_codes))
    files = ingest_and_validate(con, config, work_dir)
    outcomes = file_outcomes(con, files)
    month = latest_month(con, config)
    cells = aggregate_tables(con, months_of_year_to_date(month))
    protected = protect_cells(
        add_names(cells, provider_names(con)),
        config.policy,
        config.k,
        secondary_suppression=config.secondary_suppression,
    )
    publication = Publication(
        latest_month=month,
        status=config.status,
        policy=config.policy,
        tidy=to_tidy(protected),
        published_on=config.published_on,
    )
    return publication, files, outcomes


def build_with(con: duckdb.DuckDBPyConnection, config: BuildConfig, work_dir: Path) -> BuildResult:
    publication, files, outcomes = compute_publication(con, config, work_dir)

    audit_summaries: list[str] = []

    def write_publication(folder: Path) -> None:
        render(publication, folder, config)
        write_quality_report(
            con,
            files,
            outcomes,
            folder,
            config.policy,
            months=publication.months,
            published_on=publication.published_on,
        )
        write_manifest(
            folder / "manifest.json",
            build_manifest(publication.identifier, config, files, outcomes, folder),
        )
        # The build audits its own output (PUBLICATION.md section 4); under strict a
        # failed audit stops the build and the previous publication stays in place.
        audit = audit_publication(folder, csv_path=folder / f"{publication.identifier}.csv")
        summary = audit.summary
        if not config.secondary_suppression:
            summary = f"{NOT_PROTECTED} {summary}"
        audit_summaries.append(summary)
        if config.policy == "strict" and not audit.passed and config.secondary_suppression:
            raise DisclosureAuditFailed(audit.summary)
        write_manifest(
            folder / "manifest.json",
            build_manifest(publication.identifier, config, files, outcomes, folder),
        )

    publication_dir = config.out_dir / publication.identifier
    restricted_dir = config.out_dir / f"{publication.identifier}.restricted"
    # The publication first: a build that fails leaves the previous pair untouched.
    write_atomically(publication_dir, write_publication)
    write_atomically(restricted_dir, lambda folder: write_restricted(con, files, folder))
    return BuildResult(
        publication, publication_dir, restricted_dir, files, outcomes, audit_summaries[-1]
    )


def render(publication: Publication, folder: Path, config: BuildConfig) -> None:
    """Every rendering of the protected tables: CSV and datapackage, workbook, HTML."""
    csv_name = f"{publication.identifier}.csv"
    write_tidy_csv(publication.tidy, folder / csv_name)
    write_datapackage(
        folder / "datapackage.json",
        publication.identifier,
        csv_name,
        f"Diagnostic Imaging Dataset {publication.financial_year} ({publication.status})",
    )
    workbook_name = f"{publication.identifier}.xlsx"
    write_workbook(publication, folder / workbook_name, load_cover_text(config.publication_text))
    write_site(
        publication,
        folder / "html",
        {
            "Tidy data (CSV)": f"../{csv_name}",
            "Accessible workbook (Excel)": f"../{workbook_name}",
            "Data package description (JSON)": "../datapackage.json",
        },
    )


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Write a folder beside `target`, then swap it into place only once complete.

    A build that fails or is interrupted leaves the previous publication untouched; the
    half-written folder is removed (or, after a hard kill, ignored: it has a dot name).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.building-{os.getpid()}"
    retired = target.parent / f".{target.name}.previous-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        write(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


@dataclass
class ValidationResult:
    folder: Path
    files: list[InputFile]
    received: int
    accepted: int
    rejected: int


def validate_only(config: BuildConfig) -> ValidationResult:
    """Validate submissions without publishing: quality report and restricted folder only."""
    with build_session(config) as (con, work_dir):
        load_reference_data(con, ReferenceFiles(config.sites, config.imaging_codes))
        files = ingest_and_validate(con, config, work_dir)
        outcomes = file_outcomes(con, files)
        folder = config.out_dir / "validation"
        write_atomically(
            config.out_dir / "validation.restricted",
            lambda restricted: write_restricted(con, files, restricted),
        )
        write_atomically(
            folder,
            lambda target: write_quality_report(con, files, outcomes, target, config.policy),
        )
    return ValidationResult(
        folder,
        files,
        sum(o.received for o in outcomes.values()),
        sum(o.accepted for o in outcomes.values()),
        sum(o.rejected for o in outcomes.values()),
    )
