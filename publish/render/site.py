"""The HTML summaries: a static site browsable from disk, rendered from the protected table.

`write_site` renders Jinja2 templates (autoescaped) from `templates/site/` into a folder
of plain files: an index with the headline figures of the latest month and a chart, a
page per table (England and the regions) with its providers on pages of their own, one
region's providers a page (in numbered parts past MAX_PAGE_BYTES), a page per provider
(within a region) and a page per modality. Every
figure shown is read from `Publication.tidy`; nothing is recomputed from record-level
data. Links are relative and nothing is fetched from outside the folder (no CDN, no web
font, no external image), so the pages work from `file://` and behind a firewall. The
same publication gives the same bytes.

`serve_publication` serves a publication folder on 127.0.0.1 for a quick look.
"""

from __future__ import annotations

import functools
import html
import http.server
import io
import math
import os
import re
import shutil
import textwrap
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import matplotlib
import polars as pl
from matplotlib import ticker
from matplotlib.figure import Figure

from publish.codes import ALL_SETTINGS, MODALITIES, TABLE11_SOURCE_SETTINGS
from publish.periods import (
    add_months,
    month_name,
    month_range_words,
    month_short,
    months_of_year_to_date,
)
from publish.render.charts import grouped_bar_chart, trend_chart
from publish.render.publication import Publication
from publish.render.templates import environment
from publish.resources import resource_dir
from publish.series.words import (
    final_supersedes_sentence,
    organisation_paragraphs,
    provider_issue_paragraphs,
    revisions_paragraphs,
    supersedes_paragraph,
)
from publish.tables import (
    ACTIVITY_TABLE,
    MARKERS,
    MEASURES,
    REQUEST_TO_TEST_TABLE,
    TABLES,
    TEST_TO_REPORT_TABLE,
    TIDY_COLUMNS,
    MeasureSource,
    TableSpec,
)

# Column headings of measures (tables 9 and 10) and of the comparison pages.
MEASURE_LABELS: dict[str, str] = {name: measure.label for name, measure in MEASURES.items()}

# The largest a table page may be: a region's providers are split over numbered pages
# beyond it (the goal of issue 17: a page that a phone on a slow line can open).
MAX_PAGE_BYTES = 500_000

# Shown for a cell the tidy table does not hold at all (a row a provider never had).
MISSING_MARKER = "x"

# Tables whose measures the provider and modality pages compare.

_SVG_RC = {
    "svg.hashsalt": "did-publish",
    "svg.fonttype": "path",  # glyphs as paths: no font needed, same bytes everywhere
    "font.family": "DejaVu Sans",  # shipped with matplotlib
    "text.parse_math": False,  # a '$' in a label is text, not mathtext
    "text.usetex": False,
}
_SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}

GeoKey = tuple[str, str, str]  # (geography_level, region_code, provider_code)
ENGLAND: GeoKey = ("england", "", "")


# --------------------------------------------------------------------------------------
# Templates


# --------------------------------------------------------------------------------------
# Formatting


def format_value(value: float | None) -> str | None:
    """The published number as written: thousands separated, no invented decimals."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{Decimal(repr(float(value))):,f}"


def slug(text: str) -> str:
    """A file-name and id-safe form of a code or name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unnamed"


@dataclass(frozen=True)
class Cell:
    text: str | None  # formatted number, or None when there is none
    marker: str = ""  # shorthand code, "" when none

    @property
    def meaning(self) -> str:
        return MARKERS.get(self.marker, "")

    @property
    def shown(self) -> str:
        """As the cell shows it: "1,234", "12 [r]", "[c]" (the page's key says what the
        shorthand means)."""
        code = f"[{self.marker}]" if self.marker else ""
        if self.text is None:
            return code
        return f"{self.text} {code}" if code else self.text


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = True


@dataclass(frozen=True)
class Row:
    headers: tuple[str, ...]
    cells: tuple[Cell, ...]
    link: str = ""  # href of the first row header, if it links somewhere


@dataclass
class HtmlTable:
    id: str
    caption: str
    row_header_labels: tuple[str, ...]
    columns: tuple[Column, ...]
    bodies: list[list[Row]] = field(default_factory=list)
    body_ids: tuple[str, ...] = ()  # an id per body (a link's target), or none

    @property
    def grouped(self) -> bool:
        return len(self.bodies) > 1

    def spanned_bodies(
        self,
    ) -> list[list[tuple[list[tuple[str, int, str]], tuple[tuple[str, bool], ...]]]]:
        """Each body's rows as (row headers, cells) for the template: a header written
        once for the run of rows that repeat it, (text, rowspan, link) per header the row
        writes; a cell as (text shown, in a column of words). Every header but a row's
        last may span; a span never leaves its body, nor passes a row whose outer
        headers differ."""
        words = tuple(not column.numeric for column in self.columns)
        return [_spanned_rows(body, words) for body in self.bodies]

    @property
    def markers(self) -> frozenset[str]:
        """The shorthands the table's cells use."""
        return frozenset(c.marker for body in self.bodies for row in body for c in row.cells) - {""}


def _spanned_rows(
    body: list[Row], words: tuple[bool, ...]
) -> list[tuple[list[tuple[str, int, str]], tuple[tuple[str, bool], ...]]]:
    """`HtmlTable.spanned_bodies` of one body; `words` marks the columns of words."""
    rows: list[tuple[list[tuple[str, int, str]], tuple[tuple[str, bool], ...]]] = []
    spans: list[int] = []  # per row, per header level: rowspan, 0 when covered by one above
    for index, row in enumerate(body):
        levels = len(row.headers)
        spans.append([1] * levels)
        previous = body[index - 1] if index else None
        for level in range(levels - 1):
            if (
                previous is not None
                and len(previous.headers) == levels
                and previous.headers[: level + 1] == row.headers[: level + 1]
                and not row.link
            ):
                above = index - 1
                while spans[above][level] == 0:
                    above -= 1
                spans[above][level] += 1
                spans[index][level] = 0
    for row, row_spans in zip(body, spans, strict=True):
        headers = [
            (text, span, row.link if level == 0 else "")
            for level, (text, span) in enumerate(zip(row.headers, row_spans, strict=True))
            if span
        ]
        rows.append((headers, tuple(zip((c.shown for c in row.cells), words, strict=True))))
    return rows


@dataclass(frozen=True)
class RenderedTable:
    """A table's markup, rendered once however many pages show it, and the shorthands
    its cells use (the key of the page that shows it lists them)."""

    html: str
    markers: frozenset[str]

    def __html__(self) -> str:  # Jinja writes it as markup, unescaped
        return self.html


def shorthand_key(*tables: RenderedTable | None) -> list[tuple[str, str]]:
    """(code, meaning) of each shorthand the tables use, in the order of MARKERS."""
    used = frozenset().union(*(t.markers for t in tables if t is not None))
    return [(code, meaning) for code, meaning in MARKERS.items() if code in used]


@dataclass(frozen=True)
class Area:
    key: GeoKey
    name: str
    region_code: str
    region_name: str
    provider_code: str


@dataclass(frozen=True)
class ProviderLink:
    name: str
    code: str
    href: str


@dataclass(frozen=True)
class ProviderGroup:
    region: str
    providers: tuple[ProviderLink, ...]


# --------------------------------------------------------------------------------------
# Reading the protected table


