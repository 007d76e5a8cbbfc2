"""The HTML summaries: figures from the tidy table, escaping, no external reference, same bytes."""

from __future__ import annotations

import re
import threading
import urllib.request
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import polars as pl
import pytest

from publish.disclosure.policy import make_policy
from publish.render.charts import SERIES_COLOURS, svg_number
from publish.render.publication import Publication
from publish.render.site import format_value, make_server, write_site
from publish.tables import MARKERS, TABLES, TIDY_COLUMNS
from tests.html_tables import TableReader

LATEST = "2024-06"
MONTHS = ("2024-04", "2024-05", "2024-06")
YTD = "2024-04/2024-06"
MODALITIES = ("Computerized Axial Tomography", "Magnetic Resonance Imaging", "Plain Radiography")
REGIONS = {"Y56": "London Commissioning Region", "Y60": "Midlands Commissioning Region"}
PROVIDERS = (
    ("Y56", "RAA", "Ash & Elm Hospitals NHS Trust"),
    ("Y56", "RBB", "<script>alert(1)</script>"),
    ("Y60", "RCC", "Cedar Imaging NHS Foundation Trust"),
)
SCRIPT_NAME = "<script>alert(1)</script>"
SETTINGS = ("A&E", "Inpatient", "Outpatient", "GP Direct Access", "All")
MEASURE = {1: "activity_count", 2: "median_days_request_to_test", 3: "median_days_test_to_report"}


def _value(table: int, geo: int, modality: int, period: int, setting: int = 0) -> float:
    """Deterministic, varied figures: counts in fives, medians with halves."""
    if table == 1 or table == 11:
        weight = (60, 24, 36, 9, 5, 14)[geo]  # England, 2 regions, 3 providers
        share = (7, 2, 4, 5, 18)[setting] if table == 11 else 18
        return float(5 * round(weight * (30 + 13 * modality + period) * share / 18))
    base = 3 + geo + 2 * modality + period + (2 if table == 3 else 0) - (geo > 2) * (table - 1)
    return base + (0.5 if (geo + modality + period) % 3 == 0 else 0.0)


def sample_tidy() -> pl.DataFrame:
    """Tables 1, 2, 3 and 11 for England, two regions and three providers."""
    areas = [("england", "", "", "", "")]
    areas += [("region", code, name, "", "") for code, name in REGIONS.items()]
    areas += [("provider", r, REGIONS[r], p, name) for r, p, name in PROVIDERS]
    rows = []

    def add(table, area, geo, modality, setting, period, value, marker=""):
        level, rcode, rname, pcode, pname = area
        rows.append(
            (table, level, rcode, rname, pcode, pname, modality, setting, period)
            + (MEASURE.get(table, "activity_count"), value, marker)
        )

    for table in (1, 2, 3):
        for geo, area in enumerate(areas):
            for mi, modality in enumerate(MODALITIES):
                for pi, period in enumerate((*MONTHS, YTD)):
                    value, marker = _value(table, geo, mi, pi), ""
                    pcode = area[3]
                    if pcode == "RCC" and period == "2024-05":
                        value, marker = None, "x"  # no data submitted that month
                    elif pcode == "RBB" and mi == 1 and period == "2024-04":
                        value, marker = None, "c"  # suppressed
                    elif pcode == "RAA" and mi == 2 and table > 1 and period == "2024-06":
                        value, marker = None, "c"
                    add(table, area, geo, modality, "All", period, value, marker)
    for geo, area in enumerate(areas):
        for mi, modality in enumerate(MODALITIES):
            for si, setting in enumerate(SETTINGS):
                value, marker = _value(11, geo, mi, 3, si), ""
                if area[3] == "RBB" and setting == "A&E":
                    value, marker = None, "c"
                add(11, area, geo, modality, setting, YTD, value, marker)
    frame = pl.DataFrame(
        rows,
        schema={
            "table": pl.Int64,
            "geography_level": pl.String,
            "region_code": pl.String,
            "region_name": pl.String,
            "provider_code": pl.String,
            "provider_name": pl.String,
            "modality": pl.String,
            "source_setting": pl.String,
            "period": pl.String,
            "measure": pl.String,
            "value": pl.Float64,
            "marker": pl.String,
        },
        orient="row",
    )
    assert tuple(frame.columns) == TIDY_COLUMNS
    return frame


