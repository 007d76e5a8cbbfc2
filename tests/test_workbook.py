"""The accessible workbook: compliant by construction, checked, and faithful to the tidy."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import xlsxwriter

sys.path.insert(0, str(Path(__file__).parent))

from ods_reader import read_ods, table_body  # noqa: E402
from workbook_checker import check_workbook  # noqa: E402

from publish.disclosure.policy import make_policy
from publish.render import workbook as wbmod  # noqa: E402
from publish.render.publication import Publication  # noqa: E402
from publish.render.release import default_next_update, default_publication_date  # noqa: E402
from publish.render.workbook import (  # noqa: E402
    Column,
    TableSheet,
    WorkbookError,
    load_cover_text,
    write_workbook,
)
from publish.tables import TABLES, TIDY_COLUMNS  # noqa: E402

LATEST = "2024-06"
MONTHS = ("2024-04", "2024-05", "2024-06")
YTD = "2024-04/2024-06"
MODALITIES = ("Computerized Axial Tomography", "Plain Radiography")
LONDON = ("Y56", "London Commissioning Region")
MIDLANDS = ("Y60", "Midlands Commissioning Region")
# (level, region code, region name, provider code, provider name), publication order.
GEOGRAPHIES = (
    ("england", "", "", "", ""),
    ("region", *LONDON, "", ""),
    ("region", *MIDLANDS, "", ""),
    ("provider", *LONDON, "NT4", "Independent Imaging Ltd"),
    ("provider", *LONDON, "RAL", "Royal Free London NHS Foundation Trust"),
    ("provider", *MIDLANDS, "NT4", "Independent Imaging Ltd"),
    ("provider", *MIDLANDS, "RRK", "University Hospitals Birmingham NHS Foundation Trust"),
)
SETTINGS = ("A&E", "Inpatient", "Outpatient", "GP Direct Access", "All")


def _row(table, geography, modality, setting, period, measure, value, marker=""):
    level, region_code, region_name, provider_code, provider_name = geography
    return {
        "table": table,
        "geography_level": level,
        "region_code": region_code,
        "region_name": region_name,
        "provider_code": provider_code,
        "provider_name": provider_name,
        "modality": modality,
        "source_setting": setting,
        "period": period,
        "measure": measure,
        "value": value,
        "marker": marker,
    }


def make_tidy() -> pl.DataFrame:
    """Tables 1, 2 and 11 with England, region and provider rows, some 'c' and 'x'."""
    rows = []
    for g_index, geography in enumerate(GEOGRAPHIES):
        for m_index, modality in enumerate(MODALITIES):
            for p_index, period in enumerate((*MONTHS, YTD)):
                count = 1000.0 * (g_index + 1) + 100 * m_index + 5 * p_index
                marker = ""
                if geography[3] == "NT4" and period == "2024-05":
                    count, marker = None, "x"  # no data submitted
                elif geography[3] == "RRK" and m_index == 1 and period == "2024-04":
                    count, marker = None, "c"
                rows.append(
                    _row(1, geography, modality, "All", period, "activity_count", count, marker)
                )
                median = 2.5 + g_index + m_index + p_index
                marker = ""
                if geography[0] == "provider" and m_index == 1 and period != YTD:
                    median, marker = None, "c"
                rows.append(
                    _row(
                        2,
                        geography,
                        modality,
                        "All",
                        period,
                        "median_days_request_to_test",
                        median,
                        marker,
                    )
                )
    for g_index, geography in enumerate(GEOGRAPHIES):
        for m_index, modality in enumerate(MODALITIES):
            for s_index, setting in enumerate(SETTINGS):
                value = 10.0 * (g_index + 1) + m_index + s_index
                marker = ""
                if geography[3] == "RAL" and setting == "A&E":
                    value, marker = None, "c"
                rows.append(
                    _row(11, geography, modality, setting, YTD, "activity_count", value, marker)
                )
    frame = pl.DataFrame(rows, schema_overrides={"table": pl.Int64, "value": pl.Float64})
    return frame.select(TIDY_COLUMNS)


def make_publication(tidy: pl.DataFrame | None = None, **changes) -> Publication:
    values = {
        "latest_month": LATEST,
        "status": "provisional",
        "policy": make_policy("did"),
        "tidy": make_tidy() if tidy is None else tidy,
        "published_on": date(2024, 8, 8),
    }
    values.update(changes)
    return Publication(**values)


@pytest.fixture(scope="module")
def cover():
    return load_cover_text()


@pytest.fixture(scope="module")
def written(tmp_path_factory, cover) -> Path:
    publication = make_publication()
    path = tmp_path_factory.mktemp("book") / f"{publication.identifier}.xlsx"
    write_workbook(publication, path, cover, path.with_suffix(".ods"))
    return path


# ------------------------------------------------------------------------ compliance


def test_written_workbook_passes_the_checker(written):
    assert check_workbook(written) == []


def test_sheets_properties_and_cover(written, cover):
    wb = openpyxl.load_workbook(written)
    assert wb.sheetnames == ["Cover", "Contents", "Notes", "Table_1", "Table_2", "Table_11"]
    assert wb.active.title == "Cover"
    assert wb.properties.language == "en-GB"
    assert wb.properties.title.startswith(cover.title)
    assert wb.properties.created == datetime(2024, 8, 8)
    texts = [c.value for c in wb["Cover"]["A"] if c.value]
    assert texts[0] == wb.properties.title
    joined = "\n".join(texts)
    for needle in (
        "Provisional",
        "8 August 2024",
        default_next_update(LATEST, date(2024, 8, 8)),  # derived: none in the cover text
        cover.contact_email,
        cover.disclosure["did"],
        cover.licence_name,
        cover.revisions,
    ):
        assert needle in joined
    tables = {ws.title: list(ws.tables) for ws in wb.worksheets}
    assert tables["Table_1"] == ["table_1_activity_count"]
    assert tables["Contents"] == ["table_of_contents"]
    assert tables["Notes"] == ["notes_table"]


def test_same_inputs_give_identical_bytes(tmp_path, cover):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    publication = make_publication()
    name = f"{publication.identifier}.xlsx"
    write_workbook(publication, first / name, cover)
    write_workbook(make_publication(), second / name, cover)
    assert (first / name).read_bytes() == (second / name).read_bytes()


def test_publication_date_falls_back_to_the_cover_text_then_the_period(tmp_path, cover):
    publication = make_publication(published_on=None)
    path = tmp_path / f"{publication.identifier}.xlsx"
    dated = replace(cover, published_on=date(2024, 12, 12))
    write_workbook(publication, path, dated)
    assert openpyxl.load_workbook(path).properties.created.date() == date(2024, 12, 12)
    write_workbook(publication, path, cover)  # no date anywhere: derived from the period
    created = openpyxl.load_workbook(path).properties.created.date()
    assert created == default_publication_date(LATEST)


# ------------------------------------------------------------------------ golden test


def _sheet_cells(ws):
    """Header names, and the table body as a list of dicts keyed by header."""
    table = next(iter(ws.tables.values()))
    min_col, min_row, max_col, max_row = openpyxl.utils.range_boundaries(table.ref)
    headers = [ws.cell(min_row, c).value for c in range(min_col, max_col + 1)]
    body = [
        dict(zip(headers, [ws.cell(r, c).value for c in range(min_col, max_col + 1)], strict=True))
        for r in range(min_row + 1, max_row + 1)
    ]
    return headers, body


LEVEL_NAMES = {"england": "England", "region": "Region", "provider": "Provider"}
MONTH_HEADERS = {"2024-04": "Apr 2024", "2024-05": "May 2024", "2024-06": "Jun 2024"}


def _column_header(table: int, record: dict) -> str:
    layout = TABLES[table].layout
    if layout == "settings":
        return "Total" if record["source_setting"] == "All" else record["source_setting"]
    if layout == "measures":
        return wbmod.MEASURE_HEADERS[record["measure"]]
    return "Year to date" if record["period"] == YTD else MONTH_HEADERS[record["period"]]


def table_cells(path: Path):
    """number -> (headers, body) of the table on sheet Table_<number>, xlsx or ods."""
    if path.suffix == ".ods":
        sheets, ranges = read_ods(path)
        names = {address.split(".")[0].strip("'"): name for name, address in ranges.items()}
        return lambda number: table_body(
            sheets[f"Table_{number}"], ranges[names[f"Table_{number}"]]
        )
    wb = openpyxl.load_workbook(path)
    return lambda number: _sheet_cells(wb[f"Table_{number}"])


def assert_golden(path: Path, tidy: pl.DataFrame) -> None:
    """Every tidy value is on its table's sheet, in its row and column, with its marker."""
    cells_of = table_cells(path)
    for number in tidy["table"].unique(maintain_order=True).to_list():
        headers, body = cells_of(number)
        assert len(headers) == len(set(headers))
        label = TABLES[number].row_label
        key_headers = [
            h
            for h in ("Geography level", "Region code", "Org code", label, "Source setting")
            if h in headers
        ]

        def key_of(record: dict, key_headers=key_headers, label=label) -> tuple:
            values = {
                "Geography level": LEVEL_NAMES[record["geography_level"]],
                "Region code": record["region_code"] or "[z]",
                "Org code": record["provider_code"] or "[z]",
                label: record["modality"],
                "Source setting": record["source_setting"],
            }
            return tuple(values[h] for h in key_headers)

        index = {tuple(row[h] for h in key_headers): row for row in body}
        assert len(index) == len(body)  # row keys are unique
        records = list(tidy.filter(pl.col("table") == number).iter_rows(named=True))
        order = list(dict.fromkeys(key_of(r) for r in records))
        assert list(index) == order  # the tidy's rows, in the tidy's order, no extras
        for record in records:
            row = index[key_of(record)]
            if "Region name" in row:
                assert row["Region name"] == (record["region_name"] or "[z]")
            if "Provider name" in row:
                assert row["Provider name"] == (record["provider_name"] or "[z]")
            cell = row[_column_header(number, record)]
            if record["marker"]:
                assert cell == f"[{record['marker']}]", record
            else:
                assert isinstance(cell, int | float), record
                assert cell == record["value"], record


