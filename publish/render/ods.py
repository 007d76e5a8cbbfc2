"""The OpenDocument copy of the workbook (`<identifier>.ods`), which the Analysis
Function guidance prefers as an open format.

It is written from the same checked sheet models as the Excel workbook
(`publish.render.workbook`: `_build_sheets`, then `_validate`), so both hold the same sheets,
titles, description lines, tables, numbers and markers. Numbers are stored as numbers
(`office:value`) with a thousands separator; each table is a named database range, as
an Excel table is named.

Why not a library for the whole file: on the demo's 250,000 cells odfpy takes about
35 s and odfdo about 230 s (both build a tree of Python objects per cell), and
LibreOffice (about 470 MB from Debian) writes its own timestamps. Here lxml, already a
dependency, streams each element as it is made (`etree.xmlfile`); the rows of a table,
nearly all of the file's half a million cells, are written as text in the very bytes
lxml writes (`table_rows_xml`: a third of the time of an lxml call per cell). The zip
has fixed entry dates, and the same publication gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from publish.render.workbook import TableSheet, TextSheet

MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
ODF_VERSION = "1.3"
NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "number": "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0",
    "xlink": "http://www.w3.org/1999/xlink",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
    "manifest": "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0",
}
# A fixed date for every zip entry (the zip format starts in 1980).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def q(name: str) -> str:
    """'table:table-cell' -> '{urn:...table:1.0}table-cell'."""
    prefix, _, local = name.partition(":")
    return f"{{{NS[prefix]}}}{local}"


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def sheet_reference(tab: str) -> str:
    """A sheet name in a cell address: quoted when it is not a plain name."""
    return tab if tab.replace("_", "").isalnum() else "'" + tab.replace("'", "''") + "'"


def internal_link(target: str) -> str:
    """XlsxWriter's "internal:'Table_1'!A1" as ODF's "#Table_1.A1"."""
    sheet, _, cell = target.removeprefix("internal:").rpartition("!")
    return f"#{sheet.strip(chr(39))}.{cell}"


# ----------------------------------------------------------------------------- styles

NUMBER_STYLES = {"N0": 0, "N1": 1}
CELL_STYLES = {
    # name: (text properties, cell properties, paragraph alignment, number style)
    "title": ({"fo:font-weight": "bold", "fo:font-size": "16pt"}, {}, "start", None),
    "heading": ({"fo:font-weight": "bold", "fo:font-size": "14pt"}, {}, "start", None),
    "text": ({}, {}, "start", None),
    "link": ({"fo:color": "#0000ff", "style:text-underline-style": "solid"}, {}, "start", None),
    "header-text": ({"fo:font-weight": "bold"}, {}, "start", None),
    "header-number": ({"fo:font-weight": "bold"}, {}, "end", None),
    "count": ({}, {}, "end", "N0"),
    "decimal": ({}, {}, "end", "N1"),
}


def write_automatic_styles(xf, widths: dict[str, float]) -> None:
    with xf.element(q("office:automatic-styles")):
        for name, places in NUMBER_STYLES.items():
            with xf.element(q("number:number-style"), {q("style:name"): name}):
                xf.write(
                    etree.Element(
                        q("number:number"),
                        {
                            q("number:decimal-places"): str(places),
                            q("number:min-decimal-places"): str(places),
                            q("number:min-integer-digits"): "1",
                            q("number:grouping"): "true",
                        },
                    )
                )
        for name, (text, cell, align, number_style) in CELL_STYLES.items():
            style = {q("style:name"): name, q("style:family"): "table-cell"}
            if number_style:
                style[q("style:data-style-name")] = number_style
            with xf.element(q("style:style"), style):
                cell_properties = {
                    q("fo:wrap-option"): "wrap",
                    q("style:vertical-align"): "top",
                } | {q(k): v for k, v in cell.items()}
                xf.write(etree.Element(q("style:table-cell-properties"), cell_properties))
                xf.write(
                    etree.Element(q("style:paragraph-properties"), {q("fo:text-align"): align})
                )
                properties = {q("fo:font-family"): "Arial", q("fo:font-size"): "12pt"}
                properties |= {q(k): v for k, v in text.items()}
                xf.write(etree.Element(q("style:text-properties"), properties))
        for name, width in widths.items():
            with xf.element(
                q("style:style"), {q("style:name"): name, q("style:family"): "table-column"}
            ):
                # XlsxWriter's widths are in characters of the default font: about 0.19 cm
                xf.write(
                    etree.Element(
                        q("style:table-column-properties"),
                        {q("style:column-width"): f"{width * 0.19:.2f}cm"},
                    )
                )


# ----------------------------------------------------------------------------- cells


def write_cell(xf, value: object, style: str, link: str | None = None) -> None:
    """One cell: a number as a number (its text as shown), anything else as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        places = NUMBER_STYLES["N1" if style == "decimal" else "N0"]
        shown = f"{value:,.{places}f}"
        cell = {
            q("office:value-type"): "float",
            q("office:value"): repr(float(value)).removesuffix(".0"),
            q("table:style-name"): style,
        }
    else:
        shown = str(value)
        cell = {q("office:value-type"): "string", q("table:style-name"): style}
    with xf.element(q("table:table-cell"), cell), xf.element(q("text:p")):
        if link is None:
            xf.write(shown)
        else:
            href = internal_link(link) if link.startswith("internal:") else link
            anchor = etree.Element(q("text:a"), {q("xlink:type"): "simple", q("xlink:href"): href})
            anchor.text = shown
            xf.write(anchor)


