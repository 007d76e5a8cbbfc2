"""The data-quality report written (PUBLICATION.md section 5): `quality/` in the
publication (or validation) folder, from a `QualityReport` and nothing else.

- `data-quality-by-provider.csv`: the figures by provider and month, and for England;
- `provider-issues.csv`: possible under-reporting;
- `files.csv`: the files received, by name;
- `disclosure-audit-summary.csv`: the audit's cells by table and status;
- `data-quality.xlsx` and `index.html`: the same report as an accessible workbook and
  web pages (in the site's layout beside a publication, else pages of their own):
  `index.html` with England's rows of the table by provider and month, a page of each
  region's providers (`by-provider-<region>.html`) and one of the files (`files.html`).

The figures are made by the quality stage (`publish.quality.figures`); here they are
only laid out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from publish.disclosure.policy import Policy
from publish.quality.report import (
    BASELINE_MONTHS,
    BY_PROVIDER_COLUMNS,
    ISSUE_MEASURES,
    LOW_ACTIVITY_SHARE,
    MIN_BASELINE_MONTHS,
    TOTAL_MEASURES,
    QualityReport,
)
from publish.render.site import render_in_site_layout, slug
from publish.render.templates import environment
from publish.render.tidy import format_value, write_csv
from publish.tables import ALL_MONTHS, MARKERS

if TYPE_CHECKING:
    from publish.render.publication import Publication
    from publish.render.workbook import CoverText


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
    for name, page in render_pages(report, stamp, publication).items():
        (quality_dir / name).write_text(page, encoding="utf-8")


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
    keys = list(BY_PROVIDER_COLUMNS[: BY_PROVIDER_COLUMNS.index("measure")])  # the row's keys
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


# The report's pages in `quality/`: the index, a page of each region's providers and a
# page of the files received. The table by provider and month holds every provider's
# every month (the demo's: 2,400 rows of 23 columns, 3.9 MB on one page); split by
# region, with England's rows on the index, no page of the report is large. Every row
# of the table is on exactly one page, as it is in the workbook and the CSV.
INDEX_PAGE = "index.html"
FILES_PAGE = "files.html"
NOT_A_REGION = ("[z]", "[x]")  # England's rows, and rows whose region is not known


@dataclass(frozen=True)
class RegionRows:
    """A region's rows of the table by provider and month: a page of their own."""

    code: str
    name: str
    page: str  # file name in quality/
    table: ReportTable


def split_by_region(table: ReportTable) -> tuple[ReportTable, list[RegionRows]]:
    """(England's rows and those of no known region, each region's rows), each in the
    table's order; the regions by code. Column 1 of a row is its region code, column 2
    its name (`by_provider_table`)."""
    index_rows: list[list[object]] = []
    regions: dict[str, tuple[str, list[list[object]]]] = {}
    for row in table.rows:
        code = str(row[1])
        if code in NOT_A_REGION:
            index_rows.append(row)
        else:
            regions.setdefault(code, (str(row[2]), []))[1].append(row)
    pages: list[RegionRows] = []
    used: set[str] = {INDEX_PAGE, FILES_PAGE}
    for code in sorted(regions):
        name, rows = regions[code]
        page = f"by-provider-{slug(code)}.html"
        while page in used:  # two codes of one slug: never in the reference, never lost
            page = page.removesuffix(".html") + "-2.html"
        used.add(page)
        title = f"{table.title}: {name}"
        pages.append(RegionRows(code, name, page, replace(table, title=title, rows=rows)))
    return replace(table, rows=index_rows), pages


def shown_cell(cell: object) -> str:
    """A cell as the page writes it: a count with thousands separated, else its text."""
    if isinstance(cell, float):
        return f"{cell:,.0f}"
    return str(cell)


def table_entry(table: ReportTable, caption: str | None = None) -> dict[str, object]:
    """What the page's table macro reads: the table, its id, its shorthand line, and its
    cells as text (numbers formatted once here, not per cell in the template)."""
    return {
        "table": table,
        "id": table.table_name.replace("_", "-"),
        "caption": caption or table.title,
        "shorthand": shorthand_line(table),
        "text_columns": len(table.text_headers),
        "rows": [[shown_cell(cell) for cell in row] for row in table.rows],
        "page": None,  # the table's own page, when the index only links it
        "regions": [],  # the pages of the table's regions (by provider and month)
        "region_not_known": any(row[1] == "[x]" for row in table.rows),
    }


def render_pages(
    report: QualityReport, stamp: str | None = None, publication: Publication | None = None
) -> dict[str, str]:
    """The report's web pages, file name -> page: in the site's layout beside a
    publication (its `html/` folder is a sibling of `quality/`), else pages of their own.

    The index holds the text, the downloads, the provider issues, England's rows of the
    table by provider and month (and those of records whose region is not known) with
    links to each region's page, and the audit's summary; the files received are on a
    page of their own."""
    title = f"Diagnostic Imaging Dataset data-quality report, {report.period_words}"
    tables = report_tables(report)
    index_tables: list[dict[str, object]] = []
    regions: list[RegionRows] = []
    files: ReportTable | None = None
    for table in tables:
        if table.table_name == "quality_by_provider":
            england, regions = split_by_region(table)
            where = "England" + (
                ", and where the region is not known"
                if any(row[1] == "[x]" for row in england.rows)
                else ""
            )
            entry = table_entry(england, f"{table.title}: {where}")
            entry["regions"] = regions
            index_tables.append(entry)
        elif table.table_name == "files_received":
            files = table
            entry = table_entry(replace(table, rows=[]))
            entry["page"] = FILES_PAGE
            index_tables.append(entry)
        else:
            index_tables.append(table_entry(table))
    downloads = [
        ("Data-quality workbook (Excel)", "data-quality.xlsx"),
        ("Records by provider and month (CSV)", "data-quality-by-provider.csv"),
        ("Provider issues (CSV)", "provider-issues.csv"),
        ("Files received (CSV)", "files.csv"),
        *(
            [("Disclosure audit summary (CSV)", "disclosure-audit-summary.csv")]
            if report.audit is not None
            else []
        ),
    ]
    pages = {
        INDEX_PAGE: render_page(
            "quality_body.html",
            publication,
            title=title,
            stamp=stamp,
            paragraphs=cover_paragraphs(report),
            tables=index_tables,
            downloads=downloads,
        )
    }
    for region in regions:
        pages[region.page] = render_page(
            "quality_part_body.html",
            publication,
            title=region.table.title,
            stamp=stamp,
            report_title=title,
            entry=table_entry(region.table),
            others=[(f"{r.name} ({r.code})", r.page, r is region) for r in regions],
        )
    if files is not None:
        pages[FILES_PAGE] = render_page(
            "quality_part_body.html",
            publication,
            title=files.title,
            stamp=stamp,
            report_title=title,
            entry=table_entry(files),
            others=[],
        )
    return pages


def render_page(body: str, publication: Publication | None, **context: object) -> str:
    """A page of the report, `body` its content's template: in the site's layout (its
    header, navigation and stylesheet, from `../html/`) or on its own."""
    if publication is not None:
        breadcrumbs = None
        if body != "quality_body.html":
            breadcrumbs = [("Home", "../html/index.html"), ("Data quality", INDEX_PAGE)]
        return render_in_site_layout(
            publication, "quality.html", "../html/", body=body, breadcrumbs=breadcrumbs, **context
        )
    return environment().get_template("quality.html").render(body=body, **context)
