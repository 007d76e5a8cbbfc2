"""Stage: the data-quality report's figures (PUBLICATION.md section 5), aggregate only.

- by provider and month of test, and for England: records received, accepted, rejected
  and warned, records counted in the tables (accepted less those a resubmission
  replaced), and the records breaking each rule (long: one row per measure). Records
  whose site is missing or not in the site reference, and records that could not be read
  at all (DIDS075), are under "Site not known"; records without a valid test date under
  month "not known".
- provider issues: possible under-reporting, like the "Provider issues" notes of NHS
  England's DID releases: a month in which a provider sent no record at all while it
  sent records for other months of the period (`no_records`), and a month in which the
  records counted for a provider fell below half the median of its previous three months
  (`low_activity`).
- the files received, by name: status, submission date and, for a file rejected whole,
  why. A file's record counts are not published (one file is one provider's month: its
  count is a figure of the tables); they are in the restricted folder
  (`publish.validate.restricted_manifest.write_restricted_files`).

The counts by provider and month are cells of the publication (`quality_cells`, table
`QUALITY_TABLE`): they are protected with the tables, by the same policy object, in the
same call (`publish.disclosure.protect.protect_cells`), so that under `strict` their
additive links to table 1 are relations of the secondary suppression and of the audit
(`publish.disclosure.control.quality_pairs`). The provider issues show those same
protected figures (and a median of them), never a count of their own. No value from a
submission reaches the report: only codes, names from the site reference, file names,
counts and messages that name no record. `publish.render.quality` writes the report.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import duckdb
import polars as pl

from publish.aggregate.cells import CELL_COLUMNS
from publish.codes import REGIONS
from publish.db import frame
from publish.disclosure.policy import Policy
from publish.ingest.load import FILE_LEVEL_RULE, InputFile
from publish.periods import month_name, months_of_year_to_date
from publish.quality.report import (
    BASELINE_MONTHS,
    BY_PROVIDER_COLUMNS,
    ISSUE_COLUMNS,
    ISSUE_MEASURES,
    LOW_ACTIVITY_SHARE,
    MIN_BASELINE_MONTHS,
    PUBLIC_FILE_COLUMNS,
    SITE_NOT_KNOWN,
    TOTAL_MEASURES,
    QualityReport,
)
from publish.reference import published_provider_names
from publish.resources import query_block
from publish.tables import (
    ALL_MONTHS,
    MANIFEST_TOTALS,
    MONTH_NOT_KNOWN,
    QUALITY_TABLE,
    SUPERSEDED_MEASURE,
)
from publish.validate.rules import FileOutcome


def unreadable_record_counts(files: list[InputFile]) -> pl.DataFrame:
    """Records that never reached validation (DIDS075): site and month not known."""
    count = sum(
        f.records_received if f.status == "rejected" else len(f.malformed_records) for f in files
    )
    if not count:
        return pl.DataFrame()
    rows = [
        (level, measure, count)
        for level in ("provider", "england")
        for measure in (
            "count_records_received",
            "count_records_rejected",
            f"count_rule_{FILE_LEVEL_RULE}",
        )
    ]
    return pl.DataFrame(
        rows,
        schema=[("geography_level", pl.Utf8), ("measure", pl.Utf8), ("value", pl.Int64)],
        orient="row",
    ).with_columns(
        pl.lit(None, pl.Utf8).alias("region_code"),
        pl.lit(None, pl.Utf8).alias("provider_code"),
        pl.lit(None, pl.Utf8).alias("month"),
    )


def quality_cells(
    con: duckdb.DuckDBPyConnection, files: list[InputFile], outcomes: dict[int, FileOutcome]
) -> pl.DataFrame:
    """The report's counts, unprotected, as cells of the publication (CELL_COLUMNS).

    Table QUALITY_TABLE; period the month of test, MONTH_NOT_KNOWN, or ALL_MONTHS for
    England's totals over every record (what the manifest publishes). They go through
    `protect_cells` with the tables' cells, so the policy protects them together.
    """
    keys = ["geography_level", "region_code", "provider_code", "month", "measure"]
    counts = frame(con, query_block("quality/quality", "by_provider")).with_columns(
        pl.col("value").cast(pl.Int64)
    )
    parts = [counts]
    unreadable = unreadable_record_counts(files)
    if unreadable.height:
        parts.append(unreadable.select(counts.columns))
    counted = (
        frame(con, query_block("quality/quality", "provider_months"))
        .filter(pl.col("counted") > 0)
        .select(
            pl.lit("provider").alias("geography_level"),
            "region_code",
            "provider_code",
            "month",
            pl.lit("count_records_counted").alias("measure"),
            pl.col("counted").cast(pl.Int64).alias("value"),
        )
    )
    parts += [counted, counted.with_columns(pl.lit("england").alias("geography_level"))]
    counts = pl.concat(parts, how="vertical_relaxed").with_columns(
        pl.when(pl.col("geography_level") == "england").then(None).otherwise(pl.col(c)).alias(c)
        for c in ("region_code", "provider_code")
    )
    counts = counts.group_by(keys).agg(pl.col("value").sum())
    england = counts.filter(pl.col("geography_level") == "england")
    totals = england.group_by("geography_level", "region_code", "provider_code", "measure").agg(
        pl.col("value").sum()
    )
    superseded = sum(o.superseded for o in outcomes.values())
    totals = pl.concat(
        [
            totals.with_columns(pl.lit(ALL_MONTHS).alias("month")).select(counts.columns),
            pl.DataFrame(
                [("england", None, None, ALL_MONTHS, SUPERSEDED_MEASURE, superseded)],
                schema=counts.schema,
                orient="row",
            ),
        ]
    )
    return (
        pl.concat([counts, totals])
        .select(
            pl.lit(QUALITY_TABLE, pl.Int64).alias("table"),
            "geography_level",
            pl.col("region_code").fill_null(""),
            pl.col("provider_code").fill_null(""),
            pl.lit("").alias("modality"),
            pl.lit("").alias("source_setting"),
            pl.col("month").fill_null(MONTH_NOT_KNOWN).alias("period"),
            "measure",
            pl.col("value").cast(pl.Float64),
            pl.col("value").cast(pl.Int64).alias("records"),
            pl.lit("").alias("marker"),
        )
        .sort("geography_level", "region_code", "provider_code", "period", "measure")
        .select(CELL_COLUMNS)
    )


def by_provider_frame(protected: pl.DataFrame) -> pl.DataFrame:
    """The protected report cells (with names) as BY_PROVIDER_COLUMNS, in report order."""
    measure_rank = {name: rank for rank, name in enumerate(TOTAL_MEASURES)}
    cells = protected.filter(
        (pl.col("table") == QUALITY_TABLE) & (pl.col("measure") != SUPERSEDED_MEASURE)
    )
    is_provider = pl.col("geography_level") == "provider"
    no_code = pl.col("provider_code").fill_null("") == ""
    return (
        cells.with_columns(
            pl.col("period").alias("month"),
            pl.when(is_provider & no_code)
            .then(pl.lit(SITE_NOT_KNOWN))
            .otherwise(pl.col("provider_name").fill_null(""))
            .alias("provider_name"),
            pl.when(pl.col("region_name").fill_null("") == "")
            .then(pl.col("region_code").replace_strict(REGIONS, default=""))
            .otherwise(pl.col("region_name"))
            .alias("region_name"),
        )
        .with_columns(
            # Sort keys: England first, then regions by code and providers by name, the
            # site not known last; months in order, "not known" then all months last;
            # totals before rules.
            is_provider.alias("_level"),
            (is_provider & no_code).alias("_unknown"),
            (pl.col("month") == MONTH_NOT_KNOWN).alias("_no_month"),
            (pl.col("month") == ALL_MONTHS).alias("_all_months"),
            pl.col("measure")
            .replace_strict(measure_rank, default=99, return_dtype=pl.Int32)
            .alias("_rank"),
        )
        .sort(
            "_level",
            "_unknown",
            "region_code",
            "provider_name",
            "provider_code",
            "_all_months",
            "_no_month",
            "month",
            "_rank",
            "measure",
        )
        .select(BY_PROVIDER_COLUMNS)
    )


def manifest_totals(protected: pl.DataFrame) -> dict[str, int | None]:
    """England's record totals over all months, protected: None where suppressed."""
    totals: dict[str, int | None] = dict.fromkeys(MANIFEST_TOTALS)
    england = protected.filter(
        (pl.col("table") == QUALITY_TABLE)
        & (pl.col("geography_level") == "england")
        & (pl.col("period") == ALL_MONTHS)
    )
    by_measure = dict(zip(england["measure"], england["value"], strict=True))
    for key, measure in MANIFEST_TOTALS.items():
        value = by_measure.get(measure)
        totals[key] = None if value is None else int(value)
    return totals