def test_every_tidy_value_is_on_its_sheet(written):
    assert_golden(written, make_tidy())


def test_the_ods_copy_holds_every_tidy_value_and_the_same_sheets(written):
    assert_golden(written.with_suffix(".ods"), make_tidy())
    sheets, _ = read_ods(written.with_suffix(".ods"))
    book = openpyxl.load_workbook(written)
    assert list(sheets) == book.sheetnames
    cover = [row[0] for row in sheets["Cover"]]
    assert cover == [c.value for c in book["Cover"]["A"] if c.value]


def test_the_ods_copy_is_byte_identical_for_the_same_inputs(tmp_path, cover, written):
    publication = make_publication()
    again = tmp_path / f"{publication.identifier}.xlsx"
    write_workbook(publication, again, cover, again.with_suffix(".ods"))
    assert again.with_suffix(".ods").read_bytes() == written.with_suffix(".ods").read_bytes()


def _lxml_cell(value, style, link=None) -> bytes:
    """One cell as `publish.render.ods.write_cell` writes it with lxml, in a document
    with the content's namespaces (what `content_xml` writes around it)."""
    import io

    from lxml import etree

    from publish.render.ods import NS, q, write_cell

    buffer = io.BytesIO()
    with (
        etree.xmlfile(buffer, encoding="UTF-8") as xf,
        xf.element(q("office:document-content"), nsmap=NS),
        xf.element(q("table:table")),
    ):
        xf.flush()
        start = buffer.tell()
        write_cell(xf, value, style, link)
        xf.flush()
        end = buffer.tell()
    return buffer.getvalue()[start:end]


