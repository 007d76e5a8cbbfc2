"""The data-quality report (PUBLICATION.md section 5), aggregate only.

`write_quality_report` writes `quality/` in the publication (or validation) folder:

- `data-quality-by-provider.csv`: per provider and month of test, and for England,
  records received, accepted, rejected and warned, records counted in the tables
  (accepted less those a resubmission replaced), and the records breaking each rule
  (long: one row per measure). Records whose site is missing or not in the site
  reference, and records that could not be read at all (DIDS075), are under "Site not
  known"; records without a valid test date under month "not known".
- `provider-issues.csv`: possible under-reporting, like the "Provider issues" notes of
  NHS England's DID releases: a month in which a provider sent no record at all while it
  sent records for other months of the period (`no_records`), and a month in which the
  records counted for a provider fell below half the median of its previous three months
  (`low_activity`).
- `files.csv`: the files received, by name: status, submission date and, for a file
  rejected whole, why. A file's record counts are not published (one file is one
  provider's month: its count is a figure of the tables); they are in the restricted
  folder's `files.csv` and `manifest.json` (`write_restricted_files`).
- `disclosure-audit-summary.csv`: the audit's cells by table and status.
- `data-quality.xlsx` and `index.html`: the same report as an accessible workbook and
  a self-contained web page.

The counts by provider and month are cells of the publication (`quality_cells`, table
`QUALITY_TABLE`): they are protected with the tables, by the same policy object, in the
same call (`publish.disclosure.protect.protect_cells`), so that under `strict` their additive links
to table 1 are relations of the secondary suppression and of the audit
(`publish.disclosure.control.quality_pairs`). The provider issues show those same protected
figures (and a median of them), never a count of their own. No value from a submission
reaches the report: only codes, names from the site reference, file names, counts and
messages that name no record.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from publish.aggregate.cells import CELL_COLUMNS
from publish.codes import REGIONS
from publish.db import frame
from publish.disclosure.policy import Policy
from publish.ingest.load import FILE_LEVEL_RULE, InputFile
from publish.periods import month_name, months_of_year_to_date
from publish.reference import published_provider_names
from publish.render.templates import environment
from publish.render.tidy import format_value, write_csv
from publish.resources import query_block
from publish.tables import (
    ALL_MONTHS,
    MANIFEST_TOTALS,
    MARKERS,
    MONTH_NOT_KNOWN,
    QUALITY_TABLE,
    SUPERSEDED_MEASURE,
)
from publish.validate.restricted_manifest import file_size
from publish.validate.rules import FileOutcome

if TYPE_CHECKING:
    from publish.render.publication import Publication
    from publish.render.workbook import CoverText

# Possible under-reporting: counted records below this share of the median of the
# provider's counts in up to BASELINE_MONTHS previous months of the period (at least
# MIN_BASELINE_MONTHS of them), e.g. below 50% of the median of the previous 3 months.
LOW_ACTIVITY_SHARE = 0.5
BASELINE_MONTHS = 3
MIN_BASELINE_MONTHS = 2

SITE_NOT_KNOWN = "Site not known"
TOTAL_MEASURES = (
    "count_records_received",
    "count_records_accepted",
    "count_records_rejected",
    "count_records_warned",
    "count_records_counted",
)
TOTAL_LABELS = {
    "count_records_received": "Records received",
    "count_records_accepted": "Records accepted",
    "count_records_rejected": "Records rejected",
    "count_records_warned": "Records accepted with a warning",
    "count_records_counted": "Records counted in the tables",
}
ISSUE_LABELS = {
    "no_records": "No records",
    "low_activity": "Low activity",
}
ISSUE_MEASURES = {
    "count_records_received": "records_received",
    "count_records_counted": "records_counted",
    "count_baseline_median": "previous_months_median",
}
BY_PROVIDER_COLUMNS = (
    "geography_level",
    "region_code",
    "region_name",
    "provider_code",
    "provider_name",
    "month",
    "measure",
    "value",
    "marker",
)
ISSUE_COLUMNS = (
    "region_code",
    "region_name",
    "provider_code",
    "provider_name",
    "month",
    "issue",
    "records_received",
    "records_received_marker",
    "records_counted",
    "records_counted_marker",
    "previous_months_median",
    "previous_months_median_marker",
    "description",
)
PUBLIC_FILE_COLUMNS = (
    "source_file",
    "status",
    "submission_date",
    "submission_date_rules_applied",
    "message",
)


@dataclass(frozen=True)
class AuditSummary:
    """What the disclosure audit says, as the report shows it (publish.disclosure.audit)."""

    line: str  # the one-line summary
    meaning: str  # what the policy allows, in words
    by_table: pl.DataFrame  # table, status, cells


@dataclass(frozen=True)
class QualityReport:
    """The report's protected figures, as every rendering reads them."""

    policy: Policy
    months: tuple[str, ...]  # the period the provider issues look at
    by_provider: pl.DataFrame  # BY_PROVIDER_COLUMNS, value a nullable float
    issues: pl.DataFrame  # ISSUE_COLUMNS, values nullable floats
    files: pl.DataFrame  # files_report(): PUBLIC_FILE_COLUMNS
    totals: dict[str, int | None]  # England, all months: the manifest's record totals
    audit: AuditSummary | None = None

    @property
    def rule_codes(self) -> list[str]:
        measures = self.by_provider["measure"].unique().to_list()
        return sorted(
            m.removeprefix("count_rule_") for m in measures if m.startswith("count_rule_")
        )

    @property
    def period_words(self) -> str:
        if not self.months:
            return "no month with a valid test date"
        return f"{month_name(self.months[0])} to {month_name(self.months[-1])}"