def sample_publication() -> Publication:
    return Publication(
        latest_month=LATEST,
        status="provisional",
        policy=make_policy("did"),
        tidy=sample_tidy(),
        published_on=date(2024, 8, 8),
    )


class _Page(TableReader):
    """Collects tables (caption, header rows, body rows of cell texts), scripts, links.

    A row header written once for several rows (rowspan) is in each row it spans, as
    HTML's table model reads it: every body row has all its cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.scripts: list[str] = []
        self.refs: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self._stack: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[tuple[str, str]] | None = None
        self._caption: list[str] | None = None
        self._script: list[str] | None = None
        self._section = ""
        self._spans: dict[int, list] = {}  # column -> [rows still spanned, (tag, text)]
        self._span = 1

    def start(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src", "xlink:href", "action", "srcset", "poster", "data"):
                self.refs.append((tag, name, value or ""))
        if tag == "table":
            self.tables.append({"caption": "", "head": [], "body": []})
        elif tag in ("thead", "tbody"):
            self._section = tag
            self._spans = {}
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td"):
            self._fill_spanned()
            self._cell = []
            self._cell_tag = tag
            self._span = int(dict(attrs).get("rowspan") or 1)
        elif tag == "script":
            self._script = []

    def end(self, tag):
        if tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("th", "td") and self._cell is not None:
            cell = (self._cell_tag, " ".join("".join(self._cell).split()))
            if self._span > 1:
                self._spans[len(self._row)] = [self._span - 1, cell]
            self._row.append(cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._fill_spanned()
            key = "head" if self._section == "thead" else "body"
            self.tables[-1][key].append(self._row)
            self._row = None
        elif tag == "script" and self._script is not None:
            self.scripts.append("".join(self._script))
            self._script = None

    def _fill_spanned(self) -> None:
        """Put in the current row the cells that rows above span into it."""
        while self._row is not None and len(self._row) in self._spans:
            span = self._spans[len(self._row)]
            self._row.append(span[1])
            span[0] -= 1
            if not span[0]:
                del self._spans[len(self._row) - 1]

    def handle_data(self, data):
        self.text.append(data)
        for sink in (self._cell, self._caption, self._script):
            if sink is not None:
                sink.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def _cell_figure(text: str) -> tuple[float | None, str]:
    """'1,235' -> (1235.0, ''); '[c] (confidential...)' -> (None, 'c')."""
    marker = re.search(r"\[([a-z])\]", text)
    number = re.match(r"^[+-]?[\d,]+(?:\.\d+)?", text)
    value = float(number.group(0).replace(",", "")) if number else None
    return value, marker.group(1) if marker else ""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("pub") / "html"
    return out, write_site(sample_publication(), out)


def test_pages_written(site):
    out, files = site
    names = {p.relative_to(out).as_posix() for p in files}
    assert {"index.html", "nhs.css", "charts/activity-by-modality.svg"} <= names
    assert {f"tables/table-{n}.html" for n in (1, 2, 3, 11)} <= names
    assert len([n for n in names if n.startswith("providers/")]) == 3
    assert {
        "modalities/computerized-axial-tomography.html",
        "modalities/magnetic-resonance-imaging.html",
        "modalities/plain-radiography.html",
    } <= names
    assert files == sorted(files) and all(p.is_file() for p in files)


@pytest.mark.parametrize("region, code, name", PROVIDERS)
def test_provider_page_figures_equal_tidy(site, region, code, name):
    out, _ = site
    tidy = sample_tidy()
    page = parse(out / "providers" / f"{region.lower()}-{code.lower()}.html")
    assert name in "".join(page.text)
    level, rcode, pcode = "provider", region, code
    checked = 0
    for number in (1, 2, 3):
        [table] = [t for t in page.tables if TABLES[number].title in t["caption"]]
        header = [text for _, text in table["head"][0]]
        assert header[:1] == ["Modality"]
        periods = [YTD if h == "Year to date" else _period_of(h) for h in header[1:]]
        assert periods == [*MONTHS, YTD]
        for row in table["body"]:
            kinds = [kind for kind, _ in row]
            assert kinds[:1] == ["th"] and set(kinds[1:]) == {"td"}
            modality, area = row[0][1], name
            for (_, text), period in zip(row[1:], periods, strict=True):
                assert text, "no empty cells"
                expected = tidy.filter(
                    (pl.col("table") == number)
                    & (pl.col("geography_level") == level)
                    & (pl.col("region_code") == rcode)
                    & (pl.col("provider_code") == pcode)
                    & (pl.col("modality") == modality)
                    & (pl.col("period") == period)
                )
                assert expected.height == 1, (number, area, modality, period)
                value, marker = _cell_figure(text)
                assert value == expected["value"][0], (number, area, modality, period, text)
                assert marker == expected["marker"][0], (number, area, modality, period, text)
                checked += 1
    # every figure of the provider in tables 1-3 is on its page
    provider_rows = tidy.filter(
        pl.col("table").is_in([1, 2, 3]) & (pl.col("provider_code") == code)
    ).height
    assert checked == provider_rows
    # its region's and England's rows (once on each table's page, issue 17): linked, and
    # the linked table is that area's, with every one of its figures of the table
    links = [ref for tag, attr, ref in page.refs if tag == "a" and "#" in ref]
    for number in (1, 2, 3):
        for anchor, level, rcode in (
            (f"region-{region.lower()}", "region", region),
            ("england", "england", ""),
        ):
            href = f"../tables/table-{number}.html#{anchor}"
            assert href in links, href
            target = (out / "providers" / href.split("#")[0]).resolve()
            text = target.read_text(encoding="utf-8")
            table = text.split(f'id="{anchor}"')[1].split("</table>")[0]
            expected = tidy.filter(
                (pl.col("table") == number)
                & (pl.col("geography_level") == level)
                & (pl.col("region_code") == rcode)
            )
            shown = re.findall(r"<td>([^<]*)", table)
            assert len(shown) == expected.height > 0, (href, len(shown))


MONTH_ABBREVIATIONS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def _period_of(label: str) -> str:
    """'Apr 2024' -> '2024-04'."""
    mon, year = label.split()
    return f"{year}-{MONTH_ABBREVIATIONS.index(mon) + 1:02d}"


SHORTHAND = re.compile(r"\[([a-z])\]")
KEY_ENTRY = re.compile(r"<dt>\[([a-z])\]</dt><dd>([^<]*)</dd>")
CELL = re.compile(
    r"<td[^>]*>([^<]*)"
)  # a table's cell (its end tag implied): a figure, its shorthand


def shorthand_key_problems(path: Path) -> list[str]:
    """What is wrong with a page's key of shorthands: a shorthand a table cell uses that
    the key does not explain, a key entry no cell uses, a meaning not MARKERS', or a key
    after the first table of figures (the key belongs above the tables)."""
    html = path.read_text(encoding="utf-8")
    used = {code for cell in CELL.findall(html) for code in SHORTHAND.findall(cell)}
    key = dict(KEY_ENTRY.findall(html))
    problems = [f"{path.name}: [{code}] used, not in the key" for code in sorted(used - set(key))]
    problems += [
        f"{path.name}: [{code}] in the key, never used" for code in sorted(set(key) - used)
    ]
    problems += [
        f"{path.name}: [{code}] means {MARKERS.get(code)!r}, the key says {meaning!r}"
        for code, meaning in key.items()
        if MARKERS.get(code) != meaning
    ]
    if key and html.index('id="symbols-heading"') > html.index("<table"):
        problems.append(f"{path.name}: the key is after the first table")
    return problems


def _table_rows(page: _Page) -> list[str]:
    return [text for table in page.tables for row in table["body"] for _, text in row]


def test_shorthand_is_text_explained_once_by_the_pages_key(site):
    """A suppressed cell shows [c] as text (no tooltip, no hidden words per cell); the
    page's key, above its tables, explains each shorthand the page uses and no other."""
    out, files = site
    html = (out / "providers" / "y56-rbb.html").read_text(encoding="utf-8")
    assert "[c]" in {cell.strip() for cell in CELL.findall(html)}
    assert "<abbr" not in html.split("<main")[1]
    assert html.count('id="symbols-heading"') == 1
    assert f"<dt>[c]</dt><dd>{MARKERS['c']}</dd>" in html
    assert "[x]" in "".join(_table_rows(parse(out / "providers" / "y60-rcc.html")))
    pages = [path for path in files if path.suffix == ".html"]
    assert [problem for path in pages for problem in shorthand_key_problems(path)] == []
    # a page none of whose cells is marked has no key
    assert not any('id="symbols-heading"' in p.read_text() for p in pages if not _uses_shorthand(p))
    assert any(not _uses_shorthand(p) for p in pages)