@pytest.mark.parametrize(
    ("value", "style", "link"),
    [
        (2115, "count", None),
        (-1234567.25, "decimal", None),
        (0.5, "decimal", None),
        (7.0, "count", None),
        ("Barking, Havering & Redbridge <NHS> \"Trust\" 'x'", "text", None),
        ("a\rb\nc\td – é 𝄞", "text", None),
        ("[c]", "count", None),
        ("Table 1 & notes", "link", "internal:'Table_1'!A1"),
        ("mail", "link", 'mailto:a@b.org?subject=a&b="c"<d>\n\r\t'),
        ("", "text", ""),
    ],
)
def test_the_ods_rows_text_is_what_lxml_writes(value, style, link):
    """The ODS writes its tables' rows as text (`cell_xml`), not by lxml cell by cell:
    the same bytes, escapes included, and the same refusal of what XML cannot hold."""
    from publish.render.ods import cell_xml

    assert cell_xml(value, style, link).encode("utf-8") == _lxml_cell(value, style, link)


@pytest.mark.parametrize("bad", ["a\x01b", "\x0b", "\ufffe"])
def test_the_ods_rows_text_refuses_what_lxml_refuses(bad):
    from publish.render.ods import cell_xml

    with pytest.raises(ValueError, match="XML compatible"):
        _lxml_cell(bad, "text")
    with pytest.raises(ValueError, match="XML compatible"):
        cell_xml(bad, "text")