# What lxml escapes in text and in attribute values, and the characters XML 1.0 cannot
# hold, which lxml refuses (a lone surrogate fails when the text is encoded, as in lxml).
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NOT_XML_MESSAGE = (
    "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters"
)
_LINK_START = (
    f'<text:p><ns0:a xmlns:ns0="{NS["text"]}" xmlns:ns1="{NS["xlink"]}" '
    'ns1:type="simple" ns1:href="'
)


def _xml_text(text: str, escapes: dict[int, str] = _TEXT_ESCAPES) -> str:
    if _NOT_XML.search(text):
        raise ValueError(_NOT_XML_MESSAGE)
    return text.translate(escapes)


def cell_xml(value: object, style: str, link: str | None = None) -> str:
    """`write_cell`'s cell as text: the same bytes, decoded (tests/test_workbook.py
    compares the two)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        places = NUMBER_STYLES["N1" if style == "decimal" else "N0"]
        return (
            f'<table:table-cell office:value-type="float" office:value="'
            f'{repr(float(value)).removesuffix(".0")}" table:style-name="{style}">'
            f"<text:p>{value:,.{places}f}</text:p></table:table-cell>"
        )
    shown = _xml_text(str(value))
    start = f'<table:table-cell office:value-type="string" table:style-name="{style}">'
    if link is None:
        return f"{start}<text:p>{shown}</text:p></table:table-cell>"
    href = _xml_text(
        internal_link(link) if link.startswith("internal:") else link, _ATTRIBUTE_ESCAPES
    )
    return f'{start}{_LINK_START}{href}">{shown}</ns0:a></text:p></table:table-cell>'


def table_rows_xml(sheet: TableSheet) -> str:
    """The rows of the sheet's table, cell by cell as `write_table_sheet` styles them."""
    kinds = [column.kind for column in sheet.columns]
    links = sheet.links
    parts = []
    for row_index, row in enumerate(sheet.rows):
        parts.append("<table:table-row>")
        for column_index, (kind, value) in enumerate(zip(kinds, row, strict=True)):
            link = links.get((row_index, column_index)) if links else None
            if kind == "text" or isinstance(value, str):
                style = "link" if link else "text" if kind == "text" else "count"
                parts.append(cell_xml(value, style, link))
            else:
                parts.append(cell_xml(value, number_style(kind, value)))
        parts.append("</table:table-row>")
    return "".join(parts)


def number_style(kind: str, value: object) -> str:
    """The cell style of a number column: a median that is a whole number shows none of
    the decimal places a half needs ("1", not "1.0"); see `publish.render.workbook`."""
    if kind == "count" or (
        kind == "median" and isinstance(value, int | float) and value == int(value)
    ):
        return "count"
    return "decimal"


def write_table_sheet(
    xf, sheet: TableSheet, widths: list[str], out: io.BytesIO
) -> tuple[str, str] | None:
    """The sheet's rows; returns its table's (name, cell range) for a database range.
    `out` is what `xf` writes to: the table's rows go there as text (`table_rows_xml`)."""
    with xf.element(q("table:table"), {q("table:name"): sheet.tab}):
        for width in widths:
            xf.write(etree.Element(q("table:table-column"), {q("table:style-name"): width}))
        with xf.element(q("table:table-row")):
            write_cell(xf, sheet.title, "title")
        for line in sheet.lines:
            with xf.element(q("table:table-row")):
                write_cell(xf, line, "text")
        with xf.element(q("table:table-row")):
            for column in sheet.columns:
                header_style = "header-text" if column.kind == "text" else "header-number"
                write_cell(xf, column.header, header_style)
        xf.flush()  # everything lxml holds is in `out`: the rows follow it there
        out.write(table_rows_xml(sheet).encode("utf-8"))
    first = len(sheet.lines) + 2  # title, lines, then the header row (1-based)
    last = first + len(sheet.rows)
    reference = sheet_reference(sheet.tab)
    end = column_letters(len(sheet.columns) - 1)
    return sheet.table_name, f"{reference}.A{first}:{reference}.{end}{last}"