def report_months(
    con: duckdb.DuckDBPyConnection, months: tuple[str, ...] | None
) -> tuple[str, ...]:
    """The period: the publication's months, else April to the latest month of test counted."""
    if months:
        return tuple(months)
    latest = frame(
        con,
        "SELECT coalesce((SELECT max(test_month) FROM counted_cube), "
        "(SELECT max(month) FROM record_outcomes)) AS latest",
    )["latest"][0]
    return months_of_year_to_date(latest) if latest else ()


@dataclass(frozen=True)
class FoundIssue:
    """A provider-month of possible under-reporting, found on the unprotected counts."""

    region_code: str
    provider_code: str
    month: str
    issue: str
    previous: tuple[str, ...]  # the months its baseline median is over
    description: str


def find_provider_issues(
    provider_months: pl.DataFrame, months: tuple[str, ...]
) -> list[FoundIssue]:
    """provider_months: region_code, provider_code, month, received, counted (integers)."""
    in_period = provider_months.filter(pl.col("month").is_in(list(months)))
    by_provider: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    for region, provider, month, received, counted in in_period.iter_rows():
        by_provider.setdefault((region, provider), {})[month] = (received, counted)
    found: list[FoundIssue] = []
    for (region, provider), seen in sorted(by_provider.items()):
        for index, month in enumerate(months):
            received, counted = seen.get(month, (0, 0))
            if received == 0:
                others = len(seen)
                found.append(
                    FoundIssue(
                        region,
                        provider,
                        month,
                        "no_records",
                        (),
                        f"No record with a test date in {month_name(month)} was received; the "
                        f"provider sent records for {others} other month{'s' if others != 1 else ''} "
                        "of the period.",
                    )
                )
                continue
            previous = months[max(index - BASELINE_MONTHS, 0) : index]
            if len(previous) < MIN_BASELINE_MONTHS:
                continue
            baseline = statistics.median(seen.get(m, (0, 0))[1] for m in previous)
            if counted < LOW_ACTIVITY_SHARE * baseline:
                found.append(
                    FoundIssue(
                        region,
                        provider,
                        month,
                        "low_activity",
                        tuple(previous),
                        f"Records counted fell below {LOW_ACTIVITY_SHARE:.0%} of the median of "
                        f"the previous {len(previous)} months ({month_name(previous[0])} to "
                        f"{month_name(previous[-1])}): possible under-reporting.",
                    )
                )
    return found


