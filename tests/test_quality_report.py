"""The data-quality report in `quality/`: counts by provider and month under the
disclosure policy, provider issues, files, and its workbook and web page.

The scenario (financial year 2024-25, published to July 2024):
- RAA: 20 records a month April to June, then 5 in July: July is below half the median
  of its previous three months (low activity).
- RBB: 10 records in April and 10 in June, none in May and July: no records in May and
  July, although it sent records for other months. June is not low (median of April and
  May is 5).
- One RAA record in April breaks DIDS023 (a warning) and one breaks DIDS045 (month not
  known); a damaged file adds records whose site is not known (DIDS075).
- The site reference names RAA with text a spreadsheet would run and a browser would
  parse: it must arrive as text everywhere.
"""

import re
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import TEST_IMAGING_CODES, TEST_SITES, record, run_cli, write_submission

sys.path.insert(0, str(Path(__file__).parent))
from workbook_checker import check_workbook  # noqa: E402

NASTY_NAME = '=HYPERLINK("http://evil.invalid","<script>alert(1)</script>")'


def month_record(month: int, **fields: str) -> dict[str, str]:
    dates = {
        "DIAGNOSTIC_TEST_DATE": f"2024-{month:02d}-10",
        "DIAGNOSTIC_TEST_REQUEST_DATE": f"2024-{month:02d}-01",
        "DIAG_TEST_REQUEST_REC_DATE": f"2024-{month:02d}-01",
        "SERVICE_REPORT_DATE": f"2024-{month:02d}-11",
    }
    return record(**(dates | fields))