def write_text_sheet(xf, sheet: TextSheet, width: str) -> None:
    with xf.element(q("table:table"), {q("table:name"): sheet.tab}):
        xf.write(etree.Element(q("table:table-column"), {q("table:style-name"): width}))
        with xf.element(q("table:table-row")):
            write_cell(xf, sheet.title, "title")
        for style, text, link in sheet.entries:
            with xf.element(q("table:table-row")):
                write_cell(xf, text, "heading" if style == "heading" else style, link)


# ----------------------------------------------------------------------------- files


def content_xml(sheets: Sequence[TableSheet | TextSheet], widths: list[list[float]]) -> bytes:
    column_styles: dict[float, str] = {}
    for sheet_widths in widths:
        for width in sheet_widths:
            column_styles.setdefault(round(width, 2), f"co{len(column_styles) + 1}")
    buffer = io.BytesIO()
    with etree.xmlfile(buffer, encoding="UTF-8") as xf:
        xf.write_declaration()
        root = {q("office:version"): ODF_VERSION}
        with xf.element(q("office:document-content"), root, nsmap=NS):
            write_automatic_styles(xf, {name: width for width, name in column_styles.items()})
            ranges = []
            with xf.element(q("office:body")), xf.element(q("office:spreadsheet")):
                for sheet, sheet_widths in zip(sheets, widths, strict=True):
                    names = [column_styles[round(w, 2)] for w in sheet_widths]
                    if hasattr(sheet, "entries"):
                        write_text_sheet(xf, sheet, names[0])
                    else:
                        ranges.append(write_table_sheet(xf, sheet, names, buffer))
                with xf.element(q("table:database-ranges")):
                    for name, address in ranges:
                        xf.write(
                            etree.Element(
                                q("table:database-range"),
                                {
                                    q("table:name"): name,
                                    q("table:target-range-address"): address,
                                    q("table:contains-header"): "true",
                                },
                            )
                        )
    return buffer.getvalue()


def element_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def meta_xml(properties: dict[str, object], language: str) -> bytes:
    root = etree.Element(q("office:document-meta"), {q("office:version"): ODF_VERSION}, nsmap=NS)
    meta = etree.SubElement(root, q("office:meta"))
    created = properties.get("created")
    values = [
        ("meta:generator", "did-publish"),
        ("dc:title", properties.get("title")),
        ("dc:subject", properties.get("subject")),
        ("dc:description", properties.get("comments")),
        ("meta:keyword", properties.get("keywords")),
        ("meta:initial-creator", properties.get("author")),
        ("dc:language", language),
        ("meta:creation-date", created.isoformat() if isinstance(created, date) else None),
    ]
    for name, value in values:
        if value:
            etree.SubElement(meta, q(name)).text = str(value)
    return element_bytes(root)


def styles_xml() -> bytes:
    root = etree.Element(q("office:document-styles"), {q("office:version"): ODF_VERSION}, nsmap=NS)
    styles = etree.SubElement(root, q("office:styles"))
    default = etree.SubElement(styles, q("style:default-style"), {q("style:family"): "table-cell"})
    etree.SubElement(
        default,
        q("style:text-properties"),
        {q("fo:font-family"): "Arial", q("fo:font-size"): "12pt"},
    )
    return element_bytes(root)


def manifest_xml() -> bytes:
    root = etree.Element(
        q("manifest:manifest"),
        {q("manifest:version"): ODF_VERSION},
        nsmap={"manifest": NS["manifest"]},
    )
    entries = [("/", MIMETYPE), ("content.xml", "text/xml"), ("styles.xml", "text/xml")]
    entries.append(("meta.xml", "text/xml"))
    for path, media_type in entries:
        entry = {q("manifest:full-path"): path, q("manifest:media-type"): media_type}
        if path == "/":
            entry[q("manifest:version")] = ODF_VERSION
        etree.SubElement(root, q("manifest:file-entry"), entry)
    return element_bytes(root)


def write_ods(
    path: Path,
    sheets: Sequence[TableSheet | TextSheet],
    widths: list[list[float]],
    properties: dict[str, object],
    language: str,
) -> None:
    """Write checked sheet models as an OpenDocument spreadsheet; `widths`: each sheet's
    column widths in characters, as the Excel workbook sets them."""
    files = [
        ("META-INF/manifest.xml", manifest_xml()),
        ("meta.xml", meta_xml(properties, language)),
        ("styles.xml", styles_xml()),
        ("content.xml", content_xml(sheets, widths)),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # The mimetype first and stored, so that a reader can tell the type (ODF 1.3, 3.3).
        mimetype = zipfile.ZipInfo("mimetype", date_time=ZIP_DATE)
        archive.writestr(mimetype, MIMETYPE, compress_type=zipfile.ZIP_STORED)
        for name, data in files:
            entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            archive.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)
    Path(path).write_bytes(buffer.getvalue())
