"""The data-quality report (PUBLICATION.md section 5), aggregate only.

Per provider and month: records received, accepted, rejected and warned, and the count
of records breaking each rule; per file, what became of it. Counts by provider and
month go through the publication's cell rules like any published count, since a
count of one rejected record is still a count of one patient's test.
"""

from pathlib import Path

import duckdb
import polars as pl

from publish.db import frame
from publish.ingest import InputFile
from publish.protect import POLICIES, apply_cell_rules
from publish.resources import query
from publish.tidy import format_value, write_csv
from publish.validate import FileOutcome


def quality_by_provider(con: duckdb.DuckDBPyConnection, policy: str) -> pl.DataFrame:
    counts = frame(con, query("quality"))
    names = frame(
        con,
        "SELECT region_code, provider_code, min(provider_name) AS provider_name "
        "FROM sites GROUP BY ALL",
    )
    rules = POLICIES.get(policy, POLICIES["hes"])  # strict: the stricter cell rule
    protected = apply_cell_rules(
        counts.with_columns(
            pl.col("value").cast(pl.Float64),
            pl.col("value").cast(pl.Int64).alias("records"),
            pl.lit("provider").alias("geography_level"),
            pl.lit("").alias("marker"),
        ),
        rules,
    )
    return (
        protected.join(names, on=["region_code", "provider_code"], how="left")
        .with_columns(
            pl.col("provider_name").fill_null(""), format_value(pl.col("value")).alias("value")
        )
        .select(
            "region_code", "provider_code", "provider_name", "month", "measure", "value", "marker"
        )
        .sort("region_code", "provider_code", "month", "measure")
    )


def files_report(files: list[InputFile], outcomes: dict[int, FileOutcome]) -> pl.DataFrame:
    rows = [
        {
            "source_file": f.name,
            "status": f.status,
            "submission_date": f.submission_date.isoformat() if f.submission_date else "",
            # DIDS049, DIDS051, DIDS055 and DIDS066 need the file's submission date.
            "submission_date_rules_applied": "yes" if f.submission_date else "no",
            "records_received": outcomes[f.file_id].received,
            "records_accepted": outcomes[f.file_id].accepted,
            "records_rejected": outcomes[f.file_id].rejected,
            "records_warned": outcomes[f.file_id].warned,
            "records_superseded": outcomes[f.file_id].superseded,
            "message": f.message or "",
        }
        for f in sorted(files, key=lambda f: f.file_order)
    ]
    return pl.DataFrame(
        rows,
        schema={
            "source_file": pl.Utf8,
            "status": pl.Utf8,
            "submission_date": pl.Utf8,
            "submission_date_rules_applied": pl.Utf8,
            "records_received": pl.Int64,
            "records_accepted": pl.Int64,
            "records_rejected": pl.Int64,
            "records_warned": pl.Int64,
            "records_superseded": pl.Int64,
            "message": pl.Utf8,
        },
    )


def write_quality_report(
    con: duckdb.DuckDBPyConnection,
    files: list[InputFile],
    outcomes: dict[int, FileOutcome],
    folder: Path,
    policy: str = "did",
) -> None:
    quality_dir = folder / "quality"
    quality_dir.mkdir(parents=True, exist_ok=True)
    write_csv(quality_by_provider(con, policy), quality_dir / "data-quality-by-provider.csv")
    write_csv(files_report(files, outcomes), quality_dir / "files.csv")