def _keyed_tidy(tidy: pl.DataFrame) -> pl.DataFrame:
    """The tidy table's columns, text nulls as "", a value that is not a finite number as
    null, and each row's area key: (level, region code, code) with level england,
    region, commissioner (tables 7a, 7b and 8: a sub-ICB location) or provider."""
    texts = [name for name in TIDY_COLUMNS if name not in ("table", "value")]
    level = pl.col("geography_level")
    return (
        tidy.select(TIDY_COLUMNS)
        .with_columns(pl.col(texts).fill_null(""))
        .with_columns(
            pl.when(level.is_in(["england", "region", "commissioner"]))
            .then(level)
            .otherwise(pl.lit("provider"))
            .alias("level"),
            pl.when(level == "england")
            .then(pl.lit(""))
            .otherwise(pl.col("region_code"))
            .alias("key_region"),
            pl.when(level.is_in(["england", "region"]))
            .then(pl.lit(""))
            .otherwise(pl.col("provider_code"))
            .alias("key_code"),
            pl.when(pl.col("value").is_finite()).then(pl.col("value")).alias("value"),
        )
    )


class _Figures:
    """Every cell of `publication.tidy`, looked up by its key. Nothing else is shown."""

    def __init__(self, publication: Publication) -> None:
        tidy = _keyed_tidy(publication.tidy)
        columns = {name: tidy[name].to_list() for name in tidy.columns}
        keys = list(zip(columns["level"], columns["key_region"], columns["key_code"], strict=True))
        self.cells: dict[tuple, tuple[float | None, str]] = {
            (table, key, modality, setting, period, measure): (value, marker)
            for table, key, modality, setting, period, measure, value, marker in zip(
                columns["table"],
                keys,
                columns["modality"],
                columns["source_setting"],
                columns["period"],
                columns["measure"],
                columns["value"],
                columns["marker"],
                strict=True,
            )
        }
        self.areas: dict[GeoKey, Area] = {}
        for key, level, rcode, rname, pcode, pname in zip(
            keys,
            columns["geography_level"],
            columns["region_code"],
            columns["region_name"],
            columns["provider_code"],
            columns["provider_name"],
            strict=True,
        ):
            if key not in self.areas:  # named as its first row names it
                name = {"england": "England", "region": rname or rcode}.get(level, pname or pcode)
                self.areas[key] = Area(key, name, rcode, rname or rcode, pcode)
        # First-seen order of modality and setting per table (the tidy file is sorted).
        self.row_keys: dict[int, dict[tuple[str, str], None]] = {}
        for table, modality, setting in (
            tidy.select("table", "modality", "source_setting").unique(maintain_order=True).rows()
        ):
            self.row_keys.setdefault(table, {})[(modality, setting)] = None
        per_table = tidy.group_by("table").agg(
            pl.col("period").unique(), pl.col("source_setting").unique(), pl.col("measure").unique()
        )
        self.periods: dict[int, set[str]] = {}
        self.settings: dict[int, set[str]] = {}
        self.measures: dict[int, set[str]] = {}
        for table, periods, settings, measures in per_table.rows():
            self.periods[table] = set(periods)
            self.settings[table] = set(settings)
            self.measures[table] = set(measures)
        self.areas_of_table: dict[int, set[GeoKey]] = {}
        for table, key in zip(columns["table"], keys, strict=True):
            self.areas_of_table.setdefault(table, set()).add(key)
        self.add_last_year(publication.series.last_year_tidy)

    def add_last_year(self, last_year: pl.DataFrame | None) -> None:
        """The previous financial year's final release, as published: its cells can be
        looked up (the change on the same month last year, trends over both years) but
        add no row, period or area to this release's tables."""
        self.last_year = last_year is not None
        if last_year is None:
            return
        for row in last_year.select(TIDY_COLUMNS).iter_rows():
            table, level, rcode, _, pcode, _, modality, setting, period, measure = row[:10]
            if not str(table).isdigit():
                continue  # tables 7a, 7b: no year on year
            key: GeoKey = (
                ENGLAND
                if level == "england"
                else ("region", rcode, "")
                if level == "region"
                else ("provider", rcode, pcode)
            )
            text = (row[10] or "").strip()
            value = float(text) if text else None
            self.cells.setdefault(
                (int(table), key, modality, setting, period, measure), (value, row[11] or "")
            )

    def cell(self, table, key, modality, setting, period, measure) -> Cell:
        found = self.cells.get((table, key, modality, setting, period, measure))
        if found is None:
            return Cell(None, MISSING_MARKER)
        value, marker = found
        text = format_value(value)
        if text is None and not marker:
            marker = MISSING_MARKER
        return Cell(text, marker)

    def value(self, table, key, modality, setting, period, measure) -> float | None:
        found = self.cells.get((table, key, modality, setting, period, measure))
        return None if found is None else found[0]

    def has(self, table: int) -> bool:
        return table in self.row_keys

    def ordered_areas(self, keys: Iterable[GeoKey]) -> list[Area]:
        """England, regions in code order, providers by region then name (PUBLICATION.md)."""
        level_rank = {"england": 0, "region": 1, "provider": 2, "commissioner": 3}
        return sorted(
            (self.areas[k] for k in keys),
            key=lambda a: (level_rank.get(a.key[0], 3), a.region_code, a.name, a.provider_code),
        )


# --------------------------------------------------------------------------------------
# Building the pages' tables


def _ordered(values: Iterable[str], order: Sequence[str]) -> list[str]:
    rank = {v: i for i, v in enumerate(order)}
    return sorted(set(values), key=lambda v: (rank.get(v, len(rank)), v))


def _period_columns(publication: Publication, periods: Iterable[str]) -> list[tuple[str, Column]]:
    """Months in time order, then the year to date (then any other interval)."""
    return list(_period_columns_of(publication.year_to_date, frozenset(periods)))


@functools.cache
def _period_columns_of(
    year_to_date: str, periods: frozenset[str]
) -> tuple[tuple[str, Column], ...]:
    """`_period_columns`, worked out once per table's periods (every page of a table, and
    every provider's page, asks again)."""
    months = sorted(p for p in periods if re.fullmatch(r"\d{4}-\d{2}", p))
    others = _ordered(periods - set(months), [year_to_date])
    result = []
    for period in months + others:
        if period == year_to_date:
            result.append((period, Column("Year to date")))
        elif re.fullmatch(r"\d{4}-\d{2}", period):
            result.append((period, Column(month_short(period))))
        else:
            result.append((period, Column(period)))
    return tuple(result)


def quarter_label(period: str) -> str:
    """A quarter's period in words: "2024-04/2024-06" -> "April to June 2024"."""
    return month_range_words(*period.split("/"))


def _ytd_phrase(publication: Publication) -> str:
    return (
        f"year to date ({month_name(publication.months[0])} to "
        f"{month_name(publication.latest_month)})"
    )