def provider_issues(
    con: duckdb.DuckDBPyConnection, months: tuple[str, ...], by_provider: pl.DataFrame
) -> pl.DataFrame:
    """The issues with the report's own protected figures: records received and counted
    are the provider-month's cells of `by_provider` (0 where it has none: nothing was
    received), the baseline the median of the published counts of the previous months
    ([c] when one of them is suppressed). No figure here is not in the by-provider CSV,
    or worked out from its figures alone."""
    found = find_provider_issues(
        frame(con, query_block("quality/quality", "provider_months")), months
    )
    published = {
        (r["region_code"], r["provider_code"], r["month"], r["measure"]): (r["value"], r["marker"])
        for r in by_provider.filter(pl.col("geography_level") == "provider").iter_rows(named=True)
    }
    names = {
        (r["region_code"], r["provider_code"]): (r["region_name"], r["provider_name"])
        for r in by_provider.iter_rows(named=True)
    }
    site = site_names(con)
    for r in site.iter_rows(named=True):
        names.setdefault(
            (r["region_code"], r["provider_code"]), (r["region_name"], r["provider_name"])
        )

    def figure(issue: FoundIssue, month: str, measure: str) -> tuple[float | None, str]:
        value, marker = published.get(
            (issue.region_code, issue.provider_code, month, measure), (0.0, "")
        )
        return value, marker or ""

    rows = []
    for issue in found:
        received = figure(issue, issue.month, "count_records_received")
        counted = figure(issue, issue.month, "count_records_counted")
        if issue.previous:
            before = [figure(issue, m, "count_records_counted") for m in issue.previous]
            median = (
                (None, "c")
                if any(v is None for v, _ in before)
                else (float(statistics.median(v for v, _ in before)), "")
            )
        else:
            median = (None, "")
        region_name, provider_name = names.get((issue.region_code, issue.provider_code), ("", ""))
        rows.append(
            (
                issue.region_code,
                region_name or "",
                issue.provider_code,
                provider_name or "",
                issue.month,
                issue.issue,
                *received,
                *counted,
                *median,
                issue.description,
            )
        )
    schema = {c: (pl.Float64 if c in ISSUE_MEASURES.values() else pl.Utf8) for c in ISSUE_COLUMNS}
    return pl.DataFrame(rows, schema=schema, orient="row").sort(
        "region_code", "provider_name", "provider_code", "month", "issue"
    )