def make_other_tidy() -> pl.DataFrame:
    """Tables 4, 9, 10 and 12: cancer groups by setting, and the measures layouts."""
    rows = []
    groups = ("Brain (MRI)", "Chest (X-ray)")
    for g_index, geography in enumerate(GEOGRAPHIES[:1] + GEOGRAPHIES[3:5]):
        for group in groups:
            for setting in ("All", "GP Direct Access"):
                for p_index, period in enumerate((*MONTHS, YTD)):
                    value, marker = 100.0 * (g_index + 1) + p_index, ""
                    if geography[3] == "NT4" and setting == "GP Direct Access":
                        value, marker = None, "z"
                    rows.append(
                        _row(4, geography, group, setting, period, "activity_count", value, marker)
                    )
        for modality in MODALITIES:
            rows.append(_row(12, geography, modality, "All", YTD, "activity_count", 5.0, ""))
            for period in MONTHS:
                rows.append(_row(12, geography, modality, "All", period, "activity_count", 0.0))
    for modality in MODALITIES:
        for setting in ("Outpatient", "GP Direct Access"):
            for m_index, measure in enumerate(TABLES[9].measures):
                value = 12.5 * (m_index + 1)
                rows.append(_row(9, GEOGRAPHIES[0], modality, setting, YTD, measure, value))
    for geography in GEOGRAPHIES[3:]:
        for modality in MODALITIES:
            for setting in ("A&E, Inpatients & Day Cases", "Outpatients & GP Direct Access"):
                for measure in TABLES[10].measures:
                    value, marker = 87.5, ""
                    if geography[3] == "RRK" and measure.startswith("percent"):
                        value, marker = None, "c"
                    rows.append(_row(10, geography, modality, setting, YTD, measure, value, marker))
    frame = pl.DataFrame(rows, schema_overrides={"table": pl.Int64, "value": pl.Float64})
    return frame.select(TIDY_COLUMNS)