def _uses_shorthand(path: Path) -> bool:
    return any(SHORTHAND.search(text) for text in _table_rows(parse(path)))


def test_repeated_row_headers_span_their_rows():
    """A grouped table writes a row header repeated down its rows (a modality over its
    settings) once, as the row header of the rows it spans, and right-aligns figures by
    the table's class, not a class per cell."""
    from publish.render.site import Cell, Column, HtmlTable, Row
    from publish.render.templates import environment

    table = HtmlTable(
        "grouped",
        "A grouped table",
        ("Modality", "Setting"),
        (Column("Apr 2024"),),
        [
            [Row(("CT", "All"), (Cell("5"),)), Row(("CT", "GP"), (Cell(None, "c"),))],
            [Row(("MRI", "All"), (Cell("10"),))],
        ],
    )
    macros = environment().get_template("site/_macros.html").module  # as the site renders
    html = str(macros.data_table(table))
    # a row is one line; the end tags HTML lets a table leave out are left out
    assert '<tr><th rowspan="2">CT<th>All<td>5\n' in html
    assert "<tr><th>GP<td>[c]\n" in html
    assert "<th>MRI<" in html and html.count("<tbody>") == 2
    # no scope attribute: HTML's automatic scope already makes each heading of the head
    # row its column's header and each of a body row its row's (checked in a browser by
    # tests/test_site_browser.py::test_table_headings_are_column_and_row_headers)
    assert "scope=" not in html
    assert not re.search(r"</t[dhr]>", html)
    assert 'class="nhsuk-table figures table--grouped"' in html
    assert '<td class="num"' not in html
    assert "\n      <td" not in html  # no indentation inside tables


