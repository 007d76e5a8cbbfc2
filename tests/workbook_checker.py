"""Checks a written .xlsx against the Analysis Function spreadsheet guidance.

`check_workbook(path)` opens the file with openpyxl (independently of the code that
wrote it) and returns a list of violations, one string each, "<sheet>!<cell>: <rule>:
<detail>". An empty list means the workbook passes every rule checked here; the rules
are listed in docs/workbook-checklist.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

MAX_TAB_NAME = 31
FORBIDDEN_TAB_CHARACTERS = set("[]:*?/\\'")
REQUIRED_FONT = "Arial"
MIN_FONT_SIZE = 12
MARKER = re.compile(r"^\[[a-z]\]$")
NUMBER_WITH_MARKER = re.compile(r"^-?[0-9][0-9,]*(?:\.[0-9]+)? \[[a-z]\]$")
NUMBER_AS_TEXT = re.compile(r"^\s*-?[0-9][0-9,]*(?:\.[0-9]+)?\s*%?\s*$")
# Only symbols ("*", "-", "..", ":") or a bare shorthand letter ("c", "x").
BARE_SYMBOL = re.compile(r"^\s*(?:[^\w\s]+|[a-zA-Z])\s*$")
NOTE_REFERENCE = re.compile(r"\[note (\d+(?:, ?\d+)*)\]")
NOTE_NUMBER = re.compile(r"^\[note (\d+)\]$")
DEFAULT_TABLE_NAME = re.compile(r"^Table\d+$", re.IGNORECASE)
VAGUE_LINK_TEXT = {"click here", "here", "link", "this link", "more", "read more", "find out more"}
THOUSANDS = "#,##0"
# Text colours that are "automatic" (the default text colour).
AUTOMATIC_THEME_COLOURS = {0, 1}


def _where(ws: Worksheet, coordinate: str = "") -> str:
    return f"{ws.title}!{coordinate}" if coordinate else ws.title


def _column_widths(ws: Worksheet) -> dict[int, float]:
    """Width of every column with an explicit width, by 1-based index."""
    widths: dict[int, float] = {}
    for dimension in ws.column_dimensions.values():
        if dimension.min is None or dimension.width in (None, 0):
            continue
        for index in range(dimension.min, (dimension.max or dimension.min) + 1):
            widths[index] = dimension.width
    return widths


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_cell_style(ws: Worksheet, cell: Cell, problems: list[str]) -> None:
    where = _where(ws, cell.coordinate)
    font = cell.font
    if font.name != REQUIRED_FONT:
        problems.append(f"{where}: font: '{font.name}' is not {REQUIRED_FONT}")
    if font.sz is not None and font.sz < MIN_FONT_SIZE:
        problems.append(f"{where}: font size: {font.sz} is below {MIN_FONT_SIZE}")
    if font.i:
        problems.append(f"{where}: italic text: use bold for emphasis")
    if cell.fill is not None and cell.fill.fill_type not in (None, "none"):
        problems.append(f"{where}: background fill: cells must have no fill colour")
    colour = font.color
    if cell.hyperlink is None and colour is not None:
        automatic = colour.auto or (
            colour.type == "theme" and colour.theme in AUTOMATIC_THEME_COLOURS
        )
        if not automatic and not (colour.type == "rgb" and colour.rgb in ("FF000000", None)):
            problems.append(f"{where}: coloured text: use the automatic text colour")
    if cell.alignment is not None and cell.alignment.textRotation:
        problems.append(f"{where}: rotated text: text must be horizontal")
    if cell.data_type == "f":
        problems.append(f"{where}: formula: publish values, not formulas")


def _check_text(ws: Worksheet, cell: Cell, problems: list[str], in_number_column: bool) -> None:
    value = cell.value
    if not isinstance(value, str):
        return
    where = _where(ws, cell.coordinate)
    if BARE_SYMBOL.match(value):
        problems.append(
            f"{where}: bare symbol: '{value}' must be a word or shorthand in brackets, e.g. [c]"
        )
    elif NUMBER_AS_TEXT.match(value):
        problems.append(f"{where}: number stored as text: '{value}'")
    elif in_number_column and not (MARKER.match(value) or NUMBER_WITH_MARKER.match(value)):
        problems.append(
            f"{where}: text in a number column: '{value}' is neither a number nor a marker"
        )


def _check_sheet_view(ws: Worksheet, index: int, problems: list[str]) -> None:
    view = ws.sheet_view
    if ws.freeze_panes is not None or view.pane is not None:
        problems.append(f"{_where(ws)}: freeze panes: remove frozen or split panes")
    if view.topLeftCell not in (None, "A1"):
        problems.append(f"{_where(ws)}: view: the sheet opens scrolled to {view.topLeftCell}")
    for selection in view.selection:
        if selection.activeCell not in (None, "A1") or selection.sqref not in (None, "A1"):
            problems.append(
                f"{_where(ws)}: selection: cursor is on {selection.activeCell} "
                f"({selection.sqref}), not A1"
            )
    if bool(view.tabSelected) != (index == 0):
        problems.append(
            f"{_where(ws)}: tab selection: only the first sheet may be selected when saved"
        )
    if ws.sheet_state != "visible":
        problems.append(f"{_where(ws)}: hidden sheet: every sheet must be visible")


def _check_hidden(ws: Worksheet, problems: list[str]) -> None:
    for key, dimension in ws.row_dimensions.items():
        if dimension.hidden:
            problems.append(f"{_where(ws)}: hidden row: row {key} is hidden")
        if dimension.outlineLevel:
            problems.append(f"{_where(ws)}: grouped row: row {key} is grouped (outline)")
    for key, dimension in ws.column_dimensions.items():
        if dimension.hidden:
            problems.append(f"{_where(ws)}: hidden column: column {key} is hidden")
        if dimension.outlineLevel:
            problems.append(f"{_where(ws)}: grouped column: column {key} is grouped")


def _check_sheet_furniture(ws: Worksheet, problems: list[str]) -> None:
    if ws.merged_cells.ranges:
        ranges = ", ".join(str(r) for r in ws.merged_cells.ranges)
        problems.append(f"{_where(ws)}: merged cells: {ranges}")
    if ws.auto_filter is not None and ws.auto_filter.ref:
        problems.append(f"{_where(ws)}: filter: sheet autofilter on {ws.auto_filter.ref}")
    if getattr(ws, "_images", None) or getattr(ws, "_charts", None):
        problems.append(f"{_where(ws)}: images or charts: keep them out of the workbook")
    if ws.conditional_formatting and list(ws.conditional_formatting):
        problems.append(f"{_where(ws)}: conditional formatting: colour must not carry meaning")
    for part in (ws.oddHeader, ws.oddFooter, ws.evenHeader, ws.evenFooter):
        if part is not None and any(
            getattr(getattr(part, side), "text", None) for side in ("left", "center", "right")
        ):
            problems.append(f"{_where(ws)}: header or footer: put this text in column A")
            break


def _check_table(
    ws: Worksheet, table, problems: list[str], widths: dict[int, float]
) -> tuple[int, int, int, int]:
    where = _where(ws)
    min_col, min_row, max_col, max_row = range_boundaries(table.ref)
    if min_col != 1:
        problems.append(
            f"{where}: table position: table {table.name} starts in column "
            f"{get_column_letter(min_col)}, not A"
        )
    if DEFAULT_TABLE_NAME.match(table.name or ""):
        problems.append(f"{where}: table name: '{table.name}' is not meaningful")
    if table.headerRowCount not in (None, 1):
        problems.append(f"{where}: header row: table {table.name} must have one header row")
    if table.totalsRowCount or table.totalsRowShown:
        problems.append(f"{where}: totals row: table {table.name} has a totals row")
    if table.autoFilter is not None:
        problems.append(f"{where}: filter: table {table.name} has filter buttons")
    style = table.tableStyleInfo
    if style is not None and (
        style.name
        or style.showRowStripes
        or style.showColumnStripes
        or style.showFirstColumn
        or style.showLastColumn
    ):
        problems.append(
            f"{where}: table style: table {table.name} has style '{style.name}' "
            "or banding; use no style"
        )

    # Header row: non-empty text, unique ignoring case, the same as the table's columns.
    headers = [ws.cell(min_row, col).value for col in range(min_col, max_col + 1)]
    seen: set[str] = set()
    for offset, header in enumerate(headers):
        coordinate = f"{get_column_letter(min_col + offset)}{min_row}"
        if _is_blank(header) or not isinstance(header, str):
            problems.append(f"{_where(ws, coordinate)}: header: empty or non-text header")
            continue
        if header.lower() in seen:
            problems.append(f"{_where(ws, coordinate)}: header: '{header}' is not unique")
        seen.add(header.lower())
    declared = [column.name for column in table.tableColumns]
    if declared and declared != headers:
        problems.append(f"{where}: header: table columns {declared} differ from {headers}")

    # Body: no blank rows, columns or cells; numbers as numbers with a thousands format.
    number_columns = set()
    for col in range(min_col, max_col + 1):
        values = [ws.cell(row, col).value for row in range(min_row + 1, max_row + 1)]
        if all(_is_blank(value) for value in values):
            problems.append(
                f"{where}: blank column: column {get_column_letter(col)} of the table is empty"
            )
        if any(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            number_columns.add(col)
        width = widths.get(col)
        header = headers[col - min_col]
        longest_word = max((len(w) for w in str(header or "").split()), default=0)
        if width is None or width < 8 or width > 120 or width < longest_word:
            problems.append(
                f"{where}: column width: column {get_column_letter(col)} width {width} "
                "is not set to fit its header"
            )
    for row in range(min_row + 1, max_row + 1):
        cells = [ws.cell(row, col) for col in range(min_col, max_col + 1)]
        if all(_is_blank(cell.value) for cell in cells):
            problems.append(f"{where}: blank row: row {row} of the table is empty")
            continue
        for cell in cells:
            if _is_blank(cell.value):
                problems.append(
                    f"{_where(ws, cell.coordinate)}: empty cell: explain it with a "
                    "marker such as [x]"
                )
                continue
            is_number = isinstance(cell.value, int | float) and not isinstance(cell.value, bool)
            if is_number and THOUSANDS not in (cell.number_format or ""):
                problems.append(
                    f"{_where(ws, cell.coordinate)}: number format: "
                    f"'{cell.number_format}' has no thousands separator"
                )
            _check_text(ws, cell, problems, cell.column in number_columns)
            if cell.alignment is None or not cell.alignment.wrap_text:
                problems.append(f"{_where(ws, cell.coordinate)}: wrap text: not wrapped")
    return min_col, min_row, max_col, max_row


def check_workbook(path: Path | str) -> list[str]:
    """Return every rule violation found in the workbook at `path` (empty when none)."""
    path = Path(path)
    problems: list[str] = []
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*\.xlsx", path.name):
        problems.append(f"file name: '{path.name}' is not lower case words joined by hyphens")
    wb = openpyxl.load_workbook(path)

    # Document information.
    if not (wb.properties.title or "").strip():
        problems.append("properties: the workbook has no title")
    elif re.search(r"[_]| - ", wb.properties.title):
        problems.append("properties: the title must not use underscores or dashes")
    if not (wb.properties.language or "").strip():
        problems.append("properties: the workbook has no language (dc:language)")
    if not (wb.properties.creator or "").strip():
        problems.append("properties: the workbook has no author")
    if wb.vba_archive is not None:
        problems.append("macros: the workbook holds a VBA project")

    # Sheets: names, the first active.
    if wb.worksheets and wb.active is not wb.worksheets[0]:
        problems.append(f"active sheet: '{wb.active.title}' is active, not the first sheet")
    if wb.chartsheets:
        problems.append("chart sheets: keep charts out of the workbook")
    seen_tabs: set[str] = set()
    for ws in wb.worksheets:
        name = ws.title
        if len(name) > MAX_TAB_NAME:
            problems.append(f"{name}: tab name: longer than {MAX_TAB_NAME} characters")
        if name[:1].isdigit():
            problems.append(f"{name}: tab name: starts with a digit")
        if name != name.strip() or "  " in name:
            problems.append(f"{name}: tab name: extra spaces")
        if set(name) & FORBIDDEN_TAB_CHARACTERS:
            problems.append(f"{name}: tab name: holds a character Excel forbids")
        if name.lower() in seen_tabs:
            problems.append(f"{name}: tab name: not unique")
        seen_tabs.add(name.lower())

    table_names: set[str] = set()
    note_uses: dict[int, str] = {}
    notes_defined: set[int] | None = None
    note_number_cells: set[tuple[str, str]] = set()
    links: list[tuple[Worksheet, Cell]] = []

    for index, ws in enumerate(wb.worksheets):
        where = _where(ws)
        _check_sheet_view(ws, index, problems)
        _check_hidden(ws, problems)
        _check_sheet_furniture(ws, problems)
        title = ws["A1"].value
        if not isinstance(title, str) or not title.strip():
            problems.append(f"{_where(ws, 'A1')}: title: cell A1 must hold the sheet's title")
        widths = _column_widths(ws)

        tables = list(ws.tables.values())
        if len(tables) > 1:
            problems.append(f"{where}: tables: {len(tables)} tables on one sheet; use one")
        if index > 0 and not tables:
            problems.append(f"{where}: table mark-up: the sheet's data is not an Excel table")
        bounds = None
        for table in tables:
            if table.name in table_names:
                problems.append(f"{where}: table name: '{table.name}' is not unique")
            table_names.add(table.name)
            bounds = _check_table(ws, table, problems, widths)
        if tables and ws.title == "Notes":
            min_col, min_row, _max_col, max_row = bounds
            notes_defined = set()
            for row in range(min_row + 1, max_row + 1):
                cell = ws.cell(row, min_col)
                note_number_cells.add((ws.title, cell.coordinate))
                match = NOTE_NUMBER.match(str(cell.value))
                if not match:
                    problems.append(
                        f"{_where(ws, cell.coordinate)}: notes: '{cell.value}' is not a "
                        "note number such as [note 1]"
                    )
                    continue
                number = int(match.group(1))
                if number in notes_defined:
                    problems.append(f"{_where(ws, cell.coordinate)}: notes: [note {number}] twice")
                notes_defined.add(number)

        # Every cell: style and text; content outside a table only in column A, above it.
        if ws.max_row == 1 and ws.max_column == 1 and _is_blank(ws["A1"].value):
            problems.append(f"{where}: blank sheet: remove it")
        for row in ws.iter_rows():
            for cell in row:
                if _is_blank(cell.value):
                    continue
                _check_cell_style(ws, cell, problems)
                if cell.hyperlink is not None:
                    links.append((ws, cell))
                in_table = bounds is not None and (
                    bounds[0] <= cell.column <= bounds[2] and bounds[1] <= cell.row <= bounds[3]
                )
                if not in_table:
                    _check_text(ws, cell, problems, False)
                    if cell.column != 1:
                        problems.append(
                            f"{_where(ws, cell.coordinate)}: outside column A: text outside "
                            "a table belongs in column A"
                        )
                    if bounds is not None and cell.row > bounds[3]:
                        problems.append(
                            f"{_where(ws, cell.coordinate)}: below the table: nothing may "
                            "follow the table"
                        )
                    width = widths.get(cell.column, 8.43)
                    if (
                        isinstance(cell.value, str)
                        and len(cell.value) > width
                        and not (cell.alignment and cell.alignment.wrap_text)
                    ):
                        problems.append(
                            f"{_where(ws, cell.coordinate)}: wrap text: long text not wrapped"
                        )
                if isinstance(cell.value, str) and (ws.title, cell.coordinate) not in (
                    note_number_cells
                ):
                    for match in NOTE_REFERENCE.finditer(cell.value):
                        for number in match.group(1).split(","):
                            note_uses.setdefault(int(number), _where(ws, cell.coordinate))

    # Notes: every [note N] used is listed on the Notes sheet, and every listed note used.
    if note_uses and notes_defined is None:
        problems.append("notes: cells refer to notes but there is no Notes sheet with a table")
    if notes_defined is not None:
        for number, where in sorted(note_uses.items()):
            if number not in notes_defined:
                problems.append(f"{where}: notes: [note {number}] is not on the Notes sheet")
        for number in sorted(notes_defined - set(note_uses)):
            problems.append(f"Notes: notes: [note {number}] is listed but never used")

    # Links: descriptive text, internal targets that exist; Contents links every sheet.
    sheet_names = {ws.title for ws in wb.worksheets}
    linked_sheets: set[str] = set()
    for ws, cell in links:
        text = str(cell.value).strip()
        if text.lower() in VAGUE_LINK_TEXT or (text.startswith("http") and len(text) > 30):
            problems.append(
                f"{_where(ws, cell.coordinate)}: link text: '{text}' is not descriptive"
            )
        if cell.hyperlink.location:
            sheet = cell.hyperlink.location.split("!")[0].strip("'")
            if sheet not in sheet_names:
                problems.append(f"{_where(ws, cell.coordinate)}: link: no sheet '{sheet}'")
            elif ws.title == "Contents":
                linked_sheets.add(sheet)
    if len(wb.worksheets) > 1:
        if "Contents" not in sheet_names:
            problems.append("contents: there is no Contents sheet")
        else:
            for name in sorted(sheet_names - linked_sheets - {"Contents"}):
                problems.append(f"Contents: contents: no link to sheet '{name}'")
    return problems