@pytest.fixture(scope="module")
def quality(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("quality")
    sites = folder / "sites.csv"
    text = TEST_SITES.read_text(encoding="utf-8").replace(
        "Alpha Hospitals NHS Trust", '"' + NASTY_NAME.replace('"', '""') + '"'
    )
    sites.write_text(text, encoding="utf-8")
    raa = [month_record(m) for m, n in ((4, 20), (5, 20), (6, 20), (7, 5)) for _ in range(n)]
    raa += [month_record(4, REFERRER="Q12"), month_record(4, DIAGNOSTIC_TEST_DATE="x")]
    rbb = [month_record(m, SITE_CODE_IMAGING="RBB01") for m in (4, 6) for _ in range(10)]
    write_submission(folder / "in" / "raa.csv", raa)
    write_submission(folder / "in" / "rbb.csv", rbb)
    damaged = "".join(";".join([str(row)] * 18) + "\n" for row in range(2))
    (folder / "in" / "damaged.csv").write_text(damaged, encoding="utf-8")
    out = folder / "out"
    run_cli(
        "build",
        folder / "in",
        "--sites",
        sites,
        "--imaging-codes",
        TEST_IMAGING_CODES,
        "--out",
        out,
    )
    return out / "did-2024-25-provisional-2024-07" / "quality"


def read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def test_the_report_has_every_file(quality):
    names = sorted(p.name for p in quality.iterdir())
    assert names == [
        "by-provider-y56.html",  # RAA's region's rows (London)
        "by-provider-y58.html",  # RBB's (South West)
        "data-quality-by-provider.csv",
        "data-quality.xlsx",
        "disclosure-audit-summary.csv",
        "files.csv",
        "files.html",
        "index.html",
        "provider-issues.csv",
    ]


def by_provider_value(frame: pl.DataFrame, code: str, month: str, measure: str):
    rows = frame.filter(
        (pl.col("geography_level") == "provider")
        & (pl.col("provider_code").fill_null("") == code)
        & (pl.col("month") == month)
        & (pl.col("measure") == measure)
    )
    assert rows.height == 1, (code, month, measure, rows)
    return rows["value"][0], rows["marker"][0]


def test_counts_by_provider_follow_the_disclosure_policy(quality):
    frame = read(quality / "data-quality-by-provider.csv")
    # 22 received in April (20 + a warned + one with no valid test date), rounded to 5.
    assert by_provider_value(frame, "RAA", "2024-04", "count_records_received") == ("20", None)
    # One warned record: suppressed below England.
    assert by_provider_value(frame, "RAA", "2024-04", "count_rule_DIDS023") == (None, "c")
    assert by_provider_value(frame, "RAA", "not known", "count_rule_DIDS045") == (None, "c")
    # Records that could not be read: site and month not known, DIDS075; 2 is suppressed.
    assert by_provider_value(frame, "", "not known", "count_rule_DIDS075") == (None, "c")
    unknown = frame.filter(pl.col("provider_code").is_null())
    assert set(unknown["provider_name"].drop_nulls()) == {"Site not known"}
    # Every published count is a multiple of 5 or suppressed; England is first.
    values = frame["value"].drop_nulls().cast(pl.Int64)
    assert (values % 5 == 0).all()
    assert frame["geography_level"][0] == "england"
    assert set(frame["marker"].drop_nulls()) <= {"c"}


def test_provider_issues_find_missing_and_low_months(quality):
    issues = read(quality / "provider-issues.csv")
    found = sorted(zip(issues["provider_code"], issues["month"], issues["issue"], strict=True))
    assert found == [
        ("RAA", "2024-07", "low_activity"),
        ("RBB", "2024-05", "no_records"),
        ("RBB", "2024-07", "no_records"),
    ]
    low = issues.filter(pl.col("issue") == "low_activity").row(0, named=True)
    assert (low["records_counted"], low["previous_months_median"]) == ("5", "20")
    assert "April 2024 to June 2024" in low["description"]
    missing = issues.filter(pl.col("issue") == "no_records")["description"][0]
    assert missing.startswith("No record with a test date in May 2024")
    assert "2 other months" in missing


def test_files_are_listed_by_name_and_accounted_for_in_the_restricted_folder(quality):
    files = read(quality / "files.csv")
    damaged = files.filter(pl.col("source_file") == "damaged.csv").row(0, named=True)
    assert damaged["status"] == "rejected"
    assert "semicolons" in damaged["message"]
    # one file is one provider's month: no count or size of a file is published
    assert not [c for c in files.columns if c.startswith("records_") or "size" in c]
    restricted = read(quality.parent.parent / f"{quality.parent.name}.restricted" / "files.csv")
    assert restricted["source_file"].to_list() == files["source_file"].to_list()
    received = restricted["records_received"].cast(pl.Int64)
    accepted = restricted["records_accepted"].cast(pl.Int64)
    rejected = restricted["records_rejected"].cast(pl.Int64)
    assert (received == accepted + rejected).all()
    assert (restricted["size_bytes"].cast(pl.Int64) > 0).all()


def test_the_audit_summary_is_public_and_the_bounds_restricted(quality):
    summary = read(quality / "disclosure-audit-summary.csv")
    assert summary.columns == ["table", "status", "cells"]
    restricted = quality.parent.parent / f"{quality.parent.name}.restricted"
    cells = read(restricted / "disclosure-audit.csv")
    assert cells.columns[:4] == ["cell", "lower", "upper", "status"]
    by_table = summary.filter(pl.col("table") != "all tables")
    assert by_table["cells"].cast(pl.Int64).sum() == cells.height > 0
    overall = summary.filter((pl.col("table") == "all tables") & (pl.col("status") == "any"))
    assert overall["cells"].cast(pl.Int64).to_list() == [cells.height]
    # the report's own suppressed counts are cells of the audit
    assert "data-quality report" in summary["table"].to_list()
    assert not list(quality.parent.rglob("disclosure-audit.csv"))
    html = (quality / "index.html").read_text(encoding="utf-8")
    assert "NHS England&#39;s rule allows it" in html or "NHS England's rule allows it" in html


def test_text_from_the_site_reference_is_neutralised_in_the_csvs(quality):
    for name in ("data-quality-by-provider.csv", "provider-issues.csv"):
        text = (quality / name).read_text(encoding="utf-8")
        assert "'=HYPERLINK" in text
        assert not re.search(r'(^|,)"?=', text, re.MULTILINE)
    tidy = next(quality.parent.glob("did-*.csv")).read_text(encoding="utf-8")
    assert "'=HYPERLINK" in tidy and not re.search(r'(^|,)"?=', tidy, re.MULTILINE)


def test_workbooks_hold_the_name_as_text_never_a_formula(quality):
    for path in (quality / "data-quality.xlsx", next(quality.parent.glob("*.xlsx"))):
        with zipfile.ZipFile(path) as archive:
            sheets = [
                archive.read(n).decode()
                for n in archive.namelist()
                if n.startswith("xl/worksheets/")
            ]
            strings = archive.read("xl/sharedStrings.xml").decode()
        assert not any("<f>" in sheet or "<f " in sheet for sheet in sheets), path.name
        assert '=HYPERLINK("http://evil.invalid","&lt;script&gt;' in strings


def test_the_quality_workbook_passes_the_checker(quality):
    assert check_workbook(quality / "data-quality.xlsx") == []


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.scripts += tag == "script"


@pytest.mark.parametrize("name", ["index.html", "by-provider-y56.html", "files.html"])
def test_the_web_pages_are_escaped_accessible_and_self_contained(quality, name):
    html = (quality / name).read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    assert page.scripts == 0  # the provider name's <script> arrived as text
    if name != "files.html":  # RAA's rows: its July's issue, its region's page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    tags = [tag for tag, _ in page.tags]
    # the index: the provider issues, England's rows by provider and month, the audit
    assert tags.count("table") == tags.count("caption") >= (3 if name == "index.html" else 1)
    headers = [attrs for tag, attrs in page.tags if tag == "th"]
    # no scope attribute: HTML's automatic scope makes each heading of the head row a
    # column header and each body row's first cell its row header (the roles a browser
    # gives them: tests/test_site_browser.py)
    assert headers and all("scope" not in attrs for attrs in headers)
    # every row has its header: each body row (a line of its own) starts with a <th>
    body_rows = re.findall(r"^<tr><th>", html, re.MULTILINE)
    assert len(body_rows) == html.count("<tr>") - tags.count("thead") > 0
    assert ("html", {"lang": "en-GB"}) in page.tags
    for _, attrs in page.tags:  # nothing fetched from elsewhere; links stay in the folder
        for key in ("src", "href"):
            if key in attrs:
                assert not re.match(r"^(https?:)?//", attrs[key]), attrs
    assert not [t for t, a in page.tags if t in ("img", "iframe", "object")]
    # in the site's layout: its stylesheets, from the publication's html folder
    assert [a for t, a in page.tags if t == "link"] == [
        {"rel": "stylesheet", "href": "../html/nhsuk-frontend.min.css"},
        {"rel": "stylesheet", "href": "../html/nhs.css"},
    ]
    assert (quality.parent / "html" / "nhs.css").is_file()


def page_links(path: Path) -> set[str]:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return {a["href"] for t, a in page.tags if t == "a" and "href" in a}


def test_the_index_links_every_page_of_the_report_and_each_links_back(quality):
    """The table by provider and month is split by region (issue 17): the index links
    each region's page and the files' page, and each of them links the index."""
    pages = {p.name for p in quality.glob("*.html")} - {"index.html"}
    regions = read(quality / "data-quality-by-provider.csv")["region_code"].drop_nulls()
    assert {f"by-provider-{code.lower()}.html" for code in regions} | {"files.html"} == pages
    assert pages <= page_links(quality / "index.html")
    for name in pages:
        assert "index.html" in page_links(quality / name), name


def test_validate_writes_the_same_report(tmp_path):
    path = write_submission(
        tmp_path / "a.csv", [month_record(4), month_record(4, DIAGNOSTIC_TEST_DATE="")]
    )
    run_cli(
        "validate",
        path,
        "--sites",
        TEST_SITES,
        "--imaging-codes",
        TEST_IMAGING_CODES,
        "--out",
        tmp_path / "out",
        expect=1,
    )
    quality = tmp_path / "out" / "validation" / "quality"
    assert (quality / "provider-issues.csv").is_file()
    assert check_workbook(quality / "data-quality.xlsx") == []
    # pages of their own (no site beside them): the index links RAA's region's page
    index = (quality / "index.html").read_text(encoding="utf-8")
    assert "<style>" in index and "../html/" not in index
    assert {"by-provider-y56.html", "files.html"} <= page_links(quality / "index.html")
    region = (quality / "by-provider-y56.html").read_text(encoding="utf-8")
    assert "<style>" in region and "<tr><th>Alpha Hospitals NHS Trust<" in region
