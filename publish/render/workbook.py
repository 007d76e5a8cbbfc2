"""The accessible Excel workbook: Cover, Contents, Notes, then one table per sheet.

The layout follows the Analysis Function guidance "Releasing statistics in
spreadsheets" (see docs/workbook-checklist.md for where each item is met). The
workbook is built in three steps so that a non-compliant sheet cannot be written:

1. `_build_sheets` turns the publication into plain sheet models (`TextSheet`,
   `TableSheet`): titles, description lines, headers and cell values;
2. `_validate` checks every model against the rules (tab names, table names, unique
   headers, no empty or bare-symbol cells, numbers stored as numbers, notes used and
   listed) and raises `WorkbookError` saying what is wrong and how to fix it;
3. only then `_render` writes them with XlsxWriter, always in the same way (Arial,
   wrapped text, no merged cells, no freeze panes, plain tables without filters).

The same publication and cover text give byte-identical files: the creation date comes
from the publication date, never from the clock, and the zip entries have fixed dates.
"""

from __future__ import annotations

import io
import logging
import re
import tomllib
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from publish.codes import ALL_SETTINGS, TABLE11_SOURCE_SETTINGS
from publish.disclosure.policy import POLICY_NAMES
from publish.periods import long_date, month_range_words, month_short, months_list
from publish.render.ods import write_ods
from publish.render.publication import Publication
from publish.render.release import default_next_update, default_publication_date
from publish.resources import REFERENCE_DATA_DIR
from publish.series.words import (
    final_supersedes_sentence,
    organisation_paragraphs,
    provider_issue_paragraphs,
    revisions_paragraphs,
    supersedes_paragraph,
)
from publish.tables import (
    GEOGRAPHY_LEVELS,
    MARKERS,
    MEASURES,
    PROVIDER_DETAIL_COLUMNS,
    TABLE_ORDER,
    TABLES,
    TIDY_COLUMNS,
    MeasureSource,
    TableSpec,
)

log = logging.getLogger(__name__)

DEFAULT_COVER_PATH = REFERENCE_DATA_DIR / "publication.toml"

FONT_NAME = "Arial"
FONT_SIZE = 12  # the guidance's minimum
TITLE_SIZE = 16
HEADING_SIZE = 14

COUNT_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.0"

MAX_TAB_NAME = 31
TAB_NAME_FORBIDDEN = set("[]:*?/\\'")
FILE_NAME_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.xlsx$")
TABLE_NAME_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{2,}$")
# A shorthand marker as written in the workbook, e.g. "[c]".
MARKER_CELL = re.compile(r"^\[([a-z])\]$")
# A number that carries a shorthand (only "p" can): written as text, e.g. "1,235 [p]".
NUMBER_WITH_MARKER = re.compile(r"^-?[0-9][0-9,]*(?:\.[0-9]+)? \[([a-z])\]$")
NOTE_REFERENCE = re.compile(r"\[note (\d+(?:, ?\d+)*)\]")
# Text made only of symbols ("*", "-", "..", ":") or a bare shorthand letter ("c").
BARE_SYMBOL = re.compile(r"^(?:[^\w\s]+|[a-z])$")

# Markers that stand for a missing value; "p" may accompany a value.
MISSING_VALUE_MARKERS = ("c", "x", "z")

GEOGRAPHY_LABELS = {
    "england": "England",
    "region": "Region",
    "provider": "Provider",
    "commissioner": "Commissioner",
}

# Column headers of the "measures" layout (tables 9 and 10).
MEASURE_HEADERS: dict[str, str] = {name: measure.heading for name, measure in MEASURES.items()}

REQUIRED_NOTES = (
    "disclosure",
    "provisional",
    "year_to_date",
    "medians",
    "providers",
    "cancer_test_groups",
    "source_settings",
    "percentages",
    "commissioners",
)
STATUSES = ("provisional", "final")


class WorkbookError(ValueError):
    """The workbook would break the accessibility rules, or its inputs are wrong."""


# --------------------------------------------------------------------------- cover text


@dataclass(frozen=True)
class CoverText:
    """The words of the Cover and Notes sheets, from `publication.toml`."""

    title: str
    publisher: str
    language: str
    keywords: str
    next_update: str | None  # None: derived from the period (publish.render.release)
    contact_email: str
    source: str
    about: tuple[str, ...]
    revisions: str
    licence_name: str
    licence_url: str
    licence_text: str
    status: Mapping[str, str]
    disclosure: Mapping[str, str]
    notes: Mapping[str, str]
    published_on: date | None = None


def load_cover_text(path: Path | None = None) -> CoverText:
    """Read the cover text from a TOML file (default: the shipped publication.toml)."""
    path = DEFAULT_COVER_PATH if path is None else Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as error:
        raise WorkbookError(f"{path}: cover text file not found") from error
    except tomllib.TOMLDecodeError as error:
        raise WorkbookError(f"{path}: not valid TOML: {error}") from error

    def text(table: Mapping[str, object], key: str, where: str = "") -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise WorkbookError(
                f"{path}: key '{where}{key}' must be a non-empty string; add it to the file"
            )
        return " ".join(value.split())

    def section(key: str, required: Sequence[str]) -> dict[str, str]:
        table = data.get(key)
        if not isinstance(table, dict):
            raise WorkbookError(f"{path}: missing table [{key}]; add it to the file")
        return {name: text(table, name, f"{key}.") for name in required} | {
            name: text(table, name, f"{key}.") for name in table if name not in required
        }

    about = data.get("about")
    if isinstance(about, str):
        about = [about]
    if not isinstance(about, list) or not about:
        raise WorkbookError(f"{path}: key 'about' must be a list of paragraphs")
    published_on = data.get("published_on")
    if published_on is not None and (
        not isinstance(published_on, date) or isinstance(published_on, datetime)
    ):
        raise WorkbookError(
            f"{path}: key 'published_on' must be a TOML date such as 2024-12-12, "
            f"not {published_on!r}"
        )
    licence = data.get("licence")
    if not isinstance(licence, dict):
        raise WorkbookError(f"{path}: missing table [licence]; add it to the file")
    email = text(data, "contact_email")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise WorkbookError(f"{path}: contact_email '{email}' is not an email address")
    return CoverText(
        title=text(data, "title"),
        publisher=text(data, "publisher"),
        language=text(data, "language"),
        keywords=text(data, "keywords"),
        next_update=text(data, "next_update") if "next_update" in data else None,
        contact_email=email,
        source=text(data, "source"),
        about=tuple(text({"about": p}, "about") for p in about),
        revisions=text(data, "revisions"),
        licence_name=text(licence, "name", "licence."),
        licence_url=text(licence, "url", "licence."),
        licence_text=text(licence, "text", "licence."),
        status=section("status", STATUSES),
        disclosure=section("disclosure", POLICY_NAMES),
        notes=section("notes", REQUIRED_NOTES),
        published_on=published_on,
    )


