"""The shipped demo: `did-publish build` with no inputs, and what a publication holds.

The demo build runs once per test session (it is the README's first command); the tests
then read its real outputs.
"""

import hashlib
import json
from collections import Counter
from pathlib import Path

import openpyxl
import polars as pl
from frictionless import Package

from tests.conftest import DEMO_ID
from tests.html_tables import TableReader

STAMP = "Synthetic data: not official statistics"


def digest_tree(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    }


def test_demo_has_every_table(demo):
    tidy = pl.read_csv(demo / f"{DEMO_ID}.csv", infer_schema=False)
    # in publication order: NHS England's 7a and 7b between 6 and 8
    assert tidy["table"].unique(maintain_order=True).to_list() == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7a",
        "7b",
        "8",
        "9",
        "10",
        "11",
        "12",
        "13",
    ]
    # every commissioner of the demo's practices (and Unknown) has rows of table 7a
    commissioners = tidy.filter(
        (pl.col("table") == "7a") & (pl.col("geography_level") == "commissioner")
    )["provider_code"].unique()
    assert "Unknown" in commissioners.to_list() and commissioners.len() > 50
    # synth's patients are registered with practices of the provider's own and
    # neighbouring sub-ICBs (scripts/make_demo_practices.py), a small share unknown
    totals = tidy.filter(
        (pl.col("table") == "7a")
        & (pl.col("measure") == "activity_count")
        & (pl.col("marker").fill_null("") == "")
    ).with_columns(pl.col("value").cast(pl.Int64))
    england = totals.filter(pl.col("geography_level") == "england")["value"].sum()
    unknown = totals.filter(pl.col("provider_code") == "Unknown")["value"].sum()
    assert 0.01 < unknown / england < 0.15, (unknown, england)
    assert set(tidy["marker"].drop_nulls().unique()) <= {"c", "x", "z"}
    # Every provider-region of the published 2023-24 table 1 appears in the demo.
    providers = (
        tidy.filter(pl.col("geography_level") == "provider")
        .select("region_code", "provider_code")
        .unique()
    )
    assert providers.height >= 200


def test_the_demos_workbook_passes_the_checker(demo):
    """Every table's sheet, 7a, 7b, 8 and 13 among them (tests/workbook_checker.py)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from workbook_checker import check_workbook

    assert check_workbook(demo / f"{DEMO_ID}.xlsx") == []


def test_demo_writes_every_output(demo):
    for name in (f"{DEMO_ID}.csv", f"{DEMO_ID}.xlsx", "datapackage.json", "manifest.json"):
        assert (demo / name).is_file(), name
    assert (demo / "html" / "index.html").is_file()
    assert (demo / "quality").is_dir()
    restricted = demo.parent / f"{DEMO_ID}.restricted"
    assert (restricted / "quarantine.csv").is_file()


def test_datapackage_validates_with_frictionless(demo):
    report = Package(str(demo / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]


def test_manifest_accounts_for_every_record(demo):
    manifest = json.loads((demo / "manifest.json").read_text())
    assert manifest["policy"] == "did"
    # the accounting per file is the producer's: in the restricted manifest
    restricted = json.loads((demo.parent / f"{DEMO_ID}.restricted" / "manifest.json").read_text())
    assert [e["file"] for e in restricted["inputs"]] == [e["file"] for e in manifest["inputs"]]
    for entry in restricted["inputs"]:
        assert entry["records_received"] == entry["records_accepted"] + entry["records_rejected"]
        assert entry["size_bytes"] > 0
    totals = restricted["totals"]
    assert totals["received"] == totals["accepted"] + totals["rejected"]
    assert totals["rejected"] > 0  # the synthetic data carries a known share of bad records
    assert totals["received"] == sum(e["records_received"] for e in restricted["inputs"])
    # the public totals are England's, rounded as the did policy rounds England
    public = manifest["totals"]
    for key, true in totals.items():
        assert public[key] % 5 == 0 and abs(public[key] - true) <= 2, key
    for entry in manifest["inputs"]:
        assert set(entry) == {"file", "sha256", "submission_date", "status", "message"}
    listed = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    assert listed == digest_tree(demo)


def test_the_demo_is_stamped_synthetic_on_every_page_sheet_and_title(demo):
    """A forgotten INPUT never passes for official statistics (issue 18)."""
    pages = sorted(demo.rglob("*.html"))  # the site's and the data-quality report's
    assert len(pages) > 200
    unstamped = [p.name for p in pages if STAMP not in p.read_text(encoding="utf-8")]
    assert not unstamped, unstamped[:5]
    for workbook in (demo / f"{DEMO_ID}.xlsx", demo / "quality" / "data-quality.xlsx"):
        book = openpyxl.load_workbook(workbook, read_only=True)
        for sheet in book.worksheets:
            top = [row[0] for row in sheet.iter_rows(min_row=1, max_row=3, values_only=True)]
            assert STAMP in top, (workbook.name, sheet.title, top)
    package = json.loads((demo / "datapackage.json").read_text())
    assert package["title"].endswith(STAMP)
    cover = openpyxl.load_workbook(demo / f"{DEMO_ID}.xlsx", read_only=True)["Cover"]
    words = " ".join(str(row[0]) for row in cover.iter_rows(values_only=True) if row[0])
    assert "tables of official statistics" not in words
    assert "8 May 2025" in words  # derived from the period: the second Thursday of May


# The sheets' key columns (geography, and table 13's provider details): "[z]" there is
# not a figure.
KEY_HEADERS = (
    "Region code",
    "Org code",
    "Region name",
    "Provider name",
    "Commissioner code",
    "Commissioner name",
    "ICB code",
    "Imaging network",
)


def test_the_ods_copy_reads_back_with_the_figures_of_the_tidy_csv(demo):
    """Every figure and marker of each table, as many times as in the tidy CSV."""
    from collections import Counter

    from tests.ods_reader import read_ods, table_body

    sheets, ranges = read_ods(demo / f"{DEMO_ID}.ods")
    tidy = pl.read_csv(demo / f"{DEMO_ID}.csv", infer_schema=False)
    named = {address.split(".")[0].strip("'"): name for name, address in ranges.items()}
    for number in tidy["table"].unique(maintain_order=True).to_list():
        rows = tidy.filter(pl.col("table") == number)
        expected = Counter(
            f"[{marker}]" if marker else float(value)
            for value, marker in rows.select("value", "marker").iter_rows()
        )
        headers, body = table_body(sheets[f"Table_{number}"], ranges[named[f"Table_{number}"]])
        found = Counter(
            cell
            for row in body
            for header, cell in row.items()
            if isinstance(cell, float) or str(cell).startswith("[")
            if header not in KEY_HEADERS
        )
        assert found == expected, number


# --------------------------------------------------------------------------- the quality pages


class TableRows(TableReader):
    """A page's tables: caption -> rows of cell texts (the heading row first), and its
    links."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[tuple[str, ...]]] = {}
        self.links: set[str] = set()
        self.caption: list[str] | None = None  # while in a caption
        self.current: list[tuple[str, ...]] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def start(self, tag, attrs):
        if tag == "caption":
            self.caption = []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "a" and dict(attrs).get("href"):
            self.links.add(dict(attrs)["href"])

    def end(self, tag):
        if tag == "caption":
            self.current = self.tables.setdefault(" ".join("".join(self.caption).split()), [])
            self.caption = None
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr":
            self.current.append(tuple(self.row))
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        elif self.caption is not None:
            self.caption.append(data)