def _table_grid(
    figures: _Figures, publication: Publication, number: int
) -> tuple[tuple[str, ...], list[tuple[tuple[str, str, str], Column]]]:
    """Row header labels and the columns of a table: (period, setting, measure) per column."""
    spec = TABLES.get(number)
    layout = spec.layout if spec else "months"
    measures = _ordered(figures.measures[number], spec.measures if spec else ())
    settings = _ordered(figures.settings[number], TABLE11_SOURCE_SETTINGS)
    periods = figures.periods[number]
    row_label = spec.row_label if spec else "Modality"
    columns: list[tuple[tuple[str, str, str], Column]] = []
    if layout == "settings":
        period = _ordered(periods, [publication.year_to_date])[0]
        for setting in settings:
            label = "Total" if setting == ALL_SETTINGS else setting
            columns.append(((period, setting, measures[0]), Column(label)))
        return (row_label,), columns
    if layout == "measures":
        # a quarterly table (13) has a row per quarter: its columns name no period
        period = "" if by_quarter(spec) else _ordered(periods, [publication.year_to_date])[0]
        for measure in measures:
            label = MEASURE_LABELS.get(measure, measure.replace("_", " ").capitalize())
            columns.append(((period, "", measure), Column(label)))
    else:
        for period, column in _period_columns(publication, periods):
            columns.append(((period, "", measures[0]), column))
    headers = (row_label,) if settings == [ALL_SETTINGS] else (row_label, "Source setting")
    if by_quarter(spec):
        headers = (*headers, "Quarter")
    return headers, columns


def by_quarter(spec: TableSpec | None) -> bool:
    """Table 13: a row per quarter of the year to date."""
    return spec is not None and isinstance(spec.source, MeasureSource) and spec.source.by_quarter


# The levels listed under a region on a table's pages: providers, or commissioners.
MEMBER_LEVELS = ("provider", "commissioner")


def published(number: int) -> str:
    """The table's number as readers know it ("7a")."""
    spec = TABLES.get(number)
    return spec.published_number if spec else str(number)


def provider_details_text(publication: Publication, area: Area) -> str:
    """ ", ICB QMF, imaging network North East London" (table 13), as sites.csv gives them."""
    details = publication.provider_details
    if details is None or details.height == 0:
        return ""
    found = details.filter(
        (pl.col("region_code") == area.region_code)
        & (pl.col("provider_code") == area.provider_code)
    )
    if found.height == 0:
        return ""
    row = found.row(0, named=True)
    words = []
    if row.get("icb_code"):
        words.append(f"ICB {row['icb_code']}")
    if row.get("network_name"):
        words.append(f"imaging network {row['network_name']}")
    return "".join(f", {w}" for w in words)


def _area_table(
    figures: _Figures, publication: Publication, number: int, area: Area, table_id: str
) -> HtmlTable:
    headers, columns = _table_grid(figures, publication, number)
    spec = TABLES.get(number)
    title = spec.title if spec else f"Table {number}"
    layout = spec.layout if spec else "months"
    place = area.name
    if area.key[0] in MEMBER_LEVELS and area.region_code:
        place = f"{area.name} ({area.region_name})"
    caption = f"Table {published(number)}: {title}, {place}"
    if spec is not None and spec.shows_provider_details and area.key[0] == "provider":
        caption += provider_details_text(publication, area)
    caption += _caption_period(spec, publication)
    rows = []
    seen_rows: dict[tuple[str, ...], None] = {}
    quarters = sorted(figures.periods[number]) if by_quarter(spec) else [""]
    for (modality, setting), quarter in (
        (row, quarter) for row in figures.row_keys[number] for quarter in quarters
    ):
        if layout == "settings":
            row_id: tuple[str, ...] = (modality,)
        else:
            row_id = (modality, setting, quarter) if quarter else (modality, setting)
        if row_id in seen_rows:
            continue
        keys = [
            (number, area.key, modality, c_setting or setting, period or quarter, measure)
            for (period, c_setting, measure), _ in columns
        ]
        if not any(k in figures.cells for k in keys):
            continue
        seen_rows[row_id] = None
        cells = tuple(figures.cell(*k) for k in keys)
        row_headers = row_id[: len(headers)] if len(headers) > 1 else (modality,)
        if quarter:  # "2024-04/2024-06" -> "April to June 2024"
            row_headers = (*row_headers[:-1], quarter_label(quarter))
        rows.append(Row(tuple(row_headers), cells))
    return HtmlTable(table_id, caption, headers, tuple(c for _, c in columns), [rows])


def _caption_period(spec: TableSpec | None, publication: Publication) -> str:
    """What a caption says of the table's period when its columns are not its months."""
    if by_quarter(spec):
        return f", by quarter of the {_ytd_phrase(publication)}"
    if spec is not None and spec.layout != "months":
        return f", {_ytd_phrase(publication)}"
    return ""


def _members_table(
    publication: Publication,
    number: int,
    members: list[tuple[Area, str, HtmlTable]],
    table_id: str,
    caption: str,
) -> HtmlTable:
    """A region's providers (or commissioners) in one table: a row group per member, its
    name the outer row header (written once, spanning its rows), the group's id the
    member's anchor. One table rather than a table each: the heading row, caption and
    box of a table each were a sixth of the site (issue 17). `members` holds each
    member's own table (`_area_table`) with its anchor."""
    spec = TABLES.get(number)
    first = members[0][2]
    label = "Commissioner" if members[0][0].key[0] == "commissioner" else "Provider"
    bodies, ids = [], []
    for area, anchor, table in members:
        name = area.name
        if spec is not None and spec.shows_provider_details and area.key[0] == "provider":
            name += provider_details_text(publication, area)
        bodies.append([Row((name, *row.headers), row.cells) for row in table.bodies[0]])
        ids.append(anchor)
    return HtmlTable(
        table_id,
        caption,
        (label, *first.row_header_labels),
        first.columns,
        bodies,
        tuple(ids),
    )


# --------------------------------------------------------------------------------------
# Chart


def _activity_chart(labels: list[str], values: list[float | None], markers: list[str]) -> str:
    """A horizontal bar chart as reproducible SVG text (no date, fixed hash salt)."""
    with matplotlib.rc_context(_SVG_RC):
        fig = Figure(figsize=(5.6, 0.62 * len(labels) + 1.1))
        ax = fig.add_subplot()
        positions = list(range(len(labels)))[::-1]
        bar_values = [v if v is not None else 0 for v in values]
        ax.barh(positions, bar_values, color="#005eb8", height=0.62)
        wrapped = [textwrap.fill(label, 24) for label in labels]
        ax.set_yticks(positions, labels=wrapped, fontsize=12, color="#212b32")
        top = max(bar_values, default=0) or 1
        ax.set_xlim(0, top * 1.3)
        for pos, value, marker in zip(positions, values, markers, strict=True):
            text = format_value(value) if value is not None else f"[{marker or MISSING_MARKER}]"
            ax.text(
                (value or 0) + top * 0.015, pos, text, va="center", fontsize=12, color="#212b32"
            )
        ax.set_xlabel("Number of tests", fontsize=12, color="#212b32")
        ax.xaxis.set_major_locator(ticker.MaxNLocator(4))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _pos: f"{int(x):,}"))
        ax.tick_params(axis="x", labelsize=11, colors="#212b32")
        ax.tick_params(axis="y", length=0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.spines["left"].set_color("#4c6272")
        ax.spines["bottom"].set_color("#4c6272")
        ax.grid(axis="x", color="#d8dde0", linewidth=0.8)
        ax.set_axisbelow(True)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata=_SVG_METADATA, bbox_inches="tight")
    svg = buffer.getvalue()
    # The DTD is never fetched by a browser; drop its URL all the same.
    return re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg, count=1)


def _svg_size(svg: str) -> tuple[int, int]:
    match = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if not match:
        return 720, 400
    # 1pt = 4/3 CSS px
    return round(float(match.group(1)) * 4 / 3), round(float(match.group(2)) * 4 / 3)


# --------------------------------------------------------------------------------------
# The site