# --------------------------------------------------------------------------- sheet models


@dataclass(frozen=True)
class Column:
    header: str
    # "text" (row labels), "count" ('#,##0'), "median" ('#,##0', or '#,##0.0' for a
    # half) or "decimal" ('#,##0.0').
    kind: str = "text"


@dataclass
class TableSheet:
    """A worksheet holding one marked-up table, with its title and description above."""

    tab: str
    title: str
    lines: list[str]
    table_name: str
    columns: list[Column]
    rows: list[list[object]]
    # Text links: (row index, column index) -> link target ("internal:..." or a URL).
    links: dict[tuple[int, int], str] = field(default_factory=dict)
    # The column holding note numbers on the Notes sheet (not a note reference).
    note_number_column: int | None = None


@dataclass
class TextSheet:
    """A worksheet of text in column A (the Cover): (style, text, link) entries."""

    tab: str
    title: str
    entries: list[tuple[str, str, str | None]]


def _period_words(publication: Publication) -> str:
    """'April to November 2024' or 'April 2024 to January 2025'."""
    return month_range_words(publication.months[0], publication.latest_month)


def _workbook_title(publication: Publication, cover: CoverText) -> str:
    return f"{cover.title}: {_period_words(publication)}, {publication.status} statistics"


def _publication_date(publication: Publication, cover: CoverText) -> date:
    """The publication's date, else the cover text's, else derived from the period."""
    return (
        publication.published_on
        or cover.published_on
        or default_publication_date(publication.latest_month)
    )


def _next_update(publication: Publication, cover: CoverText) -> str:
    return cover.next_update or default_next_update(
        publication.latest_month, _publication_date(publication, cover)
    )


def _marker_text(code: str) -> str:
    return f"[{code}]"


def _value_kind(measure: str) -> str:
    """ "count", "median" (whole days, or a half: one decimal place only for a half) or
    "decimal" (percentages, always one decimal place)."""
    if measure.startswith("median"):
        return "median"
    return "decimal" if measure.startswith("percent") else "count"


def _shows_decimals(value: float, kind: str) -> bool:
    """A median of 1 is shown "1", not "1.0"; 3.5 is "3.5" (Notes: medians)."""
    return kind == "decimal" or (kind == "median" and not float(value).is_integer())


def _format_number(value: float, kind: str) -> str:
    return f"{value:,.1f}" if _shows_decimals(value, kind) else f"{value:,.0f}"


class _Notes:
    """Numbers notes in order of first use, so the Notes sheet lists exactly those used."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = texts
        self.order: list[str] = []

    def ref(self, key: str) -> str:
        if key not in self.texts:
            raise WorkbookError(f"note '{key}' has no text: add it under [notes] in the cover")
        if key not in self.order:
            self.order.append(key)
        return f"[note {self.order.index(key) + 1}]"


def _table_notes(spec: TableSpec, publication: Publication, keys: set[str]) -> list[str]:
    notes = ["disclosure"]
    if publication.status == "provisional":
        notes.append("provisional")
    if spec.layout == "months":
        notes.append("year_to_date")
    if any(_value_kind(m) == "median" for m in spec.measures):
        notes.append("medians")
    if isinstance(spec.source, MeasureSource) and spec.source.percent_cases:
        notes.append("turnaround_percentages")
    elif any(m.startswith("percent") for m in spec.measures):
        notes.append("percentages")
    if "provider" in keys:
        notes.append("providers")
    if "commissioner" in keys:
        notes.append("commissioners")
    if spec.row_label == "Cancer test group":
        notes.append("cancer_test_groups")
    if "source_setting" in keys:
        notes.append("source_settings")
    if "provider" in keys and publication.series.organisation_changes:
        notes.append("organisation_changes")
    if "provider" in keys and publication.series.provider_issues:
        notes.append("provider_issues")
    return notes


def policy_notes(publication: Publication) -> dict[str, str]:
    """The note of table 13's percentages: its rule is the policy's
    (`Policy.min_cases_for_proportion`), so its words are too."""
    return {
        "turnaround_percentages": "Report turnaround percentages are of all the row's "
        "tests, those whose report time is not known included, and are shown to one "
        "decimal place. " + publication.policy.proportion_note
    }


def series_notes(publication: Publication) -> dict[str, str]:
    """Notes of this release's series: its organisation changes and provider issues."""
    series = publication.series
    notes = {}
    if series.organisation_changes:
        notes["organisation_changes"] = "Organisation changes this year: " + " ".join(
            series.organisation_changes
        )
    if series.provider_issues:
        notes["provider_issues"] = "Provider issues: " + " ".join(series.provider_issues)
    return notes


