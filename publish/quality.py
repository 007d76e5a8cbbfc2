"""The data-quality report (PUBLICATION.md section 5), aggregate only.

`write_quality_report` writes `quality/` in the publication (or validation) folder:

- `data-quality-by-provider.csv`: per provider and month of test, and for England,
  records received, accepted, rejected and warned, and the records breaking each rule
  (long: one row per measure). Records whose site is missing or not in the site
  reference, and records that could not be read at all (DIDS075), are under "Site not
  known"; records without a valid test date under month "not known".
- `provider-issues.csv`: possible under-reporting, like the "Provider issues" notes of
  NHS England's DID releases: a month in which a provider sent no record at all while it
  sent records for other months of the period (`no_records`), and a month in which the
  records counted for a provider fell below half the median of its previous three months
  (`low_activity`).
- `files.csv`: per file, what became of it (status, message, records received,
  accepted, rejected, warned, superseded): the same accounting as the manifest.
- `data-quality.xlsx` and `index.html`: the same report as an accessible workbook and
  a self-contained web page.

Counts by provider and month go through the publication's cell rules like any published
count, since a count of one rejected record is still a count of one patient's test; the
`strict` policy uses the `hes` cell rules here (there is no table to protect jointly).
No value from a submission reaches the report: only codes, names from the site
reference, file names, counts and messages that name records by number.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from publish.codes import REGIONS
from publish.db import frame
from publish.ingest import FILE_LEVEL_RULE, InputFile
from publish.protect import POLICIES, apply_cell_rules
from publish.publication import months_of_year_to_date
from publish.resources import query_block, resource_dir
from publish.tables import MARKERS
from publish.tidy import format_value, write_csv
from publish.validate import FileOutcome

if TYPE_CHECKING:
    from publish.publication import Publication
    from publish.workbook import CoverText

# Possible under-reporting: counted records below this share of the median of the
# provider's counts in up to BASELINE_MONTHS previous months of the period (at least
# MIN_BASELINE_MONTHS of them), e.g. below 50% of the median of the previous 3 months.
LOW_ACTIVITY_SHARE = 0.5
BASELINE_MONTHS = 3
MIN_BASELINE_MONTHS = 2

SITE_NOT_KNOWN = "Site not known"
MONTH_NOT_KNOWN = "not known"
TOTAL_MEASURES = (
    "count_records_received",
    "count_records_accepted",
    "count_records_rejected",
    "count_records_warned",
)
TOTAL_LABELS = {
    "count_records_received": "Records received",
    "count_records_accepted": "Records accepted",
    "count_records_rejected": "Records rejected",
    "count_records_warned": "Records accepted with a warning",
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


@dataclass(frozen=True)
class QualityReport:
    """The report's protected figures, as every rendering reads them."""

    policy: str
    months: tuple[str, ...]  # the period the provider issues look at
    by_provider: pl.DataFrame  # BY_PROVIDER_COLUMNS, value a nullable float
    issues: pl.DataFrame  # ISSUE_COLUMNS, values nullable floats
    files: pl.DataFrame  # files_report()

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
        return f"{month_words(self.months[0])} to {month_words(self.months[-1])}"


def month_words(month: str) -> str:
    year, number = month.split("-")
    return f"{date(int(year), int(number), 1):%B} {year}"


def cell_rules(policy: str):
    return POLICIES.get(policy, POLICIES["hes"])  # strict: the stricter cell rules


def protect_counts(counts: pl.DataFrame, policy: str) -> pl.DataFrame:
    """Published value and marker of each count (columns geography_level, measure, value)."""
    return apply_cell_rules(
        counts.with_columns(
            pl.col("value").cast(pl.Float64),
            pl.col("value").round(0).cast(pl.Int64).alias("records"),
            pl.lit("").alias("marker"),
        ),
        cell_rules(policy),
    ).drop("records")