# --------------------------------------------------------------------------- cells


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


# --------------------------------------------------------------------------- provider issues


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


# --------------------------------------------------------------------------- files


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


# --------------------------------------------------------------------------- report


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


def write_quality_csvs(report: QualityReport, folder: Path) -> None:
    """`folder/quality/`'s CSVs of figures: what the audit reads."""
    quality_dir = folder / "quality"
    quality_dir.mkdir(parents=True, exist_ok=True)
    write_csv(
        report.by_provider.with_columns(format_value(pl.col("value")).alias("value")),
        quality_dir / "data-quality-by-provider.csv",
    )
    write_csv(
        report.issues.with_columns(
            format_value(pl.col(name)).alias(name) for name in ISSUE_MEASURES.values()
        ),
        quality_dir / "provider-issues.csv",
    )
    write_csv(report.files, quality_dir / "files.csv")


def write_quality_pages(
    report: QualityReport,
    folder: Path,
    published_on: date | None = None,
    *,
    cover: CoverText | None = None,
    stamp: str | None = None,
    publication: Publication | None = None,
) -> None:
    """`folder/quality/`: the audit's summary (when audited), the workbook, the web page.

    published_on: the workbook's date (default: the day after the period); cover: the
    publication's cover text (its contact; default: the shipped one); stamp: said on
    every page and sheet (the demo's "Synthetic data: not official statistics");
    publication: the page is then in the site's layout (header, navigation, stamp).
    """
    quality_dir = folder / "quality"
    quality_dir.mkdir(parents=True, exist_ok=True)
    if report.audit is not None:
        write_csv(report.audit.by_table, quality_dir / "disclosure-audit-summary.csv")
    from publish.render.workbook import load_cover_text, write_report_workbook

    cover = cover or load_cover_text()
    write_report_workbook(
        quality_dir / "data-quality.xlsx",
        title=f"Diagnostic Imaging Dataset data-quality report, {report.period_words}",
        cover_paragraphs=cover_paragraphs(report),
        tables=workbook_tables(report),
        cover=cover,
        created=published_on or report_date(report),
        stamp=stamp,
    )
    page = render_html(report, stamp, publication)
    (quality_dir / "index.html").write_text(page, encoding="utf-8")


def write_quality_report(
    report: QualityReport,
    folder: Path,
    published_on: date | None = None,
    **pages: object,
) -> QualityReport:
    """Write `folder/quality/`: the CSVs, the workbook and the web page of the report
    (`pages`: `write_quality_pages`'s cover, stamp and publication)."""
    write_quality_csvs(report, folder)
    write_quality_pages(report, folder, published_on, **pages)
    return report