def test_index_headline_figures(site):
    out, _ = site
    tidy = sample_tidy()
    page = parse(out / "index.html")
    [table] = [t for t in page.tables if "England" in t["caption"]]
    text = "".join(page.text)
    assert "not shown: this publication holds the financial year 2024-25 only" in text
    for row in table["body"]:
        modality = row[0][1]
        for (_, cell), number in zip(row[1:], (1, 2, 3), strict=True):
            expected = tidy.filter(
                (pl.col("table") == number)
                & (pl.col("geography_level") == "england")
                & (pl.col("modality") == modality)
                & (pl.col("period") == LATEST)
            )["value"][0]
            assert _cell_figure(cell)[0] == expected
    assert 'alt="Bar chart of the number of imaging tests in England in June 2024' in (
        out / "index.html"
    ).read_text(encoding="utf-8")


def test_change_on_same_month_last_year_when_present(tmp_path):
    tidy = sample_tidy()
    england = tidy.filter(
        (pl.col("table") == 1)
        & (pl.col("geography_level") == "england")
        & (pl.col("period") == LATEST)
    )
    last_year = england.with_columns(
        pl.lit("2023-06").alias("period"), (pl.col("value") * 0.8).round(0).alias("value")
    )
    publication = Publication(
        LATEST, "provisional", make_policy("did"), pl.concat([tidy, last_year])
    )
    write_site(publication, tmp_path)
    [table] = [t for t in parse(tmp_path / "index.html").tables if "England" in t["caption"]]
    assert [text for _, text in table["head"][0]][2] == "Change on June 2023 (%)"
    for row in table["body"]:
        now = england.filter(pl.col("modality") == row[0][1])["value"][0]
        before = round(now * 0.8)
        assert row[2][1] == f"{(now - before) / before * 100:+.1f}"


def test_modality_page_ranks_by_median(site):
    out, _ = site
    page = parse(out / "modalities" / "computerized-axial-tomography.html")
    [ranking] = [t for t in page.tables if "ranked" in t["caption"]]
    medians = [_cell_figure(row[3][1])[0] for row in ranking["body"]]
    ranked = [m for m in medians if m is not None]
    assert ranked == sorted(ranked) and len(ranked) == 3


