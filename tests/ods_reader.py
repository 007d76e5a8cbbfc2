"""Reads an OpenDocument spreadsheet back, independently of the writer: each sheet's
rows of cell values (a float for a number cell, else its text), and its named ranges."""

import re
import zipfile
from pathlib import Path

from lxml import etree

TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def read_ods(path: Path) -> tuple[dict[str, list[list[object]]], dict[str, str]]:
    """({sheet name: rows}, {database range name: its cell range address})."""
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist()[0] == "mimetype"
        assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
        root = etree.fromstring(archive.read("content.xml"))
    sheets: dict[str, list[list[object]]] = {}
    for table in root.iter(f"{{{TABLE}}}table"):
        rows = []
        for row in table.iter(f"{{{TABLE}}}table-row"):
            cells: list[object] = []
            for cell in row.iter(f"{{{TABLE}}}table-cell"):
                if cell.get(f"{{{OFFICE}}}value-type") == "float":
                    value: object = float(cell.get(f"{{{OFFICE}}}value"))
                else:
                    value = "\n".join("".join(p.itertext()) for p in cell.iter(f"{{{TEXT}}}p"))
                repeat = int(cell.get(f"{{{TABLE}}}number-columns-repeated", "1"))
                cells.extend([value] * repeat)
            rows.extend([cells] * int(row.get(f"{{{TABLE}}}number-rows-repeated", "1")))
        sheets[table.get(f"{{{TABLE}}}name")] = rows
    ranges = {
        r.get(f"{{{TABLE}}}name"): r.get(f"{{{TABLE}}}target-range-address")
        for r in root.iter(f"{{{TABLE}}}database-range")
    }
    return sheets, ranges


def table_body(rows: list[list[object]], address: str) -> tuple[list[str], list[dict]]:
    """Header names and the body rows (dicts by header) of one named range."""
    match = re.fullmatch(r"'?[^.]+'?\.A(\d+):'?[^.]+'?\.[A-Z]+(\d+)", address)
    assert match, address
    first, last = int(match.group(1)), int(match.group(2))
    headers = [str(h) for h in rows[first - 1]]
    body = [dict(zip(headers, row, strict=True)) for row in rows[first:last]]
    return headers, body