# The NHS.UK frontend's stylesheet (vendored from the pinned npm package by
# scripts/vendor_nhsuk_frontend.py), then the site's own additions.
STYLESHEETS = ("nhsuk-frontend.min.css", "nhs.css")


def file_size(size: int) -> str:
    """1234567 -> '1.2 MB' (decimal units, as the GOV.UK guidance on file sizes)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def with_size(label: str, path: Path) -> str:
    """'Tidy data (CSV)' -> 'Tidy data (CSV, 2.1 MB)' when the file is there to measure."""
    if not path.is_file():
        return label
    size = file_size(path.stat().st_size)
    if label.endswith(")"):
        return f"{label[:-1]}, {size})"
    return f"{label} ({size})"


def _check_downloads(downloads: dict[str, str]) -> dict[str, str]:
    for label, href in downloads.items():
        if re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*:|/|\\)", href) or "\\" in href:
            raise ValueError(f"download {label!r} must be a relative file name, got {href!r}")
    return dict(downloads)


def default_downloads(publication: Publication) -> dict[str, str]:
    """The files a build writes beside the html folder (PUBLICATION.md section 5)."""
    identifier = publication.identifier
    return {
        "Tidy data (CSV)": f"../{identifier}.csv",
        "Accessible workbook (Excel)": f"../{identifier}.xlsx",
        "The same workbook (OpenDocument, ODS)": f"../{identifier}.ods",
        "Data package description (JSON)": "../datapackage.json",
    }


class _Site:
    def __init__(
        self,
        publication: Publication,
        out_dir: Path,
        downloads: dict[str, str],
        quality_page: str | None = None,
    ):
        self.publication = publication
        self.out_dir = out_dir
        self.downloads = {
            with_size(label, out_dir / href): href for label, href in downloads.items()
        }
        self.quality_page = quality_page  # the data-quality report, from out_dir
        self.figures = _Figures(publication)
        self.env = environment()
        self.macros = self.env.get_template("site/_macros.html").module
        self.written: list[Path] = []
        # The page of each provider's rows in each table: (table, area key) -> href.
        self.table_pages: dict[tuple[int, GeoKey], str] = {}
        figures = self.figures
        self.tables = sorted(figures.row_keys)
        provider_keys = {k for k in figures.areas if k[0] == "provider"}
        self.providers = figures.ordered_areas(provider_keys)
        self.provider_pages: dict[GeoKey, str] = {}
        used: set[str] = set()
        for area in self.providers:
            name = f"{slug(area.region_code)}-{slug(area.provider_code)}"
            candidate, n = name, 2
            while candidate in used:
                candidate, n = f"{name}-{n}", n + 1
            used.add(candidate)
            self.provider_pages[area.key] = f"providers/{candidate}.html"
        self.commissioners = figures.ordered_areas(
            {k for k in figures.areas if k[0] == "commissioner"}
        )
        self.commissioner_pages: dict[GeoKey, str] = {}
        for area in self.commissioners:
            name = f"{slug(area.region_code)}-{slug(area.provider_code)}"
            self.commissioner_pages[area.key] = f"commissioners/{name}.html"
        self.modalities = self._modalities()
        self.modality_pages = {}
        used = set()
        for modality in self.modalities:
            candidate, n = slug(modality), 2
            while candidate in used:
                candidate, n = f"{slug(modality)}-{n}", n + 1
            used.add(candidate)
            self.modality_pages[modality] = f"modalities/{candidate}.html"

    # -- helpers ------------------------------------------------------------------------

    def _modalities(self) -> list[str]:
        found: set[str] = set()
        for table in (ACTIVITY_TABLE, REQUEST_TO_TEST_TABLE, TEST_TO_REPORT_TABLE):
            found.update(m for m, _ in self.figures.row_keys.get(table, {}))
        if not (self.figures.has(REQUEST_TO_TEST_TABLE) or self.figures.has(TEST_TO_REPORT_TABLE)):
            return []
        return _ordered(found, MODALITIES)

    def _write(self, relative: str, text: str) -> None:
        path = self.out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        self.written.append(path)

    def _render(self, relative: str, template: str, **context) -> None:
        self._write(relative, self._page_text(relative, template, **context))

    def _page_text(self, relative: str, template: str, **context) -> str:
        depth = relative.count("/")
        root = "../" * depth
        context.setdefault("breadcrumbs", [])
        page = self.env.get_template(f"site/{template}").render(
            publication=self.publication,
            root=root,
            downloads=[(label, root + href) for label, href in self.downloads.items()],
            quality_href=root + self.quality_page if self.quality_page else None,
            table_links=self._table_links(root),
            fy=self.publication.financial_year,
            status=self.publication.status,
            latest=month_name(self.publication.latest_month),
            **context,
        )
        return page

    def _rendered(self, table: HtmlTable) -> RenderedTable:
        """The table's markup: rendered here once, then placed in the pages that show it
        (a region's pages are measured and split without rendering its tables again)."""
        return RenderedTable(str(self.macros.data_table(table)), table.markers)

    def _table_links(self, root: str) -> list[tuple[str, str]]:
        links = []
        for number in self.tables:
            spec = TABLES.get(number)
            title = spec.title if spec else f"Table {number}"
            links.append(
                (
                    f"Table {published(number)}: {title}",
                    f"{root}tables/table-{published(number)}.html",
                )
            )
        return links

    def _provider_groups(self, href_of) -> list[ProviderGroup]:
        groups: dict[str, list[ProviderLink]] = {}
        for area in self.providers:
            href = href_of(area)
            if href is None:
                continue
            groups.setdefault(area.region_name, []).append(
                ProviderLink(area.name, area.provider_code, href)
            )
        return [ProviderGroup(region, tuple(links)) for region, links in groups.items()]

    @staticmethod
    def _anchor(area: Area) -> str:
        if area.key[0] == "england":
            return "england"
        if area.key[0] == "region":
            return f"region-{slug(area.region_code)}"
        return f"{area.key[0]}-{slug(area.region_code)}-{slug(area.provider_code)}"

    @staticmethod
    def _members_in(members: list[Area], region_name: str) -> str:
        """ "Providers in London ...", or "Commissioners in ..." (tables 7a, 7b, 8)."""
        if members and members[0].key[0] == "commissioner":
            if not region_name:
                return "Commissioner not known (GP practice missing or not in the reference)"
            return f"Commissioners in {region_name}"
        return f"Providers in {region_name}"

    # -- pages --------------------------------------------------------------------------

    def write(self) -> list[Path]:
        for stylesheet in STYLESHEETS:
            shutil.copyfile(
                resource_dir("templates") / "site" / stylesheet, self.out_dir / stylesheet
            )
            self.written.append(self.out_dir / stylesheet)
        self._index()
        self._revisions_page()
        for number in self.tables:
            self._table_page(number)
        for area in self.providers:
            self._provider_page(area)
        if self.commissioners:
            self._commissioner_pages()
        for modality in self.modalities:
            self._modality_page(modality)
        return sorted(self.written)

    def _index(self) -> None:
        """The home page: England's headline figures of the latest month by modality,
        with the change on a year before where the publication holds it, and a chart."""
        pub, figures = self.publication, self.figures
        latest = pub.latest_month
        year, mon = latest.split("-")
        last_year = f"{int(year) - 1}-{mon}"
        modalities = [
            m for m, s in figures.row_keys.get(ACTIVITY_TABLE, {}) if s == ALL_SETTINGS
        ] or self.modalities
        modalities = list(dict.fromkeys(modalities))
        has = {t: figures.has(t) for t in (1, 2, 3)}
        has_last_year = any(
            (1, ENGLAND, m, ALL_SETTINGS, last_year, "activity_count") in figures.cells
            for m in modalities
        )
        headline, chart_values, chart_markers = self._headline_table(
            modalities, has, latest, last_year if has_last_year else None
        )
        chart = None
        if has[1] and modalities:
            chart = self._index_chart(modalities, chart_values, chart_markers, latest)
        headline_html = self._rendered(headline)
        self._render(
            "index.html",
            "index.html",
            title=f"Diagnostic Imaging Dataset {pub.financial_year}",
            headline=headline_html,
            key=shorthand_key(headline_html),
            chart=chart,
            has_last_year=has_last_year,
            policy_note=pub.policy.reader_note,
            last_year=month_name(last_year),
            last_year_release=pub.series.last_year,
            provider_groups=self._provider_groups(lambda a: self.provider_pages[a.key]),
            commissioners_page="commissioners/index.html" if self.commissioners else None,
            modality_links=[(m, self.modality_pages[m]) for m in self.modalities],
            **self._series_context(),
        )

    def _headline_table(
        self, modalities: list[str], has: dict[int, bool], latest: str, last_year: str | None
    ) -> tuple[HtmlTable, list[float | None], list[str]]:
        """The headline table (tests, change on a year before when `last_year` is given,
        median waits), and the chart's values and markers of the tests column."""
        figures = self.figures
        columns = []
        if has[1]:
            columns.append(Column(f"Number of tests, {month_name(latest)}"))
            if last_year:
                columns.append(Column(f"Change on {month_name(last_year)} (%)"))
        if has[2]:
            columns.append(Column("Median days, request to test"))
        if has[3]:
            columns.append(Column("Median days, test to report"))
        rows = []
        chart_values, chart_markers = [], []
        for modality in modalities:
            cells = []
            if has[1]:
                args = (1, ENGLAND, modality, ALL_SETTINGS, latest, "activity_count")
                cell = figures.cell(*args)
                cells.append(cell)
                chart_values.append(figures.value(*args))
                chart_markers.append(cell.marker)
                if last_year:
                    now = figures.value(*args)
                    before = figures.value(
                        1, ENGLAND, modality, ALL_SETTINGS, last_year, "activity_count"
                    )
                    if now is None or before is None or before == 0:
                        cells.append(Cell(None, "x"))
                    else:
                        cells.append(Cell(f"{(now - before) / before * 100:+.1f}"))
            if has[2]:
                cells.append(
                    figures.cell(
                        2, ENGLAND, modality, ALL_SETTINGS, latest, "median_days_request_to_test"
                    )
                )
            if has[3]:
                cells.append(
                    figures.cell(
                        3, ENGLAND, modality, ALL_SETTINGS, latest, "median_days_test_to_report"
                    )
                )
            rows.append(Row((modality,), tuple(cells)))
        headline = HtmlTable(
            "headline",
            f"Imaging tests and median waits by modality, England, {month_name(latest)}",
            ("Modality",),
            tuple(columns),
            [rows],
        )
        return headline, chart_values, chart_markers

    def _index_chart(
        self,
        modalities: list[str],
        chart_values: list[float | None],
        chart_markers: list[str],
        latest: str,
    ) -> dict:
        """The home page's bar chart of tests by modality, written, with its text
        alternative (the most and fewest tests named)."""
        svg = _activity_chart(modalities, chart_values, chart_markers)
        self._write("charts/activity-by-modality.svg", svg)
        width, height = _svg_size(svg)
        known = [(v, m) for v, m in zip(chart_values, modalities, strict=True) if v is not None]
        alt = (
            f"Bar chart of the number of imaging tests in England in {month_name(latest)} "
            f"by modality."
        )
        if known:
            most = max(known, key=lambda vm: vm[0])
            least = min(known, key=lambda vm: vm[0])
            alt += (
                f" The most tests were of {most[1]} ({format_value(most[0])}), the fewest "
                f"of {least[1]} ({format_value(least[0])})."
            )
        alt += " The figures are in the table beside the chart."
        return {
            "src": "charts/activity-by-modality.svg",
            "alt": alt,
            "width": width,
            "height": height,
        }

    def _series_context(self) -> dict:
        """What the home page says of the release's place in its series (section 7)."""
        pub = self.publication
        series = pub.series
        return {
            "series_status": [
                text
                for text in (
                    final_supersedes_sentence(pub.status, pub.financial_year),
                    supersedes_paragraph(series, pub.financial_year),
                )
                if text
            ],
            "revisions_words": revisions_paragraphs(series, "on the revisions page"),
            "revisions_href": "revisions.html" if series.revised_cells else None,
            "organisation_changes": organisation_paragraphs(series),
            "provider_issues": provider_issue_paragraphs(series),
        }

    def _revisions_page(self) -> None:
        """Every revised cell with its earlier and new published figure."""
        revisions = self.publication.series.revisions
        if revisions is None or revisions.height == 0:
            return
        rows = []
        for r in revisions.iter_rows(named=True):
            where = r["provider_name"] or r["region_name"] or "England"
            rows.append(
                Row(
                    (
                        f"Table {published(r['table'])}",
                        where,
                        r["modality"],
                        r["source_setting"],
                        r["period"],
                        MEASURE_LABELS.get(r["measure"], r["measure"]),
                    ),
                    (
                        Cell(format_value(r["previous_value"]), r["previous_marker"] or ""),
                        Cell(format_value(r["value"]), r["marker"]),
                    ),
                )
            )
        compared = self.publication.series.compared_with
        table = HtmlTable(
            "revisions",
            f"Cells revised since {compared}",
            ("Table", "Area", "Modality or test group", "Source setting", "Period", "Measure"),
            (Column(f"Figure in {compared}"), Column("Figure in this release")),
            [rows],
        )
        rendered = self._rendered(table)
        self._render(
            "revisions.html",
            "revisions.html",
            title=f"Revisions since {compared}",
            table=rendered,
            key=shorthand_key(rendered),
            revisions_words=revisions_paragraphs(self.publication.series, "below"),
            breadcrumbs=[("Home", "index.html")],
        )

    def _table_page(self, number: int) -> None:
        """A table's page holds England and the regions; its providers are on pages of
        their own, one region's providers a page (split in numbered parts when a region's
        would pass MAX_PAGE_BYTES), linked from it without JavaScript."""
        figures = self.figures
        spec = TABLES.get(number)
        title = f"Table {published(number)}: {spec.title if spec else f'Table {number}'}"
        areas = figures.ordered_areas(figures.areas_of_table[number])
        sections: list[dict] = []
        england = [a for a in areas if a.key[0] == "england"]
        regions = [a for a in areas if a.key[0] == "region"]
        providers = [a for a in areas if a.key[0] in MEMBER_LEVELS]
        for area in england:
            sections.append(
                {
                    "heading": "England",
                    "level": 2,
                    "tables": [
                        self._rendered(
                            _area_table(figures, self.publication, number, area, "england")
                        )
                    ],
                }
            )
        if regions:
            sections.append(
                {
                    "heading": "Regions",
                    "level": 2,
                    "tables": [
                        self._rendered(
                            _area_table(figures, self.publication, number, a, self._anchor(a))
                        )
                        for a in regions
                    ],
                }
            )
        by_region: dict[tuple[str, str], list[Area]] = {}
        for area in providers:
            by_region.setdefault((area.region_code, area.region_name), []).append(area)
        region_pages = []
        for (region_code, region_name), members in by_region.items():
            first = self._region_pages(number, title, region_code, region_name, members)
            region_pages.append((f"{self._members_in(members, region_name)}", first, len(members)))
        groups = self._provider_groups(
            lambda a: (
                self.table_pages[(number, a.key)].removeprefix("tables/") + f"#{self._anchor(a)}"
                if (number, a.key) in self.table_pages
                else None
            )
        )
        self._render(
            f"tables/table-{published(number)}.html",
            "table.html",
            title=title,
            description=spec.description if spec else "",
            sections=sections,
            key=shorthand_key(*(table for s in sections for table in s["tables"])),
            region_pages=region_pages,
            pages=[],
            provider_groups=groups,
            beside_links=[],
            breadcrumbs=[("Home", "../index.html")],
        )

    def _region_pages(
        self, number: int, title: str, region_code: str, region_name: str, members: list[Area]
    ) -> str:
        """Render the pages of one region's providers in a table; the first page's href
        (relative to tables/). Each provider's page is kept in `table_pages`.

        The providers of a page are one table (`_members_table`); when a region's
        providers must be split over more pages, each page's table is rendered again."""
        name = f"table-{published(number)}-{slug(region_code)}"
        tables = {
            a.key: _area_table(self.figures, self.publication, number, a, self._anchor(a))
            for a in members
        }
        parts = 1
        while True:
            size = -(-len(members) // parts)  # providers a page, the last page fewer
            chunks = [members[i : i + size] for i in range(0, len(members), size)]
            hrefs = [f"{name}.html"] + [f"{name}-{n}.html" for n in range(2, len(chunks) + 1)]
            pages = [
                self._region_page_text(number, title, region_name, members, tables, chunk, hrefs, i)
                for i, chunk in enumerate(chunks)
            ]
            largest = max(len(text.encode("utf-8")) for text in pages)
            if largest <= MAX_PAGE_BYTES or size == 1:
                break
            parts = max(parts + 1, -(-largest * parts // MAX_PAGE_BYTES))
        for href, text, chunk in zip(hrefs, pages, chunks, strict=True):
            self._write(f"tables/{href}", text)
            for area in chunk:
                self.table_pages[(number, area.key)] = f"tables/{href}"
        return hrefs[0]

    def _region_page_text(
        self,
        number: int,
        title: str,
        region_name: str,
        members: list[Area],
        tables: dict[GeoKey, HtmlTable],
        chunk: list[Area],
        hrefs: list[str],
        index: int,
    ) -> str:
        """Page `index` of a region's providers in a table: the providers of `chunk` in
        one table, with links to the region's other pages when there are several."""
        members_in = self._members_in(members, region_name)
        several = len(hrefs) > 1
        part = f", page {index + 1} of {len(hrefs)}" if several else ""
        heading = members_in + part
        spec = TABLES.get(number)
        title_of_members = f"{title}, {members_in[0].lower()}{members_in[1:]}"
        caption = title_of_members + _caption_period(spec, self.publication) + part
        table_id = hrefs[index].removesuffix(".html")
        shown = [
            self._rendered(
                _members_table(
                    self.publication,
                    number,
                    [(a, self._anchor(a), tables[a.key]) for a in chunk],
                    table_id,
                    caption,
                )
            )
        ]
        return self._page_text(
            f"tables/{hrefs[index]}",
            "table.html",
            title=title_of_members + (f" (page {index + 1} of {len(hrefs)})" if several else ""),
            description=f"{members_in}, in one table: a group of rows each. England and the "
            "regions are on the table's main page.",
            sections=[{"heading": heading, "level": 2, "tables": shown}],
            key=shorthand_key(*shown),
            region_pages=[],
            pages=[(f"Page {n + 1}", href, n == index) for n, href in enumerate(hrefs)]
            if several
            else [],
            provider_groups=[],
            beside_links=[],
            breadcrumbs=[
                ("Home", "../index.html"),
                (f"Table {published(number)}", f"table-{published(number)}.html"),
            ],
        )

    def _provider_page(self, area: Area) -> None:
        """The provider's tables 1 to 3 by modality and month, and its median wait beside
        its region's and England's (a chart and its table). The region's and England's
        rows of tables 1 to 3 are on each table's page, linked from here: written on
        every provider's page they were a third of the site (issue 17)."""
        figures, pub = self.figures, self.publication
        region_key: GeoKey = ("region", area.region_code, "")
        compare = [area.key]
        if region_key in figures.areas:
            compare.append(region_key)
        compare.append(ENGLAND)
        tables = []
        beside: list[tuple[str, str]] = []  # (label, href) of the region's and England's rows
        for number in (ACTIVITY_TABLE, REQUEST_TO_TEST_TABLE, TEST_TO_REPORT_TABLE):
            if not figures.has(number) or area.key not in figures.areas_of_table[number]:
                continue
            spec = TABLES[number]
            measure = spec.measures[0]
            columns = _period_columns(pub, figures.periods[number])
            rows = []
            modalities = [m for m, s in figures.row_keys[number] if s == ALL_SETTINGS]
            for modality in dict.fromkeys(modalities):
                keys = [(number, area.key, modality, ALL_SETTINGS, p, measure) for p, _ in columns]
                if not any(k in figures.cells for k in keys):
                    continue
                cells = tuple(
                    figures.cell(number, area.key, modality, ALL_SETTINGS, period, measure)
                    for period, _ in columns
                )
                rows.append(Row((modality,), cells))
            if not rows:
                continue
            tables.append(
                HtmlTable(
                    f"table-{number}",
                    f"Table {published(number)}: {spec.title}: {area.name}",
                    ("Modality",),
                    tuple(c for _, c in columns),
                    [rows],
                )
            )
            page = f"../tables/table-{published(number)}.html"
            for key in compare[1:]:
                if key in figures.areas_of_table[number]:
                    other = figures.areas[key]
                    beside.append(
                        (
                            f"Table {published(number)}, {other.name}",
                            f"{page}#{self._anchor(other)}",
                        )
                    )
        year_on_year = self._year_on_year(area)
        if year_on_year is not None:
            tables.insert(0, year_on_year)
        rendered = [self._rendered(table) for table in tables]
        comparison = self._comparison_chart(area, [k for k in compare if k in figures.areas])
        if comparison is not None:
            comparison["table"] = self._rendered(comparison["table"])
        table_links = [
            (
                f"Table {published(n)}",
                f"../{self.table_pages[(n, area.key)]}#{self._anchor(area)}",
            )
            for n in self.tables
            if (n, area.key) in self.table_pages
        ]
        self._render(
            self.provider_pages[area.key],
            "provider.html",
            title=area.name,
            area=area,
            tables=rendered,
            comparison=comparison,
            key=shorthand_key(*rendered, comparison["table"] if comparison else None),
            provider_table_links=table_links,
            beside_links=beside,
            breadcrumbs=[("Home", "../index.html")],
        )

    def _year_on_year(self, area: Area) -> HtmlTable | None:
        """The provider's tests in the latest month beside the same month last year (from
        last year's final release) and the change, by modality; None without last year."""
        figures, pub = self.figures, self.publication
        if not figures.last_year or not figures.has(ACTIVITY_TABLE):
            return None
        latest = pub.latest_month
        before = add_months(latest, -12)
        measure = "activity_count"
        rows = []
        for modality, setting in figures.row_keys[ACTIVITY_TABLE]:
            if setting != ALL_SETTINGS:
                continue
            now_key = (ACTIVITY_TABLE, area.key, modality, ALL_SETTINGS, latest, measure)
            then_key = (ACTIVITY_TABLE, area.key, modality, ALL_SETTINGS, before, measure)
            if now_key not in figures.cells or then_key not in figures.cells:
                continue
            now, then = figures.value(*now_key), figures.value(*then_key)
            change = (
                Cell(f"{(now - then) / then * 100:+.1f}")
                if now is not None and then
                else Cell(None, "x")
            )
            rows.append(Row((modality,), (figures.cell(*now_key), figures.cell(*then_key), change)))
        if not rows:
            return None
        return HtmlTable(
            "year-on-year",
            f"Number of tests: {area.name}, {month_name(latest)} and {month_name(before)} "
            f"(last year's final release, {pub.series.last_year})",
            ("Modality",),
            (
                Column(f"Number of tests, {month_name(latest)}"),
                Column(f"Number of tests, {month_name(before)}"),
                Column(f"Change on {month_name(before)} (%)"),
            ),
            [rows],
        )

    def _commissioner_pages(self) -> None:
        """A page per commissioner (its rows of tables 7a, 7b and 8, with links to
        England's on each table's page), and the list of commissioners by region that links them (from the home page)."""
        figures, pub = self.figures, self.publication
        numbers = [
            n for n in self.tables if any(k[0] == "commissioner" for k in figures.areas_of_table[n])
        ]
        # England's rows: on each table's page, linked from every commissioner's page
        # (written on each of them they were a third of the commissioners' pages)
        england = [
            (
                f"Table {published(number)}, England",
                f"../tables/table-{published(number)}.html#england",
            )
            for number in numbers
            if ENGLAND in figures.areas_of_table[number]
        ]
        for area in self.commissioners:
            sections = []
            for number in numbers:
                if area.key not in figures.areas_of_table[number]:
                    continue
                spec = TABLES[number]
                own = _area_table(figures, pub, number, area, f"table-{published(number)}")
                sections.append(
                    {
                        "heading": f"Table {published(number)}: {spec.title}",
                        "level": 2,
                        "tables": [self._rendered(own)],
                    }
                )
            self._render(
                self.commissioner_pages[area.key],
                "table.html",
                title=area.name + (f" ({area.region_name})" if area.region_code else ""),
                description="Tests of the patients of this commissioner's GP practices (the "
                "sub-ICB location of each patient's practice on the day of the test), in day "
                "bands.",
                sections=sections,
                beside_links=england,
                key=shorthand_key(*(table for s in sections for table in s["tables"])),
                region_pages=[],
                pages=[],
                provider_groups=[],
                breadcrumbs=[("Home", "../index.html"), ("Commissioners", "index.html")],
            )
        groups: dict[str, list[ProviderLink]] = {}
        for area in self.commissioners:
            groups.setdefault(self._members_in([area], area.region_name), []).append(
                ProviderLink(
                    area.name,
                    area.provider_code,
                    self.commissioner_pages[area.key].removeprefix("commissioners/"),
                )
            )
        self._render(
            "commissioners/index.html",
            "commissioners.html",
            title="Commissioners",
            groups=[ProviderGroup(region, tuple(links)) for region, links in groups.items()],
            breadcrumbs=[("Home", "../index.html")],
        )

    def _comparison_chart(self, area: Area, keys: list[GeoKey]) -> dict | None:
        """The provider's year-to-date median wait from request to test by modality,
        beside its region's and England's: a bar chart and its table."""
        figures, pub = self.figures, self.publication
        table, measure = REQUEST_TO_TEST_TABLE, TABLES[REQUEST_TO_TEST_TABLE].measures[0]
        if not figures.has(table):
            return None
        ytd = pub.year_to_date
        modalities = [
            m
            for m, s in figures.row_keys[table]
            if s == ALL_SETTINGS and (table, area.key, m, s, ytd, measure) in figures.cells
        ]
        values = [
            [figures.value(table, k, m, ALL_SETTINGS, ytd, measure) for k in keys]
            for m in modalities
        ]
        if not any(v is not None for row in values for v in row):
            return None
        names = [figures.areas[k].name for k in keys]
        cells = [
            [figures.cell(table, k, m, ALL_SETTINGS, ytd, measure) for k in keys]
            for m in modalities
        ]
        shown = [[c.text if c.text is not None else f"[{c.marker}]" for c in row] for row in cells]
        chart = grouped_bar_chart(modalities, names, values, shown, "Median days, request to test")
        data = HtmlTable(
            "comparison",
            f"Median days from test request to test, {_ytd_phrase(pub)}: {area.name}, its "
            "region and England",
            ("Modality",),
            tuple(Column(name) for name in names),
            [[Row((m,), tuple(row)) for m, row in zip(modalities, cells, strict=True)]],
        )
        return {
            "chart": chart,
            "table": data,
            "title": f"Median days from test request to test by modality, {_ytd_phrase(pub)}: "
            f"{names[0]} beside {' and '.join(names[1:])}",
            "description": "Horizontal bar chart, one group of bars per modality, one bar per "
            f"area: {', '.join(names)}. A shorter bar is a shorter wait. A suppressed or "
            "missing median has no bar. The figures are in the table after the chart.",
        }

    def _trend(self, modality: str) -> dict | None:
        """England's monthly number of tests of one modality: a line chart and its table."""
        figures, pub = self.figures, self.publication
        table, measure = ACTIVITY_TABLE, "activity_count"
        if not figures.has(table):
            return None
        # with last year's final release, its twelve months first: trends over both years
        last_year = months_of_year_to_date(add_months(pub.months[0], -1))
        both = figures.last_year and any(
            (table, ENGLAND, modality, ALL_SETTINGS, m, measure) in figures.cells for m in last_year
        )
        shown_months = (*last_year, *pub.months) if both else pub.months
        cells = [
            figures.cell(table, ENGLAND, modality, ALL_SETTINGS, m, measure) for m in shown_months
        ]
        values = [
            figures.value(table, ENGLAND, modality, ALL_SETTINGS, m, measure) for m in shown_months
        ]
        if all(v is None for v in values):
            return None
        shown = [c.text if c.text is not None else f"[{c.marker}]" for c in cells]
        # the whole financial year on the axis, April to March, the months to come empty
        year = months_of_year_to_date(add_months(pub.months[0], 11))
        if both:
            year = (*last_year, *year)
        labels = [month_short(m)[:3] + (f" {m[2:4]}" if both else "") for m in year]
        later = [None] * (len(year) - len(values))
        chart = trend_chart(
            labels, values + later, shown + [""] * len(later), "Number of tests, England"
        )
        known = [(v, m) for v, m in zip(values, shown_months, strict=True) if v is not None]
        most, least = max(known), min(known)
        description = (
            f"Line chart of the number of {modality} tests in England each month from "
            f"{month_name(shown_months[0])} to {month_name(pub.latest_month)}. The most were "
            f"in {month_name(most[1])} ({format_value(most[0])}), the fewest in "
            f"{month_name(least[1])} ({format_value(least[0])}). The figures are in the "
            "table after the chart."
        )
        data = HtmlTable(
            "trend",
            f"Number of {modality} tests in England, by month",
            ("Month",),
            (Column("Number of tests"),),
            [[Row((month_name(m),), (cell,)) for m, cell in zip(shown_months, cells, strict=True)]],
        )
        return {
            "chart": chart,
            "table": data,
            "title": f"Number of {modality} tests in England by month, {_ytd_phrase(pub)}",
            "description": description,
        }

    def _modality_page(self, modality: str) -> None:
        figures, pub = self.figures, self.publication
        ytd = pub.year_to_date
        rank_table = (
            REQUEST_TO_TEST_TABLE if figures.has(REQUEST_TO_TEST_TABLE) else TEST_TO_REPORT_TABLE
        )
        rank_measure = TABLES[rank_table].measures[0]
        measures = [
            (t, TABLES[t].measures[0])
            for t in (REQUEST_TO_TEST_TABLE, TEST_TO_REPORT_TABLE, ACTIVITY_TABLE)
            if figures.has(t)
        ]
        columns = tuple(Column(MEASURE_LABELS[m]) for _, m in measures)

        def cells_of(key: GeoKey) -> tuple[Cell, ...]:
            return tuple(figures.cell(t, key, modality, ALL_SETTINGS, ytd, m) for t, m in measures)

        def present(key: GeoKey) -> bool:
            return any(
                (t, key, modality, ALL_SETTINGS, ytd, m) in figures.cells for t, m in measures
            )

        context_rows = [
            Row((figures.areas[k].name,), cells_of(k))
            for k in [a.key for a in figures.ordered_areas(figures.areas)]
            if k[0] != "provider" and present(k)
        ]
        context = HtmlTable(
            "england-and-regions",
            f"{modality}: England and regions, {_ytd_phrase(pub)}",
            ("Area",),
            columns,
            [context_rows],
        )
        ranked, unranked = [], []
        for area in self.providers:
            if not present(area.key):
                continue
            value = figures.value(rank_table, area.key, modality, ALL_SETTINGS, ytd, rank_measure)
            (unranked if value is None else ranked).append((value, area))
        ranked.sort(key=lambda va: (va[0], va[1].name, va[1].region_code))
        rows = []
        previous, rank = None, 0
        for position, (value, area) in enumerate(ranked, start=1):
            if value != previous:
                rank, previous = position, value
            rows.append(
                Row(
                    (area.name,),
                    (Cell(str(rank), ""), Cell(area.region_name, "")) + cells_of(area.key),
                    link="../" + self.provider_pages[area.key],
                )
            )
        for _, area in unranked:
            rows.append(
                Row(
                    (area.name,),
                    (Cell("Not ranked", ""), Cell(area.region_name, "")) + cells_of(area.key),
                    link="../" + self.provider_pages[area.key],
                )
            )
        ranking = HtmlTable(
            "providers",
            f"{modality}: providers ranked by {MEASURE_LABELS[rank_measure].lower()}, "
            f"{_ytd_phrase(pub)}",
            ("Provider",),
            (Column("Rank"), Column("Region", numeric=False)) + columns,
            [rows],
        )
        trend = self._trend(modality)
        if trend is not None:
            trend["table"] = self._rendered(trend["table"])
        context_html, ranking_html = self._rendered(context), self._rendered(ranking)
        self._render(
            self.modality_pages[modality],
            "modality.html",
            title=modality,
            modality=modality,
            context_table=context_html,
            ranking=ranking_html,
            trend=trend,
            key=shorthand_key(context_html, ranking_html, trend["table"] if trend else None),
            rank_label=MEASURE_LABELS[rank_measure].lower(),
            ytd_phrase=_ytd_phrase(pub),
            breadcrumbs=[("Home", "../index.html")],
        )


def render_in_site_layout(
    publication: Publication,
    template: str,
    root: str,
    breadcrumbs: list[tuple[str, str]] | None = None,
    **context,
) -> str:
    """A page of the publication outside `html/` (the data-quality report's pages) in
    the site's layout: `root` is the way from the page to `html/` ("../html/");
    `breadcrumbs` default to the site's home page."""
    env = environment()
    return env.get_template(f"site/{template}").render(
        publication=publication,
        root=root,
        fy=publication.financial_year,
        status=publication.status,
        latest=month_name(publication.latest_month),
        breadcrumbs=breadcrumbs or [("Home", f"{root}index.html")],
        quality_href="index.html",
        **context,
    )


def write_site(
    publication: Publication,
    out_dir: Path,
    downloads: dict[str, str] | None = None,
    quality_page: str | None = None,
) -> list[Path]:
    """Render the HTML summaries of `publication` into `out_dir` (usually
    `output/<identifier>/html`) and return the files written, sorted.

    `downloads` maps a link label to a file name relative to `out_dir`, e.g.
    `{"Tidy data (CSV)": "../did-2024-25-provisional-2024-11.csv"}`; by default the CSV,
    workbook and datapackage.json a build writes beside the html folder.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    links = _check_downloads(default_downloads(publication) if downloads is None else downloads)
    return _Site(publication, out_dir, links, quality_page).write()


# --------------------------------------------------------------------------------------
# Serving


class ServeError(Exception):
    """A folder that cannot or must not be served (one line for the command line)."""


def hidden_or_restricted(part: str) -> bool:
    """A path part never served: a restricted folder (record-level data) or a hidden one
    (the record store, a build's work and staging folders)."""
    return part.startswith(".") or part.endswith(".restricted")


def make_server(directory: Path, port: int = 8000) -> tuple[http.server.HTTPServer, str]:
    """An HTTP server for `directory` on 127.0.0.1 only, and the URL of its start page.

    `directory` is a publication folder (holding `html/`) or the html folder itself, or
    an output folder. Port 0 picks a free port. A restricted folder is refused, and no
    restricted or hidden folder under `directory` is listed or served.
    """
    directory = Path(directory).resolve()
    if not directory.is_dir():
        raise ServeError(f"{directory}: no such folder to serve")
    if any(hidden_or_restricted(part) for part in directory.parts[1:]):
        raise ServeError(
            f"{directory}: a restricted or hidden folder (record-level data) is never served"
        )
    start = "html/index.html" if (directory / "html" / "index.html").is_file() else ""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as error:
        raise ServeError(f"port {port}: cannot serve there ({error.strerror})") from None
    return server, f"http://127.0.0.1:{server.server_address[1]}/{start}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder's files, except restricted and hidden ones (404, never listed)."""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass

    def _refused(self) -> bool:
        wanted = Path(self.translate_path(self.path))
        root = Path(self.directory).resolve()
        try:
            inside = wanted.resolve().relative_to(root)
        except ValueError:
            return True  # a link out of the folder
        return any(hidden_or_restricted(part) for part in inside.parts)

    def send_head(self):
        if self._refused():
            self.send_error(404, "Not found")
            return None
        return super().send_head()

    def list_directory(self, path):
        names = sorted(
            name + ("/" if (Path(path) / name).is_dir() else "")
            for name in os.listdir(path)
            if not hidden_or_restricted(name)
        )
        items = "".join(
            f'<li><a href="{urllib.parse.quote(name)}">{html.escape(name)}</a></li>'
            for name in names
        )
        body = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Files</title>'
            f"</head><body><h1>Files</h1><ul>{items}</ul></body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def serve_publication(directory: Path, port: int = 8000) -> None:
    """Serve a publication folder on http://127.0.0.1:<port>/ until interrupted."""
    server, url = make_server(directory, port)
    print(f"Serving {Path(directory).resolve()} at {url} (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