def _revisions_sheet(publication: Publication) -> TableSheet | None:
    """The revised cells, with their earlier and new published figure (section 7)."""
    revisions = publication.series.revisions
    if revisions is None or revisions.height == 0:
        return None
    rows: list[list[object]] = []
    for r in revisions.iter_rows(named=True):
        kind = _value_kind(r["measure"])
        where = f"revisions, table {r['table']}"
        previous = _cell(r["previous_value"], r["previous_marker"] or "", kind, where)
        now = _cell(r["value"], r["marker"], kind, where)
        rows.append(
            [
                f"Table {TABLES[r['table']].published_number}",
                GEOGRAPHY_LABELS[r["geography_level"]],
                r["region_code"] or _marker_text("z"),
                r["provider_code"] or _marker_text("z"),
                r["provider_name"] or _marker_text("z"),
                r["modality"],
                r["source_setting"],
                r["period"],
                MEASURE_HEADERS.get(r["measure"], r["measure"]),
                previous,
                now,
            ]
        )
    compared = publication.series.compared_with
    return TableSheet(
        tab="Revisions",
        title=f"Revisions since {compared}",
        lines=[
            "This worksheet contains one table. Each row is a published cell whose figure "
            f"or shorthand changed since the previous release, {compared}: its earlier "
            f"figure (in {compared}) and its figure now (in this release).",
            "Shorthand used in this table: [r] means revised since the previous release; "
            "[c] means confidential: suppressed to protect patients; [x] means not "
            "available; [z] means not applicable.",
        ],
        table_name="revisions",
        columns=[
            Column("Table"),
            Column("Geography level"),
            Column("Region code"),
            Column("Org code"),
            Column("Provider name"),
            Column("Modality or cancer test group"),
            Column("Source setting"),
            Column("Period"),
            Column("Measure"),
            Column("Earlier figure", "median"),
            Column("Figure now", "median"),
        ],
        rows=rows,
    )


def _cell(value: float | None, marker: str, kind: str, where: Callable[[], str]) -> object:
    """The workbook cell of one tidy value: a number, '[c]', or '1,235 [p]'. `where`
    says which cell, for an error only (a sheet has up to 100,000 cells)."""
    if marker and marker not in MARKERS:
        raise WorkbookError(
            f"{where()}: unknown marker '{marker}'; use one of {', '.join(sorted(MARKERS))}"
        )
    if value is None:
        if not marker:
            raise WorkbookError(
                f"{where()}: value is empty but has no marker; give it 'c' (suppressed), "
                "'x' (not available) or 'z' (not applicable)"
            )
        return _marker_text(marker)
    if marker in MISSING_VALUE_MARKERS:
        raise WorkbookError(
            f"{where()}: marker '{marker}' means no value, but the value is {value}; "
            "empty the value or drop the marker"
        )
    if value != value or value in (float("inf"), float("-inf")):
        raise WorkbookError(f"{where()}: value {value} is not a finite number")
    if marker:
        return f"{_format_number(value, kind)} {_marker_text(marker)}"
    return float(value)


def _check_tidy(tidy: pl.DataFrame) -> None:
    missing = [name for name in TIDY_COLUMNS if name not in tidy.columns]
    if missing:
        raise WorkbookError(
            f"publication.tidy lacks the columns {missing}; it needs {list(TIDY_COLUMNS)}"
        )
    if not tidy.schema["value"].is_numeric():
        raise WorkbookError(f"publication.tidy 'value' must be numeric, not {tidy['value'].dtype}")
    levels = set(tidy["geography_level"].unique().to_list()) - set(GEOGRAPHY_LEVELS)
    if levels:
        raise WorkbookError(
            f"publication.tidy has unknown geography levels {sorted(levels)}; "
            f"use {list(GEOGRAPHY_LEVELS)}"
        )
    unknown = set(tidy["table"].unique().to_list()) - set(TABLES)
    if unknown:
        raise WorkbookError(
            f"publication.tidy has rows for tables {sorted(unknown)} that publish.tables "
            "does not describe"
        )


def _table_sheet(
    spec: TableSpec,
    frame: pl.DataFrame,
    publication: Publication,
    cover: CoverText,
    notes: _Notes,
) -> TableSheet:
    """One table's sheet: its key columns, its value columns by layout, one row per row
    key, and the lines above the table that say what it holds."""
    where = f"table {spec.published_number}"
    frame = frame.with_columns(
        pl.col(name).cast(pl.Utf8).fill_null("")
        for name in TIDY_COLUMNS
        if name not in ("table", "value")
    )
    levels = set(frame["geography_level"].to_list())
    frame = _with_provider_details(spec, frame, publication, levels)
    keys = _key_columns(spec, frame, levels)
    key_names = [name for name, _ in keys]
    values = _value_columns(spec, frame, publication, where)
    sheet_rows = _sheet_rows(frame, key_names, values, where)
    columns = [Column(header) for _, header in keys] + [
        Column(header, kind) for header, kind in zip(values.headers, values.kinds, strict=True)
    ]
    return TableSheet(
        tab=f"Table_{spec.published_number}",
        title=f"Table {spec.published_number}: {spec.title}, England, {_period_words(publication)}",
        lines=_table_lines(spec, publication, cover, notes, key_names, levels, sheet_rows),
        table_name=f"table_{spec.published_number}_{spec.workbook_name}",
        columns=columns,
        rows=sheet_rows,
    )


def _key_columns(spec: TableSpec, frame: pl.DataFrame, levels: set[str]) -> list[tuple[str, str]]:
    """Key columns (tidy column, header): the geography columns that apply to some row,
    the row label, and the source setting where it varies (table 11 has the settings as
    its columns)."""
    settings = frame["source_setting"].unique(maintain_order=True).to_list()
    keys: list[tuple[str, str]] = [("geography_level", "Geography level")]
    if levels & {"region", "provider"}:
        keys += [("region_code", "Region code"), ("region_name", "Region name")]
    if "provider" in levels:
        keys += [("provider_code", "Org code"), ("provider_name", "Provider name")]
    if spec.shows_provider_details and "provider" in levels:  # table 13: ICB, network
        keys += list(PROVIDER_DETAIL_COLUMNS.items())
    if "commissioner" in levels:  # tables 7a, 7b and 8: sub-ICB locations
        keys += [
            ("region_code", "Region code"),
            ("region_name", "Region name"),
            ("provider_code", "Commissioner code"),
            ("provider_name", "Commissioner name"),
        ]
    keys.append(("modality", spec.row_label))
    if spec.layout != "settings" and settings != [ALL_SETTINGS]:
        keys.append(("source_setting", "Source setting"))
    if _by_quarter(spec):  # table 13: a row per quarter
        keys.append(("period", "Quarter"))
    return keys