def site_names(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return frame(
        con,
        "SELECT region_code, provider_code, min(region_name) AS region_name, "
        "min(provider_name) AS provider_name FROM sites GROUP BY ALL",
    )


# --------------------------------------------------------------------------- by provider


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


def quality_by_provider(
    con: duckdb.DuckDBPyConnection, files: list[InputFile], policy: str
) -> pl.DataFrame:
    keys = ["geography_level", "region_code", "provider_code", "month", "measure"]
    counts = frame(con, query_block("quality", "by_provider")).with_columns(
        pl.col("value").cast(pl.Int64)
    )
    unreadable = unreadable_record_counts(files)
    if unreadable.height:
        counts = pl.concat([counts, unreadable.select(counts.columns)], how="vertical_relaxed")
    counts = counts.group_by(keys).agg(pl.col("value").sum())
    measure_rank = {name: rank for rank, name in enumerate(TOTAL_MEASURES)}
    protected = protect_counts(counts, policy).join(
        site_names(con), on=["region_code", "provider_code"], how="left"
    )
    is_provider = pl.col("geography_level") == "provider"
    return (
        protected.with_columns(
            pl.when(is_provider & pl.col("provider_code").is_null())
            .then(pl.lit(SITE_NOT_KNOWN))
            .otherwise(pl.col("provider_name"))
            .alias("provider_name"),
            pl.col("region_name").fill_null(
                pl.col("region_code").replace_strict(REGIONS, default=None)
            ),
            # Sort keys: England first, then regions by code and providers by name, the
            # site not known last; months in order, "not known" last; totals before rules.
            (pl.col("geography_level") == "provider").alias("_level"),
            pl.col("provider_code").is_null().alias("_unknown"),
            pl.col("month").is_null().alias("_no_month"),
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
            "_no_month",
            "month",
            "_rank",
            "measure",
            nulls_last=True,
        )
        .with_columns(
            pl.col("month").fill_null(MONTH_NOT_KNOWN),
            *(
                pl.col(c).fill_null("")
                for c in ("region_code", "region_name", "provider_code", "provider_name")
            ),
        )
        .select(BY_PROVIDER_COLUMNS)
    )


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


def find_provider_issues(provider_months: pl.DataFrame, months: tuple[str, ...]) -> pl.DataFrame:
    """Unprotected issues, long: one row per (provider, month, issue, measure).

    provider_months: region_code, provider_code, month, received, counted (integers).
    """
    in_period = provider_months.filter(pl.col("month").is_in(list(months)))
    by_provider: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    for region, provider, month, received, counted in in_period.iter_rows():
        by_provider.setdefault((region, provider), {})[month] = (received, counted)
    rows: list[tuple] = []
    for (region, provider), seen in sorted(by_provider.items()):
        for index, month in enumerate(months):
            received, counted = seen.get(month, (0, 0))
            if received == 0:
                others = len(seen)
                rows.append(
                    (
                        region,
                        provider,
                        month,
                        "no_records",
                        0,
                        0,
                        None,
                        f"No record with a test date in {month_words(month)} was received; the "
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
                rows.append(
                    (
                        region,
                        provider,
                        month,
                        "low_activity",
                        received,
                        counted,
                        baseline,
                        f"Records counted fell below {LOW_ACTIVITY_SHARE:.0%} of the median of "
                        f"the previous {len(previous)} months ({month_words(previous[0])} to "
                        f"{month_words(previous[-1])}): possible under-reporting.",
                    )
                )
    wide = pl.DataFrame(
        rows,
        schema=[
            ("region_code", pl.Utf8),
            ("provider_code", pl.Utf8),
            ("month", pl.Utf8),
            ("issue", pl.Utf8),
            ("count_records_received", pl.Float64),
            ("count_records_counted", pl.Float64),
            ("count_baseline_median", pl.Float64),
            ("description", pl.Utf8),
        ],
        orient="row",
    )
    return wide.unpivot(
        index=["region_code", "provider_code", "month", "issue", "description"],
        variable_name="measure",
        value_name="value",
    )


def provider_issues(
    con: duckdb.DuckDBPyConnection, months: tuple[str, ...], policy: str
) -> pl.DataFrame:
    found = find_provider_issues(frame(con, query_block("quality", "provider_months")), months)
    protected = protect_counts(
        found.with_columns(pl.lit("provider").alias("geography_level")), policy
    )
    keys = ["region_code", "provider_code", "month", "issue", "description"]
    wide = protected.pivot(on="measure", index=keys, values=["value", "marker"])
    columns = []
    for measure, name in ISSUE_MEASURES.items():
        value = f"value_{measure}" if f"value_{measure}" in wide.columns else None
        marker = f"marker_{measure}"
        columns += [
            (pl.col(value) if value else pl.lit(None, pl.Float64)).alias(name),
            (pl.col(marker) if marker in wide.columns else pl.lit(""))
            .fill_null("")
            .alias(f"{name}_marker"),
        ]
    if not wide.height:
        return pl.DataFrame(
            schema={
                c: (pl.Float64 if c in ISSUE_MEASURES.values() else pl.Utf8) for c in ISSUE_COLUMNS
            }
        )
    return (
        wide.select(*keys, *columns)
        .join(site_names(con), on=["region_code", "provider_code"], how="left")
        .with_columns(pl.col("region_name").fill_null(""), pl.col("provider_name").fill_null(""))
        .sort("region_code", "provider_name", "provider_code", "month", "issue")
        .select(ISSUE_COLUMNS)
    )


# --------------------------------------------------------------------------- files


def files_report(files: list[InputFile], outcomes: dict[int, FileOutcome]) -> pl.DataFrame:
    rows = [
        {
            "source_file": f.name,
            "status": f.status,
            "submission_date": f.submission_date.isoformat() if f.submission_date else "",
            # DIDS049 and DIDS055 need the file's submission date (DIDS051 and DIDS066
            # fall back on the build date).
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


# --------------------------------------------------------------------------- report


def build_quality_report(
    con: duckdb.DuckDBPyConnection,
    files: list[InputFile],
    outcomes: dict[int, FileOutcome],
    policy: str = "did",
    months: tuple[str, ...] | None = None,
) -> QualityReport:
    period = report_months(con, months)
    return QualityReport(
        policy=policy,
        months=period,
        by_provider=quality_by_provider(con, files, policy),
        issues=provider_issues(con, period, policy),
        files=files_report(files, outcomes),
    )


def write_quality_report(
    con: duckdb.DuckDBPyConnection,
    files: list[InputFile],
    outcomes: dict[int, FileOutcome],
    folder: Path,
    policy: str = "did",
    *,
    months: tuple[str, ...] | None = None,
    published_on: date | None = None,
    cover: CoverText | None = None,
    stamp: str | None = None,
    publication: Publication | None = None,
) -> QualityReport:
    """Write `folder/quality/`: the CSVs, the workbook and the web page of the report.

    months: the publication's months (default: April to the latest month of test in the
    data); published_on: the workbook's date (default: the day after the period); cover:
    the publication's cover text (its contact; default: the shipped one); stamp: said on
    every page and sheet (the demo's "Synthetic data: not official statistics");
    publication: the page is then in the site's layout (header, navigation, stamp).
    """
    report = build_quality_report(con, files, outcomes, policy, months)
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
    from publish.workbook import load_cover_text, write_report_workbook

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
    return report


def report_date(report: QualityReport) -> date:
    """A date from the data, never the clock: the first day after the period."""
    if not report.months:
        return date(2000, 1, 1)
    year, month = (int(part) for part in report.months[-1].split("-"))
    return date(year + month // 12, month % 12 + 1, 1)


# --------------------------------------------------------------------------- renderings


def policy_words(policy: str) -> str:
    rules = cell_rules(policy)
    england = (
        "England counts are rounded to the nearest 5 but never suppressed"
        if rules.round_england_counts
        else "England counts are not rounded"
    )
    return (
        f"Counts follow the '{policy}' disclosure control policy: below England, counts of "
        f"1 to {rules.suppress_counts_below - 1} are suppressed and shown as [c], and other "
        f"counts are rounded to the nearest {rules.round_counts_to}; {england}."
    )


def cover_paragraphs(report: QualityReport) -> list[tuple[str, str]]:
    not_applied = report.files.filter(pl.col("submission_date_rules_applied") == "no").height
    paragraphs = [
        (
            "text",
            "How many submitted records were accepted, rejected or accepted with a warning, "
            "by provider and month of test, which rules they broke, which provider-months "
            "look under-reported, and what became of each file received.",
        ),
        ("heading", "Disclosure control"),
        ("text", policy_words(report.policy)),
        ("heading", "Provider issues"),
        (
            "text",
            f"A provider-month is listed when the provider sent no record with a test date "
            f"in that month but sent records for other months of {report.period_words}, or "
            f"when the records counted fell below {LOW_ACTIVITY_SHARE:.0%} of the median of "
            f"its previous {BASELINE_MONTHS} months in the period (listed once at least "
            f"{MIN_BASELINE_MONTHS} previous months are in the period).",
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
                f"{not_applied} file(s) had no submission date: rules DIDS049 and DIDS055 "
                "were not applied to their records, and DIDS051 and DIDS066 compared their "
                "dates with the build date.",
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
            + [text_cell(month)]
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
            float(r["records_received"]),
            float(r["records_accepted"]),
            float(r["records_rejected"]),
            float(r["records_warned"]),
            float(r["records_superseded"]),
        ]
        for r in report.files.iter_rows(named=True)
    ]
    return ReportTable(
        tab="Files",
        title="Files received and what became of their records",
        description="Each row is a submission file. A file is rejected whole when its "
        "columns cannot be read; its records are then all rejected.",
        table_name="files_received",
        text_headers=[
            "File",
            "Status",
            "Submission date",
            "Submission date rules applied",
            "Message",
        ],
        number_headers=[
            "Records received",
            "Records accepted",
            "Records rejected",
            "Records warned",
            "Records superseded",
        ],
        rows=body,
    )


def report_tables(report: QualityReport) -> list[ReportTable]:
    tables = [by_provider_table(report), files_table(report)]
    if report.issues.height:
        tables.insert(0, issues_table(report))
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
    from publish.workbook import Column, TableSheet

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
    env = Environment(
        loader=FileSystemLoader(str(resource_dir("templates"))),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )

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
        ],
    )
    if publication is not None:
        from publish.site import render_in_site_layout

        return render_in_site_layout(publication, "quality.html", "../html/", **context)
    return env.get_template("quality.html").render(**context)