def test_other_layouts(tmp_path, cover):
    tidy = make_other_tidy()
    publication = make_publication(tidy, status="final", policy=make_policy("strict"))
    path = tmp_path / f"{publication.identifier}.xlsx"
    write_workbook(publication, path, cover)
    assert check_workbook(path) == []
    assert_golden(path, tidy)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[3:] == ["Table_4", "Table_9", "Table_10", "Table_12"]
    headers, _ = _sheet_cells(wb["Table_9"])
    assert headers[:3] == ["Geography level", "Modality", "Source setting"]
    headers, _ = _sheet_cells(wb["Table_4"])
    assert "Cancer test group" in headers and "Source setting" in headers


def test_number_formats_and_markers(written, tmp_path, cover):
    # one median of whole days among the halves of the test data
    tidy = make_tidy().with_row_index("i")
    first = tidy.filter((pl.col("table") == 2) & (pl.col("marker") == ""))["i"][0]
    tidy = tidy.with_columns(
        value=pl.when(pl.col("i") == first).then(1.0).otherwise(pl.col("value"))
    ).drop("i")
    publication = make_publication(tidy)
    path = tmp_path / f"{publication.identifier}.xlsx"
    write_workbook(publication, path, cover)
    ws = openpyxl.load_workbook(path)["Table_2"]
    headers, _ = _sheet_cells(ws)
    table = ws.tables["table_2_median_days_request_to_test"]
    _, min_row, max_col, max_row = openpyxl.utils.range_boundaries(table.ref)
    formats = {
        (float(ws.cell(r, c).value).is_integer(), ws.cell(r, c).number_format)
        for r in range(min_row + 1, max_row + 1)
        for c in range(headers.index("Apr 2024") + 1, max_col + 1)
        if isinstance(ws.cell(r, c).value, int | float)
    }
    # A whole median is shown "1", not "1.0"; a half "3.5" (Notes: medians).
    assert formats == {(True, "#,##0"), (False, "#,##0.0")}
    shorthand = [ws.cell(r, 1).value for r in range(2, min_row)]
    assert any("[c] means" in line for line in shorthand)
    count_format = openpyxl.load_workbook(written)["Table_1"]["G8"].number_format
    assert count_format == "#,##0"


def test_value_with_a_provisional_marker_is_written_as_text(tmp_path, cover):
    tidy = make_tidy().with_columns(
        marker=pl.when(
            (pl.col("table") == 1)
            & (pl.col("geography_level") == "england")
            & (pl.col("period") == "2024-06")
        )
        .then(pl.lit("p"))
        .otherwise(pl.col("marker"))
    )
    publication = make_publication(tidy)
    path = tmp_path / f"{publication.identifier}.xlsx"
    write_workbook(publication, path, cover)
    assert check_workbook(path) == []
    _, body = _sheet_cells(openpyxl.load_workbook(path)["Table_1"])
    assert body[0]["Jun 2024"] == "1,010 [p]"


# ------------------------------------------------------------------------ errors


def test_file_name_must_be_lower_case_hyphenated(tmp_path, cover):
    with pytest.raises(WorkbookError, match="lower case"):
        write_workbook(make_publication(), tmp_path / "DID_2024.xlsx", cover)


def test_a_missing_cell_is_refused(tmp_path, cover):
    tidy = make_tidy()
    tidy = tidy.filter(
        ~(
            (pl.col("table") == 1)
            & (pl.col("provider_code") == "RAL")
            & (pl.col("period") == "2024-05")
        )
    )
    with pytest.raises(WorkbookError, match="no tidy row"):
        write_workbook(make_publication(tidy), tmp_path / "did-x.xlsx", cover)


def test_an_empty_value_without_marker_is_refused(tmp_path, cover):
    tidy = make_tidy().with_columns(
        value=pl.when(pl.col("table") == 2).then(None).otherwise(pl.col("value")),
        marker=pl.when(pl.col("table") == 2).then(pl.lit("")).otherwise(pl.col("marker")),
    )
    with pytest.raises(WorkbookError, match="no marker"):
        write_workbook(make_publication(tidy), tmp_path / "did-x.xlsx", cover)