def _by_quarter(spec: TableSpec) -> bool:
    return isinstance(spec.source, MeasureSource) and spec.source.by_quarter


def _with_provider_details(
    spec: TableSpec, frame: pl.DataFrame, publication: Publication, levels: set[str]
) -> pl.DataFrame:
    """The tidy rows with each provider's ICB and imaging network beside them, for a
    table that shows them (13); "" where sites.csv does not say, and above providers."""
    if not (spec.shows_provider_details and "provider" in levels):
        return frame
    details = publication.provider_details
    if details is None:
        details = pl.DataFrame(schema={"region_code": pl.Utf8, "provider_code": pl.Utf8})
    for name in PROVIDER_DETAIL_COLUMNS:
        if name not in details.columns:
            details = details.with_columns(pl.lit("").alias(name))
    return (
        frame.with_row_index("_order")
        .join(
            details.select("region_code", "provider_code", *PROVIDER_DETAIL_COLUMNS),
            on=["region_code", "provider_code"],
            how="left",
        )
        .sort("_order")
        .drop("_order")
        .with_columns(pl.col(name).fill_null("") for name in PROVIDER_DETAIL_COLUMNS)
    )


@dataclass(frozen=True)
class _ValueColumns:
    """A table's value columns: what identifies each in the tidy rows (`ids`, values of
    the tidy column `column_of`), its header and its kind."""

    ids: list[str]
    headers: list[str]
    kinds: list[str]
    column_of: str


def _value_columns(
    spec: TableSpec, frame: pl.DataFrame, publication: Publication, where: str
) -> _ValueColumns:
    """The value columns of the table's layout: months then the year to date, the
    measures, or the source settings then their total; checked against the tidy."""
    settings = frame["source_setting"].unique(maintain_order=True).to_list()
    if spec.layout == "months":
        if set(frame["measure"].to_list()) - set(spec.measures):
            raise WorkbookError(f"{where}: measures other than {spec.measures} in the tidy")
        ids = [*publication.months, publication.year_to_date]
        values = _ValueColumns(
            ids,
            [month_short(m) for m in publication.months] + ["Year to date"],
            [_value_kind(spec.measures[0])] * len(ids),
            "period",
        )
    elif spec.layout == "measures":
        present = set(frame["measure"].to_list())
        if present - set(spec.measures):
            raise WorkbookError(
                f"{where}: unknown measures {sorted(present - set(spec.measures))}; "
                f"expected {list(spec.measures)}"
            )
        ids = [m for m in spec.measures if m in present]
        values = _ValueColumns(
            ids,
            [MEASURE_HEADERS.get(m, m.replace("_", " ").capitalize()) for m in ids],
            [_value_kind(m) for m in ids],
            "measure",
        )
    elif spec.layout == "settings":
        unknown = set(settings) - set(TABLE11_SOURCE_SETTINGS)
        if unknown:
            raise WorkbookError(
                f"{where}: unknown source settings {sorted(unknown)}; expected "
                f"{list(TABLE11_SOURCE_SETTINGS)}"
            )
        ids = [s for s in TABLE11_SOURCE_SETTINGS if s in settings]
        values = _ValueColumns(
            ids,
            ["Total" if s == ALL_SETTINGS else s for s in ids],
            [_value_kind(spec.measures[0])] * len(ids),
            "source_setting",
        )
    else:
        raise WorkbookError(f"{where}: unknown layout '{spec.layout}' in publish.tables")
    if spec.layout != "months" and not _by_quarter(spec):
        periods = set(frame["period"].to_list())
        if periods != {publication.year_to_date}:
            raise WorkbookError(
                f"{where}: this table is year to date only, but the tidy has periods "
                f"{sorted(periods - {publication.year_to_date})}"
            )
    return values


def _sheet_rows(
    frame: pl.DataFrame, key_names: list[str], values: _ValueColumns, where: str
) -> list[list[object]]:
    """One sheet row per row key, in the tidy's (publication) order: its labels, then a
    value or a marker in every column (a missing or doubled tidy row is an error)."""
    column_ids, column_of = values.ids, values.column_of
    position = {column_id: index for index, column_id in enumerate(column_ids)}
    rows: dict[tuple[str, ...], list[object | None]] = {}
    for record in frame.iter_rows(named=True):
        key = tuple(record[name] for name in key_names)
        column = position.get(record[column_of])
        if column is None:
            raise WorkbookError(
                f"{where}: {column_of} '{record[column_of]}' is not a column of this table; "
                f"expected one of {column_ids}"
            )
        cells = rows.setdefault(key, [None] * len(column_ids))
        if cells[column] is not None:
            raise WorkbookError(
                f"{where}: two tidy rows for {dict(zip(key_names, key, strict=True))}, "
                f"{column_of} {record[column_of]}; the tidy must have one row per cell"
            )
        cells[column] = _cell(
            record["value"],
            record["marker"],
            values.kinds[column],
            lambda key=key, record=record: (
                f"{where}, {dict(zip(key_names, key, strict=True))}, {record[column_of]}"
            ),
        )

    sheet_rows: list[list[object]] = []
    for key, cells in rows.items():
        gaps = [column_ids[i] for i, cell in enumerate(cells) if cell is None]
        if gaps:
            raise WorkbookError(
                f"{where}: no tidy row for {dict(zip(key_names, key, strict=True))} and "
                f"{column_of} {gaps}; every cell needs a value or a marker ('x' when no "
                "data were submitted, 'z' when not applicable)"
            )
        labels: list[object] = []
        for name, value in zip(key_names, key, strict=True):
            if name == "geography_level":
                value = GEOGRAPHY_LABELS[value]
            labels.append(value if value.strip() else _marker_text("z"))
        sheet_rows.append(labels + cells)
    return sheet_rows