def site_names(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every provider's name (a renamed one's latest: publish.reference)."""
    return published_provider_names(con, None)


def public_message(input_file: InputFile) -> str:
    """What the publication may say of a file: why a file was rejected whole (its
    columns: nothing numeric of its records), else only that records were quarantined;
    the full message, with record numbers, is in the restricted files.csv."""
    if input_file.status == "rejected":
        return input_file.message or ""
    if input_file.malformed_records:
        return (
            f"{input_file.name}: records that could not be read were quarantined "
            f"({FILE_LEVEL_RULE})"
        )
    return ""


def manifest_inputs(files: list[InputFile]) -> list[dict]:
    """The public manifest's inputs: each file by name, SHA-256, submission date, status
    and public message only."""
    return [
        {
            "file": input_file.shown_as or input_file.name,
            "sha256": input_file.sha256,
            "submission_date": (
                input_file.submission_date.isoformat() if input_file.submission_date else None
            ),
            "status": input_file.status,
            "message": public_message(input_file) or None,
        }
        for input_file in sorted(files, key=lambda f: f.file_order)
    ]


def files_report(files: list[InputFile]) -> pl.DataFrame:
    """The files received, by name: no size, no count of records (PUBLICATION.md s.5)."""
    rows = [
        {
            "source_file": f.name,
            "status": f.status,
            "submission_date": f.submission_date.isoformat() if f.submission_date else "",
            # DIDS049 and DIDS055 need the file's submission date (DIDS051 and DIDS066
            # fall back on the build date).
            "submission_date_rules_applied": "yes" if f.submission_date else "no",
            "message": public_message(f),
        }
        for f in sorted(files, key=lambda f: f.file_order)
    ]
    return pl.DataFrame(rows, schema={c: pl.Utf8 for c in PUBLIC_FILE_COLUMNS})


def build_quality_report(
    con: duckdb.DuckDBPyConnection,
    files: list[InputFile],
    protected: pl.DataFrame,
    policy: Policy,
    months: tuple[str, ...] | None = None,
) -> QualityReport:
    """The report from its cells as `protect_cells` returned them (with names)."""
    period = report_months(con, months)
    by_provider = by_provider_frame(protected)
    return QualityReport(
        policy=policy,
        months=period,
        by_provider=by_provider,
        issues=provider_issues(con, period, by_provider),
        files=files_report(files),
        totals=manifest_totals(protected),
    )