def test_duplicate_tidy_rows_are_refused(tmp_path, cover):
    tidy = make_tidy()
    tidy = pl.concat([tidy, tidy.head(1)])
    with pytest.raises(WorkbookError, match="two tidy rows"):
        write_workbook(make_publication(tidy), tmp_path / "did-x.xlsx", cover)


def _sheet(**changes) -> TableSheet:
    values = {
        "tab": "Table_1",
        "title": "Table 1: a title",
        "lines": ["A description."],
        "table_name": "table_1_activity_count",
        "columns": [Column("Modality"), Column("Apr 2024", "count")],
        "rows": [["Fluoroscopy", 5.0]],
    }
    values.update(changes)
    return TableSheet(**values)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tab": "Table_1_count_of_imaging_activity_by_modality"}, "1 to 31 characters"),
        ({"tab": "1_Table"}, "must not start with a digit"),
        ({"columns": [Column("Modality"), Column("modality", "count")]}, "used twice"),
        ({"rows": [["Fluoroscopy", "*"]]}, "bare symbol"),
        ({"rows": [["Fluoroscopy", "5"]]}, "text in a number column"),
        ({"rows": [["", 5.0]]}, "empty text"),
        ({"table_name": "Table1"}, "table name"),
        ({"lines": ["See [note 3]."]}, r"\[note 3\]"),
    ],
)
def test_validation_explains_what_is_wrong(changes, message):
    with pytest.raises(WorkbookError, match=message):
        wbmod._validate([_sheet(**changes)])


def test_cover_text_errors_name_the_key(tmp_path):
    broken = tmp_path / "cover.toml"
    text = wbmod.DEFAULT_COVER_PATH.read_text(encoding="utf-8")
    broken.write_text(text.replace('title = "', 'titel = "', 1), encoding="utf-8")
    with pytest.raises(WorkbookError, match="'title'"):
        load_cover_text(broken)


# ------------------------------------------------------------------------ the checker