def _shorthand_line(sheet_rows: list[list[object]], key_count: int) -> str:
    """The line saying which shorthand markers the table uses, and what each means."""
    used_markers = sorted(
        {
            match.group(1)
            for row in sheet_rows
            for cell in row
            if isinstance(cell, str)
            and (match := MARKER_CELL.match(cell) or NUMBER_WITH_MARKER.match(cell))
        }
    )
    if not used_markers:
        return "No shorthand is used in this table."
    shorthand = "Shorthand used in this table: " + "; ".join(
        f"{_marker_text(code)} means {MARKERS[code]}" for code in used_markers
    )
    if "z" in used_markers and key_count > 2:
        shorthand += " (for example no provider on a region row)"
    return shorthand + "."


def _table_lines(
    spec: TableSpec,
    publication: Publication,
    cover: CoverText,
    notes: _Notes,
    key_names: list[str],
    levels: set[str],
    sheet_rows: list[list[object]],
) -> list[str]:
    """The lines above the table: what the sheet holds, what a row and a column are,
    its notes, its shorthand and its source."""
    label = spec.row_label.lower()
    row_words = (
        f"Each row is a geography, a {label} and a source setting"
        if "source_setting" in key_names
        else f"Each row is a geography and a {label}"
    )
    rows_words = (
        row_words
        + {
            "months": "; each column is a month of test, then the year to date.",
            "measures": "; the columns are the measures, for each quarter."
            if _by_quarter(spec)
            else "; the columns are the year-to-date measures.",
            "settings": "; each column is a source setting, then the total of all settings. "
            "Figures are for the year to date.",
        }[spec.layout]
    )
    note_refs = " ".join(
        sorted(
            (notes.ref(key) for key in _table_notes(spec, publication, levels | set(key_names))),
            key=lambda ref: int(ref[6:-1]),
        )
    )
    return [
        "This worksheet contains one table. Some cells refer to notes which can be found "
        "on the Notes worksheet.",
        f"{spec.description} {rows_words}",
        f"Notes that apply to this table: {note_refs}",
        _shorthand_line(sheet_rows, len(key_names)),
        f"Source: {cover.source}",
    ]


def _cover_sheet(publication: Publication, cover: CoverText, tables: list[TableSheet]) -> TextSheet:
    if publication.status not in cover.status:
        raise WorkbookError(
            f"no cover text for status '{publication.status}'; add it under [status]"
        )
    if publication.policy.name not in cover.disclosure:
        raise WorkbookError(
            f"no cover text for disclosure policy '{publication.policy.name}'; add it under [disclosure]"
        )
    entries: list[tuple[str, str, str | None]] = []

    def section(heading: str, *paragraphs: str, link: tuple[str, str] | None = None) -> None:
        entries.append(("heading", heading, None))
        for paragraph in paragraphs:
            entries.append(("text", paragraph, None))
        if link is not None:
            entries.append(("link", link[0], link[1]))

    kind = "synthetic data, not official statistics," if publication.demo else "official statistics"
    entries.append(
        (
            "text",
            f"This workbook contains {len(tables)} tables of {kind} for "
            f"{_period_words(publication)}, with a table of contents and a list of notes.",
            None,
        )
    )
    if publication.demo:
        section(
            "Synthetic data",
            "This is the demonstration publication of did-publish, built from synthetic "
            "records made up by a program. No figure in it describes real patients or "
            "providers, and it must not be used or quoted as official statistics.",
        )
    section("About these statistics", *cover.about)
    series = publication.series
    section(
        "Status",
        cover.status[publication.status],
        *[
            text
            for text in (
                final_supersedes_sentence(publication.status, publication.financial_year),
                supersedes_paragraph(series, publication.financial_year),
            )
            if text
        ],
    )
    if series.organisation_changes:
        section("Organisation changes", *organisation_paragraphs(series))
    if series.provider_issues:
        section("Provider issues", *provider_issue_paragraphs(series))
    if publication.months_without_records:
        missing = publication.months_without_records
        section(
            "Months without data",
            f"No record was received for {months_list(missing)}. Every figure of "
            f"{'that month' if len(missing) == 1 else 'those months'} is shown as [x], "
            "not available.",
        )
    section("Publication date", long_date(_publication_date(publication, cover)))
    section("Next update", _next_update(publication, cover))
    section("Source", cover.source)
    section(
        "Revisions",
        cover.revisions,
        *revisions_paragraphs(series, "on the Revisions sheet"),
    )
    section(
        "Disclosure control",
        f"This publication uses the '{publication.policy.name}' disclosure control policy. "
        + cover.disclosure[publication.policy.name],
        publication.policy.proportion_note,
    )
    section(
        "Shorthand",
        "Some cells hold shorthand in square brackets instead of a number: "
        + "; ".join(f"{_marker_text(code)} means {meaning}" for code, meaning in MARKERS.items())
        + ".",
    )
    section(
        "Contact",
        "For questions about these statistics, email the statistics team:",
        link=(cover.contact_email, f"mailto:{cover.contact_email}"),
    )
    section(
        "Licence",
        cover.licence_text,
        link=(cover.licence_name, cover.licence_url),
    )
    return TextSheet(tab="Cover", title=_workbook_title(publication, cover), entries=entries)


def _contents_sheet(sheets: list[TextSheet | TableSheet]) -> TableSheet:
    rows: list[list[object]] = []
    links: dict[tuple[int, int], str] = {}
    for index, sheet in enumerate(sheets):
        rows.append([sheet.tab, sheet.title])
        links[(index, 1)] = f"internal:'{sheet.tab}'!A1"
    return TableSheet(
        tab="Contents",
        title="Table of contents",
        lines=[
            "This worksheet contains one table. Each sheet title is a link to the sheet.",
        ],
        table_name="table_of_contents",
        columns=[Column("Sheet name"), Column("Sheet title")],
        rows=rows,
        links=links,
    )