def report_date(report: QualityReport) -> date:
    """A date from the data, never the clock: the first day after the period."""
    if not report.months:
        return date(2000, 1, 1)
    year, month = (int(part) for part in report.months[-1].split("-"))
    return date(year + month // 12, month % 12 + 1, 1)


# --------------------------------------------------------------------------- renderings


def policy_words(policy: Policy) -> str:
    """The policy the report's counts follow, in words: the same object as the tables'."""
    k, rules = policy.k, policy.cell_rules
    if rules is None:
        return (
            f"Counts follow the 'strict' disclosure control policy, together with the "
            f"tables of the publication: counts of 1 to {k - 1} are suppressed and shown as "
            f"[c], and further counts where needed (secondary suppression), so that no "
            f"suppressed count can be worked out, or narrowed below its protection interval, "
            f"from everything published; the counts shown are exact."
        )
    england = (
        "England counts are rounded to the nearest 5 but never suppressed"
        if rules.round_england_counts
        else "England counts are not rounded"
    )
    return (
        f"Counts follow the '{policy.name}' disclosure control policy, as the tables do: below "
        f"England, counts of 1 to {rules.suppress_counts_below - 1} are suppressed and shown "
        f"as [c], and other counts are rounded to the nearest {rules.round_counts_to}; "
        f"{england}."
    )


def cover_paragraphs(report: QualityReport) -> list[tuple[str, str]]:
    not_applied = report.files.filter(pl.col("submission_date_rules_applied") == "no").height
    paragraphs = [
        (
            "text",
            "How many submitted records were accepted, rejected or accepted with a warning, "
            "by provider and month of test, which rules they broke, which provider-months "
            "look under-reported, and which files were received.",
        ),
        ("heading", "Disclosure control"),
        ("text", policy_words(report.policy)),
        (
            "text",
            "One file is one provider's month, so a file's record counts are not published: "
            "the counts by provider and month are, under the policy above.",
        ),
    ]
    if report.audit is not None:
        paragraphs += [
            ("heading", "Disclosure audit"),
            ("text", report.audit.line),
            ("text", report.audit.meaning),
        ]
    paragraphs += [
        ("heading", "Provider issues"),
        (
            "text",
            f"A provider-month is listed when the provider sent no record with a test date "
            f"in that month but sent records for other months of {report.period_words}, or "
            f"when the records counted fell below {LOW_ACTIVITY_SHARE:.0%} of the median of "
            f"its previous {BASELINE_MONTHS} months in the period (listed once at least "
            f"{MIN_BASELINE_MONTHS} previous months are in the period). The counts shown are "
            "those of the table by provider and month, and the median is over them.",
        ),
        ("heading", "Rules"),
        (
            "text",
            "Rule codes are NHS England's DIDS validation rules. DIDS075 counts records that "
            "could not be read: a file with the wrong columns, or a damaged record.",
        ),
    ]
    if not_applied:
        paragraphs.append(
            (
                "text",
                "Files without a submission date (see the table of files): rules DIDS049 "
                "and DIDS055 were not applied to their records, and DIDS051 and DIDS066 "
                "compared their dates with the build date.",
            )
        )
    return paragraphs


def count_cell(value: float | None, marker: str) -> float | str:
    if value is None:
        return f"[{marker or 'x'}]"
    return float(value)


def text_cell(value: object) -> str:
    text = " ".join(str(value or "").split())
    return text or "[x]"


@dataclass(frozen=True)
class ReportTable:
    """A table of the report as the workbook and the web page show it."""

    tab: str
    title: str
    description: str
    table_name: str
    text_headers: list[str]
    number_headers: list[str]
    rows: list[list[object]]  # text cells, then numbers or markers


def by_provider_table(report: QualityReport) -> ReportTable:
    rules = report.rule_codes
    measures = [*TOTAL_MEASURES, *(f"count_rule_{code}" for code in rules)]
    keys = [
        "geography_level",
        "region_code",
        "region_name",
        "provider_code",
        "provider_name",
        "month",
    ]
    rows: dict[tuple, dict[str, tuple[float | None, str]]] = {}
    for record in report.by_provider.iter_rows(named=True):
        key = tuple(record[k] for k in keys)
        rows.setdefault(key, {})[record["measure"]] = (record["value"], record["marker"])
    body = []
    for key, cells in rows.items():
        level, region_code, region_name, provider_code, provider_name, month = key
        labels = (
            ["England", "[z]", "[z]", "[z]"]
            if level == "england"
            else [provider_name, region_code or "[x]", region_name or "[x]", provider_code or "[x]"]
        )
        body.append(
            [text_cell(v) for v in labels]
            + [text_cell("All months" if month == ALL_MONTHS else month)]
            + [count_cell(*cells.get(m, (0.0, ""))) for m in measures]
        )
    return ReportTable(
        tab="By_provider",
        title="Records received, accepted, rejected and warned, by provider and month",
        description="Each row is England or a provider, and a month of test; the columns "
        "count records, then the records breaking each rule (a record can break several).",
        table_name="quality_by_provider",
        text_headers=[
            "England or provider",
            "Region code",
            "Region name",
            "Org code",
            "Month of test",
        ],
        number_headers=[TOTAL_LABELS[m] for m in TOTAL_MEASURES]
        + [f"Records breaking {c}" for c in rules],
        rows=body,
    )


def issues_table(report: QualityReport) -> ReportTable:
    body = [
        [
            text_cell(r["provider_name"]),
            text_cell(r["region_code"]),
            text_cell(r["region_name"]),
            text_cell(r["provider_code"]),
            text_cell(r["month"]),
            ISSUE_LABELS[r["issue"]],
            text_cell(r["description"]),
            count_cell(r["records_received"], r["records_received_marker"]),
            count_cell(r["records_counted"], r["records_counted_marker"]),
            count_cell(
                r["previous_months_median"],
                r["previous_months_median_marker"] or ("z" if r["issue"] == "no_records" else ""),
            ),
        ]
        for r in report.issues.iter_rows(named=True)
    ]
    return ReportTable(
        tab="Provider_issues",
        title="Provider issues: months with no records or unusually few",
        description="Each row is a provider and a month of test with no records, or with "
        "records counted below half the median of its previous months.",
        table_name="provider_issues",
        text_headers=[
            "Provider name",
            "Region code",
            "Region name",
            "Org code",
            "Month of test",
            "Issue",
            "Description",
        ],
        number_headers=["Records received", "Records counted", "Median of previous months"],
        rows=body,
    )


def files_table(report: QualityReport) -> ReportTable:
    body = [
        [
            text_cell(r["source_file"]),
            r["status"].capitalize(),
            text_cell(r["submission_date"]),
            r["submission_date_rules_applied"].capitalize(),
            text_cell(r["message"] or "None"),
        ]
        for r in report.files.iter_rows(named=True)
    ]
    return ReportTable(
        tab="Files",
        title="Files received",
        description="Each row is a submission file. A file is rejected whole when its "
        "columns cannot be read; its records are then all rejected. A file's record counts "
        "are not published: one file is one provider's month.",
        table_name="files_received",
        text_headers=[
            "File",
            "Status",
            "Submission date",
            "Submission date rules applied",
            "Message",
        ],
        number_headers=[],
        rows=body,
    )


def audit_table(report: QualityReport) -> ReportTable:
    assert report.audit is not None
    body = [
        [
            f"Table {r['table']}" if r["table"].isdigit() else r["table"].capitalize(),
            r["status"],
            float(r["cells"]),
        ]
        for r in report.audit.by_table.iter_rows(named=True)
    ]
    return ReportTable(
        tab="Disclosure_audit",
        title="Disclosure audit: suppressed counts by table and status",
        description="Each row is a table of the publication (the data-quality report's "
        "counts by provider and month among them) and what the audit found of its "
        "suppressed counts: ok (protected), narrow (narrower than the protection interval) "
        "or exact (an outsider can work it out).",
        table_name="disclosure_audit",
        text_headers=["Table", "Status"],
        number_headers=["Suppressed counts"],
        rows=body,
    )


def report_tables(report: QualityReport) -> list[ReportTable]:
    tables = [by_provider_table(report), files_table(report)]
    if report.issues.height:
        tables.insert(0, issues_table(report))
    if report.audit is not None:
        tables.append(audit_table(report))
    return [t for t in tables if t.rows]


def shorthand_line(table: ReportTable) -> str:
    used = sorted(
        {
            cell[1]
            for row in table.rows
            for cell in row
            if isinstance(cell, str)
            and len(cell) == 3
            and cell.startswith("[")
            and cell[1] in MARKERS
        }
    )
    if not used:
        return "No shorthand is used in this table."
    return (
        "Shorthand used in this table: "
        + "; ".join(f"[{code}] means {MARKERS[code]}" for code in used)
        + "."
    )


def workbook_tables(report: QualityReport):
    from publish.render.workbook import Column, TableSheet

    return [
        TableSheet(
            tab=table.tab,
            title=table.title,
            lines=[
                "This worksheet contains one table.",
                table.description,
                shorthand_line(table),
            ],
            table_name=table.table_name,
            columns=[Column(h) for h in table.text_headers]
            + [Column(h, "count") for h in table.number_headers],
            rows=table.rows,
        )
        for table in report_tables(report)
    ]


def render_html(
    report: QualityReport, stamp: str | None = None, publication: Publication | None = None
) -> str:
    """The report's web page: in the site's layout beside a publication (its `html/`
    folder is a sibling of `quality/`), else a page of its own."""

    def shown(cell: object) -> str:
        if isinstance(cell, float):
            return f"{cell:,.0f}"
        return str(cell)

    context = dict(
        title=f"Diagnostic Imaging Dataset data-quality report, {report.period_words}",
        paragraphs=cover_paragraphs(report),
        stamp=stamp,
        tables=[
            {
                "table": table,
                "id": table.table_name.replace("_", "-"),
                "shorthand": shorthand_line(table),
            }
            for table in report_tables(report)
        ],
        shown=shown,
        downloads=[
            ("Data-quality workbook (Excel)", "data-quality.xlsx"),
            ("Records by provider and month (CSV)", "data-quality-by-provider.csv"),
            ("Provider issues (CSV)", "provider-issues.csv"),
            ("Files received (CSV)", "files.csv"),
            *(
                [("Disclosure audit summary (CSV)", "disclosure-audit-summary.csv")]
                if report.audit is not None
                else []
            ),
        ],
    )
    if publication is not None:
        from publish.render.site import render_in_site_layout

        return render_in_site_layout(publication, "quality.html", "../html/", **context)
    return environment().get_template("quality.html").render(**context)