def _minimal(path: Path, **breaks) -> Path:
    """A small compliant workbook written directly with XlsxWriter; `breaks` spoil it."""
    font = {"font_name": breaks.get("font", "Arial"), "font_size": 12}
    book = xlsxwriter.Workbook(path, {"default_format_properties": font})
    properties = {"title": "Small test workbook", "author": "Tester"}
    book.set_properties(properties)
    wrap = book.add_format({"text_wrap": True})
    link = book.add_format({"text_wrap": True, "hyperlink": True, "underline": 1})
    count = book.add_format({"text_wrap": True, "num_format": breaks.get("num_format", "#,##0")})
    cover = book.add_worksheet("Cover")
    cover.set_column(0, 0, 80)
    cover.write(0, 0, "Small test workbook", wrap)
    contents = book.add_worksheet("Contents")
    contents.set_column(0, 1, 30)
    contents.write(0, 0, "Table of contents", wrap)
    contents.write(2, 0, "Sheet name", wrap)
    contents.write(2, 1, "Sheet title", wrap)
    for row, (name, title) in enumerate([("Cover", "Cover sheet"), ("Table_1", "Counts")], 3):
        contents.write(row, 0, name, wrap)
        contents.write_url(row, 1, f"internal:'{name}'!A1", link, string=title)
    contents.add_table(
        2,
        0,
        4,
        1,
        {
            "name": "table_of_contents",
            "style": None,
            "autofilter": False,
            "banded_rows": False,
            "columns": [{"header": "Sheet name"}, {"header": "Sheet title"}],
        },
    )
    ws = book.add_worksheet(breaks.get("tab", "Table_1"))
    ws.set_column(0, 3, 20)
    ws.write(0, 0, "Table 1: Counts", wrap)
    ws.write(1, 0, "This worksheet contains one table.", wrap)
    first = 2
    start_col = 1 if breaks.get("not_column_a") else 0
    headers = ["Modality", "Apr 2024", "May 2024"]
    rows = [["Fluoroscopy", 1200, 1300], ["Plain Radiography", 15, breaks.get("cell", "[c]")]]
    for offset, header in enumerate(headers):
        ws.write_string(first, start_col + offset, header, wrap)
    for r, row in enumerate(rows, start=first + 1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                ws.write_string(r, start_col + c, value, count if c else wrap)
            else:
                ws.write_number(r, start_col + c, value, count)
    options = {
        "name": breaks.get("table_name", "table_1_counts"),
        "style": breaks.get("style"),
        "autofilter": breaks.get("autofilter", False),
        "banded_rows": False,
        "columns": [{"header": h} for h in headers],
    }
    ws.add_table(first, start_col, first + len(rows), start_col + 2, options)
    if breaks.get("merge"):
        ws.merge_range(1, 0, 1, 1, "Merged description", wrap)
    if breaks.get("freeze"):
        ws.freeze_panes(first + 1, 1)
    if breaks.get("hide_row"):
        ws.set_row(first + 1, None, None, {"hidden": True})
    if breaks.get("below"):
        ws.write(first + len(rows) + 2, 0, "Source: somewhere", wrap)
    if breaks.get("fill"):
        ws.write(
            1,
            0,
            "This worksheet contains one table.",
            book.add_format({"bg_color": "#FFFF00", "text_wrap": True}),
        )
    if breaks.get("select"):
        ws.set_selection("C4")
    if breaks.get("activate_last"):
        ws.activate()
    book.close()
    if not breaks.get("no_language"):
        data = wbmod._set_language(path.read_bytes(), "en-GB")
        path.write_bytes(data)
    if breaks.get("duplicate_header"):  # XlsxWriter refuses these, so edit afterwards
        # (after the language: openpyxl, saving with lxml, declares only the namespaces
        # its core properties use, so dc:language cannot be added to its output by text)
        edited = openpyxl.load_workbook(path)
        edited["Table_1"]["C3"] = "apr 2024"
        edited.save(path)
    return path


def test_minimal_workbook_is_compliant(tmp_path):
    assert check_workbook(_minimal(tmp_path / "small-book.xlsx")) == []


@pytest.mark.parametrize(
    ("breaks", "rule"),
    [
        ({"merge": True}, "merged cells"),
        ({"freeze": True}, "freeze panes"),
        ({"cell": "*"}, "bare symbol"),
        ({"cell": "c"}, "bare symbol"),
        ({"cell": "-"}, "bare symbol"),
        ({"cell": None}, "empty cell"),
        ({"cell": "1234"}, "number stored as text"),
        ({"num_format": "0"}, "thousands separator"),
        ({"style": "Table Style Medium 9"}, "table style"),
        ({"autofilter": True}, "filter"),
        ({"not_column_a": True}, "table position"),
        ({"below": True}, "below the table"),
        ({"hide_row": True}, "hidden row"),
        ({"font": "Calibri"}, "font"),
        ({"no_language": True}, "language"),
        ({"select": True}, "selection"),
        ({"activate_last": True}, "active sheet"),
        ({"tab": "1st table"}, "tab name"),
        ({"table_name": "Table1"}, "table name"),
        ({"duplicate_header": True}, "not unique"),
        ({"fill": True}, "background fill"),
    ],
)
def test_checker_finds_broken_workbooks(tmp_path, breaks, rule):
    problems = check_workbook(_minimal(tmp_path / "small-book.xlsx", **breaks))
    assert any(rule in problem for problem in problems), problems


def test_checker_finds_notes_out_of_step(tmp_path, cover, written):
    wb = openpyxl.load_workbook(written)
    wb["Table_1"]["A4"] = "Notes that apply to this table: [note 99]"
    broken = tmp_path / "broken-notes.xlsx"
    wb.save(broken)
    problems = check_workbook(broken)
    assert any("[note 99] is not on the Notes sheet" in p for p in problems), problems