def _notes_sheet(notes: _Notes) -> TableSheet:
    return TableSheet(
        tab="Notes",
        title="Notes",
        lines=[
            "This worksheet contains one table. The table worksheets refer to these notes "
            "by their number.",
        ],
        table_name="notes_table",
        columns=[Column("Note number"), Column("Note text")],
        rows=[
            [f"[note {number}]", notes.texts[key]]
            for number, key in enumerate(notes.order, start=1)
        ],
        note_number_column=0,
    )


def _build_sheets(publication: Publication, cover: CoverText) -> list[TextSheet | TableSheet]:
    tidy = publication.tidy
    _check_tidy(tidy)
    notes = _Notes({**cover.notes, **policy_notes(publication), **series_notes(publication)})
    present = sorted(set(tidy["table"].unique().to_list()), key=lambda n: TABLE_ORDER.get(n, n))
    tables = [
        _table_sheet(TABLES[number], publication.table(number), publication, cover, notes)
        for number in present
    ]
    revisions = _revisions_sheet(publication)
    if not tables:
        raise WorkbookError("publication.tidy has no rows: there is no table to publish")
    cover_sheet = _cover_sheet(publication, cover, tables)
    notes_sheet = _notes_sheet(notes)
    tables_and_revisions = [*tables, *([revisions] if revisions else [])]
    contents = _contents_sheet([cover_sheet, notes_sheet, *tables_and_revisions])
    return _stamped([cover_sheet, contents, notes_sheet, *tables_and_revisions], publication.stamp)


def _stamped(
    sheets: list[TextSheet | TableSheet], stamp: str | None
) -> list[TextSheet | TableSheet]:
    """`stamp` (the demo's "Synthetic data: not official statistics") as the first line
    under the title of every sheet, so that no sheet copied on its own loses it."""
    if stamp:
        for sheet in sheets:
            if isinstance(sheet, TextSheet):
                sheet.entries.insert(0, ("text", stamp, None))
            else:
                sheet.lines.insert(0, stamp)
    return sheets


# --------------------------------------------------------------------------- validation