def test_names_are_escaped(site):
    out, files = site
    for path in files:
        if path.suffix != ".html":
            continue
        raw = path.read_text(encoding="utf-8")
        assert "<script>alert" not in raw
        page = parse(path)
        assert all("alert(1)" not in script for script in page.scripts), path
        assert "&amp;" not in "".join(page.text)  # '&' shown once, not double-escaped
    raw = (out / "providers" / "y56-rbb.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert SCRIPT_NAME in "".join(parse(out / "providers" / "y56-rbb.html").text)
    assert "Ash &amp; Elm Hospitals NHS Trust" in (out / "index.html").read_text(encoding="utf-8")
    assert "Ash & Elm Hospitals NHS Trust" in "".join(parse(out / "index.html").text)


def _is_external(ref: str) -> bool:
    ref = ref.strip()
    return bool(re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*:|//|/|\\)", ref))


def test_no_external_reference(site):
    out, files = site
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            refs = [value for _, _, value in parse(path).refs]
        elif path.suffix == ".svg":
            refs = re.findall(r'(?:href|src)\s*=\s*"([^"]*)"', text)
        else:
            refs = []
        refs += re.findall(r"url\(\s*['\"]?([^'\")]*)", text)
        refs += re.findall(r"@import\s+['\"]?([^'\";\s]*)", text)
        assert refs or path.suffix != ".html"
        external = [r for r in refs if _is_external(r) and not r.startswith("#")]
        assert not external, (path, external)
        # every relative link resolves to a written file (downloads sit beside html/)
        for ref in refs:
            target = ref.split("#")[0]
            if not target:
                continue
            resolved = (path.parent / target).resolve()
            if resolved.is_relative_to(out.resolve()):
                assert resolved.is_file(), (path, ref)
            else:
                assert resolved.parent == out.resolve().parent, (path, ref)


def test_downloads_relative_to_each_page(tmp_path):
    downloads = {"CSV": "../x.csv", "Workbook": "../x.xlsx", "Data package": "../datapackage.json"}
    write_site(sample_publication(), tmp_path / "html", downloads)
    index = parse(tmp_path / "html" / "index.html").refs
    assert ("a", "href", "../x.csv") in index
    table = parse(tmp_path / "html" / "tables" / "table-1.html").refs
    assert ("a", "href", "../../datapackage.json") in table
    with pytest.raises(ValueError):
        write_site(sample_publication(), tmp_path / "bad", {"CSV": "https://example.org/x.csv"})


def test_same_publication_same_bytes(tmp_path):
    first = write_site(sample_publication(), tmp_path / "a")
    second = write_site(sample_publication(), tmp_path / "b")
    rel = [p.relative_to(tmp_path / "a") for p in first]
    assert rel == [p.relative_to(tmp_path / "b") for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a


def test_format_value():
    assert format_value(1234567.0) == "1,234,567"
    assert format_value(4.5) == "4.5"
    assert format_value(45.3) == "45.3"
    assert format_value(None) is None


def test_serve_publication_binds_localhost(site):
    out, _ = site
    server, url = make_server(out.parent, port=0)
    assert server.server_address[0] == "127.0.0.1"
    assert url.endswith("/html/index.html")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200
            assert b"Diagnostic Imaging Dataset" in response.read()
    finally:
        server.shutdown()
        server.server_close()


def _captions_of(page: _Page) -> list[str]:
    return [t["caption"] for t in page.tables]


def _members_shown(page: _Page) -> list[str]:
    """The providers (or commissioners) a region's page shows: its table's outer row
    header, once per member, in order."""
    return list(dict.fromkeys(row[0][1] for table in page.tables for row in table["body"]))


def test_table_pages_hold_one_regions_providers(site):
    """The table's page: England and regions; each region's providers on a page of their
    own, reached by a plain link (no JavaScript), and every provider's table on exactly
    one page."""
    out, _ = site
    tables_dir = out / "tables"
    main = parse(tables_dir / "table-1.html")
    assert not any(name in c for c in _captions_of(main) for _, _, name in PROVIDERS)
    linked = [ref for tag, attr, ref in main.refs if tag == "a" and attr == "href"]
    for region in REGIONS:
        page_name = f"table-1-{region.lower()}.html"
        assert page_name in linked
        page = parse(tables_dir / page_name)
        shown = _members_shown(page)
        others = [n for r, _, n in PROVIDERS if r != region]
        ours = [n for r, _, n in PROVIDERS if r == region]
        assert not any(n in s for s in shown for n in others), (region, shown)
        assert [sum(n in s for s in shown) for n in ours] == [1] * len(ours)
        # the region's providers in one table: a group of rows each, its name their header
        [table] = page.tables
        assert table["head"][0][:2] == [("th", "Provider"), ("th", "Modality")]
        assert table["caption"].startswith("Table 1: ") and "providers in" in table["caption"]
    # the provider's page links to its rows on its region's page
    provider = parse(out / "providers" / "y60-rcc.html").refs
    assert ("a", "href", "../tables/table-1-y60.html#provider-y60-rcc") in provider


def test_large_region_split_into_numbered_pages(tmp_path, monkeypatch):
    """Past the page budget a region's providers go on numbered pages linked both ways."""
    import publish.render.site

    monkeypatch.setattr(publish.render.site, "MAX_PAGE_BYTES", 1)  # every provider a page
    write_site(sample_publication(), tmp_path)
    first = parse(tmp_path / "tables" / "table-2-y56.html")
    second = parse(tmp_path / "tables" / "table-2-y56-2.html")
    assert ("a", "href", "table-2-y56-2.html") in first.refs
    assert ("a", "href", "table-2-y56.html") in second.refs
    assert not (tmp_path / "tables" / "table-2-y56-3.html").exists()
    shown = _members_shown(first) + _members_shown(second)
    assert [sum(n in s for s in shown) for r, _, n in PROVIDERS if r == "Y56"] == [1, 1]
    assert "page 2 of 2" in second.tables[0]["caption"]
    assert ("a", "href", "../tables/table-2-y56-2.html#provider-y56-raa") in parse(
        tmp_path / "providers" / "y56-raa.html"
    ).refs


# --------------------------------------------------------------------------- issue 18


def test_each_modality_page_has_a_monthly_trend_chart_with_its_figures_as_a_table(site):
    out, _ = site
    tidy = sample_tidy()
    text = (out / "modalities" / "magnetic-resonance-imaging.html").read_text()
    assert 'role="img" aria-labelledby="trend-chart-title trend-chart-desc"' in text
    assert '<desc id="trend-chart-desc">Line chart of the number of Magnetic Resonance' in text
    table = next(
        t
        for t in parse(out / "modalities/magnetic-resonance-imaging.html").tables
        if t["caption"].startswith("Number of Magnetic Resonance Imaging tests")
    )
    shown = [_cell_figure(row[1][1])[0] for row in table["body"]]
    expected = [
        tidy.filter(
            (pl.col("table") == 1)
            & (pl.col("geography_level") == "england")
            & (pl.col("modality") == "Magnetic Resonance Imaging")
            & (pl.col("source_setting") == "All")
            & (pl.col("period") == month)
        )["value"][0]
        for month in MONTHS
    ]
    assert shown == expected
    assert text.count("<circle ") == len(MONTHS)  # one point per published month


def test_a_provider_page_sets_the_provider_beside_its_region_and_england(site):
    out, _ = site
    page = out / "providers" / "y56-raa.html"
    text = page.read_text()
    assert 'aria-labelledby="comparison-chart-title comparison-chart-desc"' in text
    table = next(t for t in parse(page).tables if t["caption"].startswith("Median days"))
    headers = [c[1] for c in table["head"][0]]
    assert headers == ["Modality", PROVIDERS[0][2], REGIONS["Y56"], "England"]
    assert len(table["body"]) == len(MODALITIES)
    # a bar per modality and area, and a key of three
    assert text.count("<rect ") == 3 * len(MODALITIES) + 3


def test_a_chart_says_once_what_its_marks_share(site):
    """The compact chart markup draws the same marks: each bar takes its area's colour
    from the group around it (one group an area, a bar a modality in each), the bar
    labels their size from theirs, and no coordinate is written with a ".0"."""
    out, _ = site
    text = (out / "providers" / "y56-raa.html").read_text()
    svg = re.search(r'<svg class="chart-svg".*?</svg>', text, re.S).group(0)
    root = ElementTree.fromstring(
        svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    )
    ns = "{http://www.w3.org/2000/svg}"
    bar_groups = [g for g in root.iter(f"{ns}g") if g.get("fill") in SERIES_COLOURS]
    assert [g.get("fill") for g in bar_groups] == sorted(SERIES_COLOURS)
    for group in bar_groups:
        bars = group.findall(f"{ns}rect")
        assert len(bars) == len(MODALITIES) and all(b.get("fill") is None for b in bars)
    labels = next(g for g in root.iter(f"{ns}g") if g.get("font-size") == "12")
    assert len(labels.findall(f"{ns}text")) == 3 * len(MODALITIES)
    assert not re.search(r'="[^"]*\d\.0\b', svg)
    assert [svg_number(v) for v in (236.0, 78.94, 0.04, 12.15)] == ["236", "78.9", "0", "12.2"]


def test_downloads_show_their_sizes_and_the_quality_report_is_linked(tmp_path):
    out = tmp_path / "pub" / "html"
    out.mkdir(parents=True)
    (tmp_path / "pub" / "x.csv").write_bytes(b"a" * 2_100_000)
    write_site(sample_publication(), out, {"Tidy data (CSV)": "../x.csv"}, "../quality/index.html")
    text = (out / "index.html").read_text()
    assert "Tidy data (CSV, 2.1 MB)" in text
    assert 'href="../quality/index.html">Data quality</a>' in text
    assert "Published 8 August 2024" in text  # the publication date in the header
    without = tmp_path / "plain"
    write_site(sample_publication(), without)
    assert "Data quality</a>" not in (without / "index.html").read_text()


def test_the_site_is_built_on_the_pinned_nhsuk_frontend_and_fetches_nothing(site):
    """The vendored stylesheet is exactly the pinned package's, less what would fetch."""
    import re
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    check = subprocess.run(
        [sys.executable, repo / "scripts" / "vendor_nhsuk_frontend.py", "--check"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    out, _ = site
    css = (out / "nhsuk-frontend.min.css").read_text()
    assert css.startswith("/* nhsuk-frontend 10.6.1 (MIT)")
    assert "@font-face" not in css and not re.search(r"url\((?!data:)", css)
    index = (out / "index.html").read_text()
    assert 'href="nhsuk-frontend.min.css"' in index and 'class="nhsuk-header"' in index


# --------------------------------------------------------------------------- the demo's site


def test_the_demos_pages_are_small_and_each_table_page_has_its_key(demo):
    """Issue 17: no page of the demo's site passes 500 kB (a phone on a slow line opens
    it), the whole of `html/` (pages and assets) stays within 8 MB, and every table page
    (a table's, a region's providers', a commissioner's) that uses a shorthand explains
    it in a key above its tables."""
    site = demo / "html"
    pages = sorted(site.rglob("*.html"))
    largest = max(pages, key=lambda p: p.stat().st_size)
    assert largest.stat().st_size <= 500_000, (largest.name, largest.stat().st_size)
    assert sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) <= 8_000_000
    table_pages = [p for p in pages if p.parent.name in ("tables", "commissioners")]
    assert len(table_pages) > 100
    assert [problem for path in table_pages for problem in shorthand_key_problems(path)] == []
    assert sum("[c]" in {c.strip() for c in CELL.findall(p.read_text())} for p in table_pages) > 50


LINK = re.compile(r'href="([^"#:]*\.html)#([^"]+)"')
ID = re.compile(r'\bid="([^"]+)"')


def test_the_demos_links_to_rows_on_other_pages_reach_them(demo):
    """Issue 17: England's and a region's rows are written once, on each table's page;
    the provider and commissioner pages link them. Every link of the demo's site to a
    place on a page reaches a page and an element of that id, and each commissioner's
    page links England's rows of its tables."""
    site = demo / "html"
    pages = sorted(site.rglob("*.html"))
    ids: dict[Path, set[str]] = {}
    checked = 0
    for page in pages:
        for href, anchor in LINK.findall(page.read_text(encoding="utf-8")):
            target = (page.parent / href).resolve()
            if target not in ids:
                assert target.is_file(), (page.name, href)
                ids[target] = set(ID.findall(target.read_text(encoding="utf-8")))
            assert anchor in ids[target], (page.name, href, anchor)
            checked += 1
    assert checked > 1000
    commissioner = (site / "commissioners" / "y56-10c.html").read_text(encoding="utf-8")
    for number in ("7a", "7b", "8"):
        assert f'href="../tables/table-{number}.html#england"' in commissioner
        assert f'id="table-{number}-england"' not in commissioner  # not written again
    provider = (site / "providers" / "y56-rf4.html").read_text(encoding="utf-8")
    assert 'href="../tables/table-2.html#region-y56"' in provider