def read_tables(path: Path) -> TableRows:
    page = TableRows()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def by_provider_rows_of_the_csv(quality: Path, headings: tuple[str, ...]) -> Counter:
    """The rows of the table by provider and month as the pages must show them, worked
    out from `data-quality-by-provider.csv` (what the workbook and the audit read) for
    the page's column headings: every row of the CSV's providers and months, once."""
    from publish.render.quality import TOTAL_LABELS

    measures = {label: measure for measure, label in TOTAL_LABELS.items()}
    columns = [
        measures.get(h) or "count_rule_" + h.removeprefix("Records breaking ") for h in headings[5:]
    ]
    frame = pl.read_csv(quality / "data-quality-by-provider.csv", infer_schema=False)
    cells: dict[tuple, dict[str, str]] = {}
    for r in frame.iter_rows(named=True):
        if r["geography_level"] == "england":
            labels = ("England", "[z]", "[z]", "[z]")
        else:
            labels = tuple(
                " ".join(str(r[k] or "").split()) or "[x]"
                for k in ("provider_name", "region_code", "region_name", "provider_code")
            )
        key = (*labels, "All months" if r["month"] == "all" else r["month"])
        value = f"{float(r['value']):,.0f}" if r["value"] is not None else f"[{r['marker'] or 'x'}]"
        cells.setdefault(key, {})[r["measure"]] = value
    return Counter((*key, *(row.get(m, "0") for m in columns)) for key, row in cells.items())


def test_the_quality_report_is_split_by_region_with_every_row_once(demo):
    """Issue 17: the table by provider and month (3.9 MB on one page before) is on the
    index for England and on a page per region for its providers; across the pages its
    rows are exactly the CSV's, each once, each region's on its own page; the index
    links every page of the report; no HTML file of the publication passes 500 kB."""
    quality = demo / "quality"
    pages = {path.name: read_tables(path) for path in sorted(quality.glob("*.html"))}
    title = "Records received, accepted, rejected and warned, by provider and month"
    headings: set[tuple[str, ...]] = set()
    found: Counter = Counter()
    for name, page in pages.items():
        for caption, rows in page.tables.items():
            if not caption.startswith(title):
                continue
            headings.add(rows[0])
            found.update(rows[1:])
            regions = {row[1] for row in rows[1:]}
            if name == "index.html":
                assert regions <= {"[z]", "[x]"} and "[z]" in regions
            else:  # by-provider-<region>.html: that region's providers only
                assert name == f"by-provider-{regions.pop().lower()}.html" and not regions
    (heading,) = headings  # one set of columns on every page
    assert found == by_provider_rows_of_the_csv(quality, heading)
    region_pages = {n for n in pages if n.startswith("by-provider-")}
    assert len(region_pages) == 7  # the demo's seven regions
    assert region_pages | {"files.html"} <= pages["index.html"].links
    # the files, on a page of their own, as files.csv lists them
    files = pl.read_csv(quality / "files.csv", infer_schema=False)
    (rows,) = pages["files.html"].tables.values()
    assert [row[0] for row in rows[1:]] == files["source_file"].to_list()
    sizes = {p.relative_to(demo).as_posix(): p.stat().st_size for p in demo.rglob("*.html")}
    assert max(sizes.values()) <= 500_000, max(sizes.items(), key=lambda item: item[1])