def _check_text(text: object, where: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise WorkbookError(f"{where}: empty text; every cell needs words, a number or [x]")
    if text != text.strip():
        raise WorkbookError(f"{where}: '{text}' has leading or trailing spaces; strip them")
    if BARE_SYMBOL.match(text):
        raise WorkbookError(
            f"{where}: '{text}' is a bare symbol; write shorthand in square brackets, "
            "e.g. [c], and explain it above the table"
        )


def _validate(sheets: list[TextSheet | TableSheet]) -> None:
    """Raise WorkbookError unless every sheet meets the rules the checker tests."""
    tabs: set[str] = set()
    table_names: set[str] = set()
    defined_notes: set[int] = set()
    used_notes: dict[int, str] = {}
    for sheet in sheets:
        _check_tab_name(sheet.tab, tabs)
        _check_text(sheet.title, f"sheet {sheet.tab}, title in A1")
        texts: list[tuple[str, str]] = [(sheet.title, "A1")]
        if isinstance(sheet, TextSheet):
            texts += _text_entries(sheet)
        else:
            texts += _table_texts(sheet, table_names)
            defined_notes |= _notes_defined(sheet)
        for text, where in texts:
            for match in NOTE_REFERENCE.finditer(text):
                for number in match.group(1).split(","):
                    used_notes.setdefault(int(number), f"sheet {sheet.tab}, {where}")
    _check_notes_used(defined_notes, used_notes)


def _check_tab_name(tab: str, tabs: set[str]) -> None:
    """A tab name Excel accepts and a reader can type, unique in the workbook (`tabs`:
    those seen so far, in lower case; this one is added)."""
    if not tab or len(tab) > MAX_TAB_NAME:
        raise WorkbookError(
            f"tab name '{tab}' must have 1 to {MAX_TAB_NAME} characters; shorten it"
        )
    if tab[0].isdigit() or tab != tab.strip() or set(tab) & TAB_NAME_FORBIDDEN:
        raise WorkbookError(
            f"tab name '{tab}' must not start with a digit or a space, nor hold any "
            "of [ ] : * ? / \\ '; use e.g. 'Table_1'"
        )
    if tab.lower() in tabs:
        raise WorkbookError(f"tab name '{tab}' is used twice; tab names must be unique")
    tabs.add(tab.lower())


def _text_entries(sheet: TextSheet) -> list[tuple[str, str]]:
    """A text sheet's lines, checked, with where each is (for its note references)."""
    texts = []
    for index, (style, text, _link) in enumerate(sheet.entries, start=2):
        _check_text(text, f"sheet {sheet.tab}, cell A{index}")
        if style not in ("heading", "text", "link"):
            raise WorkbookError(f"sheet {sheet.tab}: unknown text style '{style}'")
        texts.append((text, f"A{index}"))
    return texts


def _table_texts(sheet: TableSheet, table_names: set[str]) -> list[tuple[str, str]]:
    """A table sheet checked: its description lines, table name, headers and cells; its
    texts, with where each is (for their note references)."""
    texts = []
    for index, line in enumerate(sheet.lines, start=2):
        _check_text(line, f"sheet {sheet.tab}, cell A{index}")
        texts.append((line, f"A{index}"))
    _check_table_name(sheet, table_names)
    texts += _header_texts(sheet)
    if not sheet.rows:
        raise WorkbookError(f"sheet {sheet.tab}: the table has no rows; drop the sheet")
    for row_index, row in enumerate(sheet.rows):
        texts += _row_texts(sheet, row_index, row)
    return texts


def _check_table_name(sheet: TableSheet, table_names: set[str]) -> None:
    """A table name that says what the table is, unique in the workbook (`table_names`:
    those seen so far; this one is added)."""
    tab, name = sheet.tab, sheet.table_name
    if not TABLE_NAME_PATTERN.match(name) or re.match(r"^table\d*$", name):
        raise WorkbookError(
            f"sheet {tab}: table name '{name}' must be lower case letters, digits "
            "and underscores, start with a letter, and describe the table "
            "(e.g. table_1_activity_count)"
        )
    if re.match(r"^[a-z]{1,3}\d+$", name):
        raise WorkbookError(f"sheet {tab}: table name '{name}' looks like a cell")
    if name in table_names:
        raise WorkbookError(f"table name '{name}' is used twice; make it unique")
    table_names.add(name)


def _header_texts(sheet: TableSheet) -> list[tuple[str, str]]:
    """The column headers, checked and unique ignoring case (Excel's rule)."""
    texts = []
    seen: set[str] = set()
    for header in (column.header for column in sheet.columns):
        _check_text(header, f"sheet {sheet.tab}, column header")
        if header.lower() in seen:
            raise WorkbookError(
                f"sheet {sheet.tab}: column header '{header}' is used twice; Excel "
                "tables need unique headers (ignoring case)"
            )
        seen.add(header.lower())
        texts.append((header, "header"))
    return texts


_NUMBER_KINDS = ("count", "median", "decimal")


def _row_texts(sheet: TableSheet, row_index: int, row: Sequence[object]) -> list[tuple[str, str]]:
    """One table row checked: a cell per column, text in text columns, and in number
    columns a number or a marker (never a number stored as text); its texts."""
    if len(row) != len(sheet.columns):
        raise WorkbookError(
            f"sheet {sheet.tab}: table row {row_index + 1} has {len(row)} cells for "
            f"{len(sheet.columns)} columns"
        )
    texts = []
    for column_index, (column, value) in enumerate(zip(sheet.columns, row, strict=True)):
        if (
            column.kind in _NUMBER_KINDS
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            continue  # a number in a number column: nothing to say of it
        where = f"sheet {sheet.tab}, row {row_index + 1}, column '{column.header}'"
        if column.kind == "text":
            _check_text(value, where)
            if column_index != sheet.note_number_column:
                texts.append((value, where))  # type: ignore[arg-type]
            continue
        if column.kind not in _NUMBER_KINDS:
            raise WorkbookError(f"{where}: unknown column kind '{column.kind}'")
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise WorkbookError(f"{where}: {value!r} is not a number or marker")
        if isinstance(value, str) and BARE_SYMBOL.match(value):
            _check_text(value, where)
        if isinstance(value, str) and not (
            MARKER_CELL.match(value) or NUMBER_WITH_MARKER.match(value)
        ):
            raise WorkbookError(
                f"{where}: '{value}' is text in a number column; store the "
                "number as a number, or write a marker such as [c]"
            )
    return texts


def _notes_defined(sheet: TableSheet) -> set[int]:
    """The note numbers a table defines (the Notes table's [note N] column)."""
    if sheet.note_number_column is None:
        return set()
    defined = set()
    for row in sheet.rows:
        match = re.fullmatch(r"\[note (\d+)\]", str(row[sheet.note_number_column]))
        if not match:
            raise WorkbookError(
                f"sheet {sheet.tab}: note number '{row[sheet.note_number_column]}' "
                "must look like [note 1]"
            )
        defined.add(int(match.group(1)))
    return defined


def _check_notes_used(defined_notes: set[int], used_notes: dict[int, str]) -> None:
    """Every note referred to is on the Notes sheet, and every note there is used."""
    for number, where in sorted(used_notes.items()):
        if number not in defined_notes:
            raise WorkbookError(f"{where} refers to [note {number}], which the Notes table lacks")
    unused = sorted(defined_notes - set(used_notes))
    if unused:
        raise WorkbookError(f"notes {unused} are listed on the Notes sheet but never used")


# --------------------------------------------------------------------------- rendering


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        base = {"text_wrap": True, "valign": "top"}
        self.title = book.add_format({**base, "bold": True, "font_size": TITLE_SIZE})
        self.heading = book.add_format({**base, "bold": True, "font_size": HEADING_SIZE})
        self.text = book.add_format({**base, "align": "left"})
        self.link = book.add_format({**base, "align": "left", "hyperlink": True})
        self.link.set_underline(1)
        self.link.set_font_color("#0000FF")
        self.header_text = book.add_format({**base, "bold": True, "align": "left"})
        self.header_number = book.add_format({**base, "bold": True, "align": "right"})
        self.count = book.add_format({**base, "align": "right", "num_format": COUNT_FORMAT})
        self.decimal = book.add_format({**base, "align": "right", "num_format": DECIMAL_FORMAT})


def _width(texts: Sequence[str], low: float, high: float) -> float:
    longest = max((len(text) for text in texts), default=0)
    return float(min(high, max(low, longest * 1.15 + 2)))


def _render_text_sheet(sheet: TextSheet, ws, formats: _Formats) -> None:
    ws.set_column(0, 0, TEXT_SHEET_WIDTH)
    ws.write_string(0, 0, sheet.title, formats.title)
    for row, (style, text, link) in enumerate(sheet.entries, start=1):
        if style == "link":
            ws.write_url(row, 0, link, formats.link, string=text)
        else:
            ws.write_string(row, 0, text, formats.heading if style == "heading" else formats.text)


TEXT_SHEET_WIDTH = 100.0


def _column_widths(sheet: TableSheet | TextSheet) -> list[float]:
    """Each column's width in characters, for the workbook and its ODS copy alike."""
    if isinstance(sheet, TextSheet):
        return [TEXT_SHEET_WIDTH]
    widths = []
    for column_index, column in enumerate(sheet.columns):
        values = [str(row[column_index]) for row in sheet.rows]
        if column.kind == "text":
            high = 80 if column_index == len(sheet.columns) - 1 else 45
            width = _width([*values, *column.header.split()], 12, high)
        else:
            width = _width([column.header[:18], *values], 12, 20)
        if column_index == 0:
            width = max(width, 30.0)  # column A also holds the title and description
        widths.append(width)
    return widths


def _render_table_sheet(sheet: TableSheet, ws, formats: _Formats) -> None:
    ws.write_string(0, 0, sheet.title, formats.title)
    for row, line in enumerate(sheet.lines, start=1):
        ws.write_string(row, 0, line, formats.text)
    first = len(sheet.lines) + 1
    for column_index, width in enumerate(_column_widths(sheet)):
        ws.set_column(column_index, column_index, width)
    for row_offset, row in enumerate(sheet.rows, start=1):
        for column_index, (column, value) in enumerate(zip(sheet.columns, row, strict=True)):
            target = sheet.links.get((row_offset - 1, column_index))
            if target is not None:
                ws.write_url(first + row_offset, column_index, target, formats.link, string=value)
            elif column.kind == "text":
                ws.write_string(first + row_offset, column_index, value, formats.text)
            else:
                if isinstance(value, str):
                    ws.write_string(first + row_offset, column_index, value, formats.count)
                else:
                    decimals = _shows_decimals(value, column.kind)
                    number_format = formats.decimal if decimals else formats.count
                    ws.write_number(first + row_offset, column_index, value, number_format)
    ws.add_table(
        first,
        0,
        first + len(sheet.rows),
        len(sheet.columns) - 1,
        {
            "name": sheet.table_name,
            "style": None,  # no table style: no colours, no banding
            "autofilter": False,
            "banded_rows": False,
            "header_row": True,
            "columns": [
                {
                    "header": column.header,
                    "header_format": formats.header_text
                    if column.kind == "text"
                    else formats.header_number,
                }
                for column in sheet.columns
            ],
        },
    )


def _render(sheets: list[TextSheet | TableSheet], properties: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,  # zip entries get a fixed date, no temporary files
            "default_format_properties": {"font_name": FONT_NAME, "font_size": FONT_SIZE},
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    book.set_properties(properties)
    formats = _Formats(book)
    for sheet in sheets:
        ws = book.add_worksheet(sheet.tab)
        if isinstance(sheet, TextSheet):
            _render_text_sheet(sheet, ws, formats)
        else:
            _render_table_sheet(sheet, ws, formats)
        ws.set_selection(0, 0, 0, 0)
    book.worksheets()[0].activate()
    book.close()
    return buffer.getvalue()


def _set_language(xlsx: bytes, language: str) -> bytes:
    """Add dc:language to docProps/core.xml (XlsxWriter has no property for it).

    The zip is rewritten entry by entry with the same names, order, dates and
    compression, so the result is as deterministic as XlsxWriter's own output.
    """
    if not re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*", language):
        raise WorkbookError(f"language '{language}' is not a BCP 47 tag such as en-GB")
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                if "<dc:language>" not in text:
                    text = text.replace(
                        "</cp:coreProperties>",
                        f"<dc:language>{language}</dc:language></cp:coreProperties>",
                    )
                data = text.encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            entry.compress_type = info.compress_type
            entry.external_attr = info.external_attr
            entry.create_system = info.create_system
            target.writestr(entry, data)
    return out.getvalue()


def write_workbook(
    publication: Publication, path: Path, cover: CoverText, ods_path: Path | None = None
) -> None:
    """Write the accessible workbook of `publication` to `path` (`<identifier>.xlsx`),
    and, given `ods_path`, the same sheets as an OpenDocument spreadsheet."""
    path = Path(path)
    if not FILE_NAME_PATTERN.match(path.name):
        raise WorkbookError(
            f"workbook file name '{path.name}' must be lower case words and digits joined "
            f"by hyphens, ending .xlsx, e.g. '{publication.identifier}.xlsx'"
        )
    sheets = _build_sheets(publication, cover)
    _validate(sheets)
    published = _publication_date(publication, cover)
    title = _workbook_title(publication, cover)
    properties: dict[str, object] = {
        "title": title,
        "subject": f"{cover.title}, {publication.identifier}",
        "author": cover.publisher,
        "manager": cover.publisher,
        "company": cover.publisher,
        "keywords": cover.keywords,
        "comments": f"{publication.status.capitalize()} statistics. {cover.licence_name}.",
        "status": publication.status.capitalize(),
        "created": datetime(published.year, published.month, published.day),
    }
    data = _set_language(_render(sheets, properties), cover.language)
    path.write_bytes(data)
    if ods_path is not None:
        write_ods(ods_path, sheets, [_column_widths(s) for s in sheets], properties, cover.language)


# --------------------------------------------------------------------------- reports


def write_report_workbook(
    path: Path,
    title: str,
    cover_paragraphs: Sequence[tuple[str, str]],
    tables: Sequence[TableSheet],
    cover: CoverText,
    created: date,
    stamp: str | None = None,
) -> None:
    """Write a small accessible workbook beside the publication (e.g. the data-quality
    report): a Cover of ("heading" | "text", text) paragraphs, a Contents sheet, then one
    table per sheet, checked by the same rules as the publication's workbook.

    Every text cell is written with write_string, so text from a submission or a
    reference file (a provider name, a file name) is never read as a formula or a link.
    `created` dates the file, so that the same report gives the same bytes.
    """
    path = Path(path)
    if not FILE_NAME_PATTERN.match(path.name):
        raise WorkbookError(
            f"workbook file name '{path.name}' must be lower case words and digits joined "
            "by hyphens, ending .xlsx"
        )
    if not tables:
        raise WorkbookError(f"{path.name}: there is no table to write")
    cover_sheet = TextSheet(
        tab="Cover",
        title=title,
        entries=[
            *((style, text, None) for style, text in cover_paragraphs),
            ("heading", "Contact", None),
            ("text", "For questions about this report, email the statistics team:", None),
            ("link", cover.contact_email, f"mailto:{cover.contact_email}"),
        ],
    )
    sheets: list[TextSheet | TableSheet] = [cover_sheet]
    sheets.append(_contents_sheet([cover_sheet, *tables]))
    sheets.extend(tables)
    sheets = _stamped(sheets, stamp)
    _validate(sheets)
    properties: dict[str, object] = {
        "title": title,
        "subject": title,
        "author": cover.publisher,
        "manager": cover.publisher,
        "company": cover.publisher,
        "keywords": cover.keywords,
        "comments": f"{cover.licence_name}.",
        "created": datetime(created.year, created.month, created.day),
    }
    path.write_bytes(_set_language(_render(sheets, properties), cover.language))
