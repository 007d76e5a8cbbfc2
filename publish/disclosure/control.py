"""Disclosure control you can prove: the relations between figures, the attacker's
intervals, and the `strict` policy's primary and secondary suppression.

One source of truth serves both the suppression (`apply_strict`) and the audit
(`publish.disclosure.audit`): `build_relations` says which count figures add up to which, and
`feasible_intervals` says, by linear programming over those relations, the lowest and
highest value a suppressed figure can take given everything published
(PUBLICATION.md sections 3 and 4).

The attacker knows every published figure and these relations:
- geography: provider rows add up to their region row, region rows to England;
- time: the months add up to the year to date;
- source settings: tables 9 and 11's settings add up to their "All" column;
- table 1's year to date and table 11's "All" are one figure (`figure` below);
- table 10: reports with known and not known time add up to its total, and its total
  is the sum of table 11's settings in the group (`TABLE10_SETTING_GROUPS`);
- subsets (inequalities): table 12 <= table 1; table 4's cancer test groups of one
  modality, together, <= that modality in table 1 (All) or table 11 (GP Direct
  Access); table 4's GP Direct Access <= its All; the day bands of table 9 add up to
  at most table 11's cell;
- a shown median (or percentage, under `strict`) means at least a threshold of
  records, hence of the count it belongs to;
- (audit) a shown percentage bounds its numerator over its denominator to its
  published precision (`shown_percentages`, `percentage_rows`), and whole numbers
  behind it (`integer_percentage_bounds`).
Counts are whole numbers and never negative: bounds are rounded inwards to integers.
What is protected, against whom, and why: docs/disclosure.md.
"""

from __future__ import annotations

import copy
import functools
import heapq
import itertools
import logging
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import highspy
import numpy as np
import polars as pl
from highspy._core import _Highs  # the core class, without the wrapper's banner

from publish.codes import ALL_SETTINGS, SOURCE_SETTINGS, WARNING_RULE_CODES
from publish.disclosure.commissioner_relations import (
    COMMISSIONER_KINDS,
    commissioner_equality_pairs,
    commissioner_subset_pairs,
)
from publish.disclosure.turnaround_relations import (
    TURNAROUND_KINDS,
    shown_turnaround_percentages,
    turnaround_ratio_links,
    turnaround_system,
)
from publish.tables import (
    ACTIVITY_TABLE,
    ALL_MONTHS,
    CANCER_ACTIVITY_TABLE,
    CELL_KEY_COLUMNS,
    INTERVENTIONAL_TABLE,
    QUALITY_TABLE,
    REPORT_TIMES_TABLE,
    SETTINGS_TABLE,
    TABLE10_SETTING_GROUPS,
    TIDY_COLUMNS,
    WAIT_BANDS_TABLE,
    MeasureSource,
    MedianSource,
    tables_made_by,
)

# Rounds of the strict policy's secondary suppression, for `--verbose` (counts only).
log = logging.getLogger("did_publish.strict")

# The columns that name a cell (the tidy CSV's primary key).
KEY_COLUMNS: tuple[str, ...] = CELL_KEY_COLUMNS
_GEO = ["geography_level", "region_code", "provider_code"]

GP_DIRECT_ACCESS = SOURCE_SETTINGS["04"]

# Table 4's cancer test groups are subsets of one table 1 modality each.
CANCER_GROUP_MODALITY: dict[str, str] = {
    "Abdomen and/or pelvis (Ultrasound)": "Diagnostic Ultrasonography",
    "Brain (MRI)": "Magnetic Resonance Imaging",
    "Chest (X-ray)": "Plain Radiography",
    "Chest and/or abdomen (CT)": "Computerized Axial Tomography",
    "Kidney or Bladder (Ultrasound)": "Diagnostic Ultrasonography",
}

# Median tables -> the count table whose cell counts the median's records.
MEDIAN_COUNT_TABLE: dict[int, int] = {
    spec.number: spec.source.count_table for spec in tables_made_by(MedianSource)
}

# The tables of measures: their percentages are relations between their counts.
PERCENT_TABLES: list[int] = [spec.number for spec in tables_made_by(MeasureSource)]


def medians_of(count_table: int) -> list[int]:
    """The median tables whose records are the cells of `count_table`."""
    return [median for median, count in MEDIAN_COUNT_TABLE.items() if count == count_table]


# Kinds of relation, in the order their rows are numbered.
RELATION_KINDS: tuple[str, ...] = (
    "geography",
    "time",
    "settings",
    "table10_known",
    "table10_settings",
    "subset",
    "groups",
    "bands",
    # the data-quality report's (quality_equality_pairs): one kind per family, since a
    # relation is numbered by its kind and total, and a total may head several
    "quality_geography",
    "quality_months",
    "quality_accounts",
    "quality_table1",
    "quality_subset",
    *COMMISSIONER_KINDS,
    *TURNAROUND_KINDS,
)
_QUALITY_EQUALITY_KINDS = (
    "quality_geography",
    "quality_months",
    "quality_accounts",
    "quality_table1",
)
_EQUALITY_KINDS = frozenset(
    (*RELATION_KINDS[:5], *_QUALITY_EQUALITY_KINDS, *COMMISSIONER_KINDS, *TURNAROUND_KINDS)
)

# Bounds within this of a whole number count as that number (LP tolerances).
_TOLERANCE = 1e-6


def is_count_measure(measure: str) -> bool:
    """Counts take part in the additive relations; medians and percentages do not.

    >>> [is_count_measure(m) for m in ("activity_count", "count_days_0_to_7", "percent_x", "")]
    [True, True, False, False]
    """
    return measure == "activity_count" or measure.startswith("count_")


def _count_expr() -> pl.Expr:
    measure = pl.col("measure")
    return (measure == "activity_count") | measure.str.starts_with("count_")


# ---------------------------------------------------------------------------------------
# Linear systems: rows  row_lower <= sum(coef * x[index]) <= row_upper  over figures.


@dataclass(frozen=True)
class LinearSystem:
    """Sparse rows (CSR) over figures: row_lower <= sum(coef * x[index]) <= row_upper."""

    indptr: np.ndarray
    index: np.ndarray
    coef: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    @property
    def entry_row(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_rows), np.diff(self.indptr))

    @staticmethod
    def empty() -> LinearSystem:
        return LinearSystem(
            np.zeros(1, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.zeros(0),
            np.zeros(0),
            np.zeros(0),
        )

    def stack(self, other: LinearSystem) -> LinearSystem:
        return LinearSystem(
            np.concatenate([self.indptr, other.indptr[1:] + self.indptr[-1]]),
            np.concatenate([self.index, other.index]),
            np.concatenate([self.coef, other.coef]),
            np.concatenate([self.row_lower, other.row_lower]),
            np.concatenate([self.row_upper, other.row_upper]),
        )

    def select_rows(self, rows: np.ndarray) -> LinearSystem:
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        entries = _ranges(starts, ends)
        return LinearSystem(
            np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64),
            self.index[entries],
            self.coef[entries],
            self.row_lower[rows],
            self.row_upper[rows],
        )

    def over(self, columns: np.ndarray) -> LinearSystem:
        """The same rows over `columns` alone, figure `columns[j]` numbered j.

        `columns` is ascending and holds every figure the rows touch. A system of a few
        rows (`select_rows`) then goes with arrays of its own figures, not of all of
        them: the functions over a system only ever read the figures of its entries,
        and the numbering keeps their order, so what they find is the same.

        >>> rows = LinearSystem(np.array([0, 2, 3]), np.array([7, 3, 9]),
        ...     np.array([1.0, -1, 1]), np.zeros(2), np.array([0.0, 4]))
        >>> local = rows.over(np.array([3, 5, 7, 9]))
        >>> local.index.tolist(), local.indptr.tolist(), local.row_upper.tolist()
        ([2, 0, 3], [0, 2, 3], [0.0, 4.0])
        """
        position = np.searchsorted(columns, self.index)
        if self.index.size and (
            len(columns) == 0
            or not np.array_equal(columns[np.minimum(position, len(columns) - 1)], self.index)
        ):
            raise ValueError("`columns` must hold every figure of the rows, ascending")
        return LinearSystem(self.indptr, position, self.coef, self.row_lower, self.row_upper)


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Concatenated aranges [starts[i], ends[i]).

    >>> _ranges(np.array([0, 5]), np.array([2, 7])).tolist()
    [0, 1, 5, 6]
    >>> _ranges(np.array([], dtype=int), np.array([], dtype=int)).tolist()
    []
    """
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + offsets


# ---------------------------------------------------------------------------------------
# Relations between the figures of a publication.


@dataclass(frozen=True)
class Relations:
    """Which count figures add up to which, for one publication.

    A *figure* is one distinct count: table 1's year to date and table 11's "All" are
    the same figure, so a suppression of one is a suppression of both.
    """

    # One row per figure: `figure` (0..n-1) and its identity columns.
    figures: pl.DataFrame
    # For each input row, its figure, or -1 when the row is not a count.
    cell_figure: np.ndarray
    # Structural relations: equalities (total - sum of parts = 0) and subset
    # inequalities (part - whole <= 0).
    system: LinearSystem
    kind: np.ndarray
    # Medians and percentages: the input rows, and (CSR) the count figures whose
    # records they summarise.
    ratio_cells: np.ndarray
    ratio_indptr: np.ndarray
    ratio_index: np.ndarray
    ratio_is_median: np.ndarray

    @property
    def n_figures(self) -> int:
        return self.figures.height

    @property
    def is_equality(self) -> np.ndarray:
        return np.isin(self.kind, list(_EQUALITY_KINDS))

    def describe_row(self, row: int) -> str:
        members = self.system.index[self.system.indptr[row] : self.system.indptr[row + 1]]
        names = [figure_label(self.figures.row(int(m), named=True)) for m in members]
        return f"{self.kind[row]}: " + " ; ".join(names)


def figure_label(figure: dict) -> str:
    """A readable key for a cell: t1|provider|Y56|RYJ|Magnetic Resonance Imaging|All|...

    >>> figure_label({"table": 1, "geography_level": "england", "region_code": "",
    ...   "provider_code": "", "modality": "CT", "source_setting": "All",
    ...   "period": "2024-04", "measure": "activity_count"})
    't1|england|||CT|All|2024-04|activity_count'
    """
    return f"t{figure['table']}|" + "|".join(str(figure[c]) for c in KEY_COLUMNS[1:])


def _keyed(frame: pl.DataFrame) -> pl.DataFrame:
    """The key columns, normalised: table an integer, text never null."""
    return frame.select(
        pl.col("table").cast(pl.Int64),
        *[pl.col(c).cast(pl.Utf8).fill_null("") for c in KEY_COLUMNS[1:]],
    ).with_row_index("row")


def _pairs(total: pl.DataFrame, part: pl.DataFrame, on: list[str], kind: str) -> pl.DataFrame:
    """(kind, total figure, part figure) for every part that joins its total."""
    return (
        total.select(*on, pl.col("figure").alias("total"))
        .join(part.select(*on, pl.col("figure").alias("part")), on=on, how="inner")
        .select(pl.lit(kind).alias("kind"), "total", "part")
    )


def build_relations(frame: pl.DataFrame, quality_link: bool | pl.DataFrame = False) -> Relations:
    """The relations between the count figures of `frame` (any frame with KEY_COLUMNS).

    Works the same on the unprotected cells and on the published tidy CSV, so that the
    suppression and the audit reason over one set of relations. `quality_link` adds
    the data-quality report's link to table 1 (`quality_equality_pairs`: a provider-
    month's records counted = the sum of its table 1 cells): True for every provider-
    month, a frame (region_code, provider_code, period) for those it lists. Written for
    every provider-month, the link joins every modality into one linear programme that
    HiGHS does not solve in a build's time (the demo: 55,000 figures under `did`; under
    `strict`, more than 15 minutes). So `strict` and the audit write it for the provider-
    months whose table 1 cells are all shown (`fully_shown_months`): there it folds to a
    constant, the report's totals of that month are known, and a hidden one is exact (the
    demo's NTV in September 2024: table 1 shows its one cell, 10, so records accepted
    and received, hidden as partners, are 10). Where table 1 hides a cell,
    `protect.protect_cells` hides, under `strict`, the report's provider-month totals
    (`hide_linked_quality_totals`), which leaves the link nothing to solve for.

    >>> empty = pl.DataFrame(schema={c: pl.Utf8 for c in KEY_COLUMNS})
    >>> r = build_relations(empty)
    >>> (r.n_figures, r.system.n_rows, len(r.cell_figure))
    (0, 0, 0)
    """
    keyed = _keyed(frame)
    counts = keyed.filter(_count_expr())
    shared = (
        (pl.col("table") == SETTINGS_TABLE)
        & (pl.col("source_setting") == ALL_SETTINGS)
        & (pl.col("measure") == "activity_count")
    )
    counts = counts.with_columns(
        pl.when(shared).then(pl.lit(1, pl.Int64)).otherwise(pl.col("table")).alias("f_table"),
        pl.when(shared | (pl.col("table") == ACTIVITY_TABLE))
        .then(pl.lit(ALL_SETTINGS))
        .otherwise(pl.col("source_setting"))
        .alias("f_setting"),
    )
    identity = ["f_table", *_GEO, "modality", "f_setting", "period", "measure"]
    figures = counts.select(identity).unique().sort(identity).with_row_index("figure")
    counts = counts.join(figures, on=identity, how="left")
    figures = figures.rename({"f_table": "table", "f_setting": "source_setting"}).select(
        pl.col("figure").cast(pl.Int64), *KEY_COLUMNS
    )
    cell_figure = np.full(keyed.height, -1, dtype=np.int64)
    cell_figure[counts["row"].to_numpy()] = counts["figure"].to_numpy()

    equalities = pl.concat(
        [
            _geography_pairs(counts),
            _time_pairs(counts),
            _settings_pairs(counts),
            *_table10_pairs(counts),
            quality_equality_pairs(counts, quality_link),
            commissioner_equality_pairs(counts),
        ]
    ).unique()
    subsets = pl.concat(
        [_subset_pairs(counts), quality_subset_pairs(counts), commissioner_subset_pairs(counts)]
    ).unique()
    at_most = pl.concat([_group_pairs(counts), _band_pairs(counts)]).unique()
    system, kind = _assemble(equalities, subsets, at_most)
    turnaround, turnaround_kind = turnaround_system(counts, LinearSystem)
    system, kind = system.stack(turnaround), np.concatenate([kind, turnaround_kind])
    ratio_cells, ratio_indptr, ratio_index, ratio_is_median = _ratio_links(keyed, counts)
    return Relations(
        figures=figures,
        cell_figure=cell_figure,
        system=system,
        kind=kind,
        ratio_cells=ratio_cells,
        ratio_indptr=ratio_indptr,
        ratio_index=ratio_index,
        ratio_is_median=ratio_is_median,
    )


def table1_provider_month() -> pl.Expr:
    """A table 1 count of one provider in one month: a part of the quality report's link
    (records counted = the sum of the provider-month's table 1 cells)."""
    return (
        (pl.col("table").cast(pl.Int64) == ACTIVITY_TABLE)
        & (pl.col("geography_level") == "provider")
        & (pl.col("measure") == "activity_count")
        & ~pl.col("period").str.contains("/", literal=True)
    )


def fully_shown_months(frame: pl.DataFrame, hidden: pl.Expr) -> pl.DataFrame:
    """The provider-months (region_code, provider_code, period) of `frame` whose table 1
    cells are all shown: none is `hidden`. Where the quality report's link to table 1
    is written (`build_relations`).

    >>> cells = pl.DataFrame({"table": [1, 1, 1], "geography_level": ["provider"] * 3,
    ...     "region_code": ["Y56"] * 3, "provider_code": ["RJ1", "RJ1", "RJ2"],
    ...     "measure": ["activity_count"] * 3, "period": ["2024-04"] * 3,
    ...     "marker": ["", "c", ""]})
    >>> fully_shown_months(cells, pl.col("marker") == "c")["provider_code"].to_list()
    ['RJ2']
    """
    month = ["region_code", "provider_code", "period"]
    return (
        frame.filter(table1_provider_month())
        .group_by(month)
        .agg(hidden.any().alias("hidden"))
        .filter(~pl.col("hidden"))
        .select(month)
        .sort(month)
    )


def _geography_pairs(counts: pl.DataFrame) -> pl.DataFrame:
    level = pl.col("geography_level")
    provider, region = counts.filter(level == "provider"), counts.filter(level == "region")
    england = counts.filter(level == "england")
    line = ["table", "modality", "source_setting", "period", "measure"]
    return pl.concat(
        [
            _pairs(region, provider, ["region_code", *line], "geography"),
            _pairs(england, region, line, "geography"),
        ]
    )


def _time_pairs(counts: pl.DataFrame) -> pl.DataFrame:
    is_ytd = pl.col("period").str.contains("/", literal=True)
    ytd = counts.filter(is_ytd).with_columns(
        pl.col("period").str.slice(0, 7).alias("start"),
        pl.col("period").str.slice(8, 7).alias("end"),
    )
    months = counts.filter(~is_ytd)
    on = ["table", *_GEO, "modality", "source_setting", "measure"]
    return (
        ytd.select(*on, "start", "end", pl.col("figure").alias("total"))
        .join(months.select(*on, "period", pl.col("figure").alias("part")), on=on)
        .filter((pl.col("period") >= pl.col("start")) & (pl.col("period") <= pl.col("end")))
        .select(pl.lit("time").alias("kind"), "total", "part")
    )


def _settings_pairs(counts: pl.DataFrame) -> pl.DataFrame:
    tables = counts.filter(pl.col("table").is_in([WAIT_BANDS_TABLE, SETTINGS_TABLE]))
    is_all = pl.col("source_setting") == ALL_SETTINGS
    on = ["table", *_GEO, "modality", "period", "measure"]
    return _pairs(tables.filter(is_all), tables.filter(~is_all), on, "settings")


def _table10_pairs(counts: pl.DataFrame) -> list[pl.DataFrame]:
    t10 = counts.filter(pl.col("table") == REPORT_TIMES_TABLE)
    total = t10.filter(pl.col("measure") == "activity_count")
    known = t10.filter(
        pl.col("measure").is_in(["count_report_time_known", "count_report_time_not_known"])
    )
    row = [*_GEO, "modality", "source_setting", "period"]
    group_of = {
        SOURCE_SETTINGS[code]: group
        for group, codes in TABLE10_SETTING_GROUPS.items()
        for code in codes
    }
    t11 = counts.filter(
        (pl.col("table") == SETTINGS_TABLE)
        & (pl.col("measure") == "activity_count")
        & pl.col("source_setting").is_in(list(group_of))
    ).with_columns(pl.col("source_setting").replace_strict(group_of))
    return [
        _pairs(total, known, row, "table10_known"),
        _pairs(total, t11, [*row, "measure"], "table10_settings"),
    ]


def _subset_pairs(counts: pl.DataFrame) -> pl.DataFrame:
    """(whole, part) pairs: the part can never exceed the whole."""

    def table(number: int) -> pl.DataFrame:
        return counts.filter(pl.col("table") == number)

    on = [*_GEO, "modality", "period", "measure"]
    t4 = table(CANCER_ACTIVITY_TABLE)
    t4_all = t4.filter(pl.col("source_setting") == ALL_SETTINGS)
    t4_gp = t4.filter(pl.col("source_setting") == GP_DIRECT_ACCESS)
    return pl.concat(
        [
            _pairs(table(ACTIVITY_TABLE), table(INTERVENTIONAL_TABLE), on, "subset"),
            _pairs(t4_all, t4_gp, on, "subset"),
        ]
    )


# The data-quality report's counts (table QUALITY_TABLE, publish.quality.report): what an
# attacker knows of them holds by construction of the report, whatever the data.
_RECEIVED, _ACCEPTED, _REJECTED = (
    "count_records_received",
    "count_records_accepted",
    "count_records_rejected",
)
_WARNED, _COUNTED = "count_records_warned", "count_records_counted"
_SUPERSEDED = "count_records_superseded"


def quality_equality_pairs(
    counts: pl.DataFrame, table1_link: bool | pl.DataFrame = True
) -> pl.DataFrame:
    """Equalities of the data-quality report, and its link to table 1.

    - England = the sum of its providers (the site not known among them), per month and
      measure; England over all months = the sum of its months (and "not known");
    - records received = accepted + rejected, in every row;
    - records accepted = counted + superseded, in every row that shows superseded
      (England's; the manifest gives it too);
    - a provider-month's records counted in the tables (accepted less superseded) = the
      sum of its table 1 cells over modalities (with `table1_link`: True for every
      provider-month, a frame of region_code, provider_code, period for those it lists);
      England's month, likewise, always.
    """
    quality = counts.filter(pl.col("table") == QUALITY_TABLE)
    if quality.height == 0:
        return _pairs(quality, quality, ["table"], "quality_geography")
    level = pl.col("geography_level")
    provider, england = quality.filter(level == "provider"), quality.filter(level == "england")
    all_months = pl.col("period") == ALL_MONTHS
    measure = pl.col("measure")
    row = ["table", *_GEO, "period"]
    table1_months = counts.filter(
        (pl.col("table") == ACTIVITY_TABLE)
        & (pl.col("measure") == "activity_count")
        & ~pl.col("period").str.contains("/", literal=True)
    )
    table1 = table1_months.filter(level == "provider")
    with_superseded = quality.filter(measure == _SUPERSEDED).select(row).unique()
    counted = provider.filter(measure == _COUNTED)
    if isinstance(table1_link, pl.DataFrame):
        counted = counted.join(
            table1_link.select("region_code", "provider_code", "period").unique(),
            on=["region_code", "provider_code", "period"],
            how="semi",
        )
    elif not table1_link:
        counted = counted.clear()
    # England's records counted in a month = its table 1 cells of that month over
    # modalities (one row a month, cheap, unlike the provider-month link)
    england_counted = england.filter((measure == _COUNTED) & ~all_months)
    england_table1 = table1_months.filter(level == "england")
    return pl.concat(
        [
            _pairs(england, provider, ["table", "period", "measure"], "quality_geography"),
            _pairs(
                england.filter(all_months),
                england.filter(~all_months),
                ["table", "geography_level", "measure"],
                "quality_months",
            ),
            _pairs(
                quality.filter(measure == _RECEIVED),
                quality.filter(measure.is_in([_ACCEPTED, _REJECTED])),
                row,
                "quality_accounts",
            ),
            _pairs(
                quality.filter(measure == _ACCEPTED).join(with_superseded, on=row),
                quality.filter(measure.is_in([_COUNTED, _SUPERSEDED])).join(
                    with_superseded, on=row
                ),
                row,
                "quality_accounts",
            ),
            _pairs(counted, table1, ["region_code", "provider_code", "period"], "quality_table1"),
            _pairs(england_counted, england_table1, ["period"], "quality_table1"),
        ]
    )


def quality_subset_pairs(counts: pl.DataFrame) -> pl.DataFrame:
    """(whole, part) pairs of the data-quality report, in every row: warned and counted
    <= accepted; a rejection rule's records <= rejected; a warning rule's <= received
    (a warning rule counts rejected records too)."""
    quality = counts.filter(pl.col("table") == QUALITY_TABLE)
    row = ["table", *_GEO, "period"]
    measure = pl.col("measure")
    rule = measure.str.strip_prefix("count_rule_")
    is_rule = measure.str.starts_with("count_rule_")
    warning = rule.is_in(list(WARNING_RULE_CODES))
    return pl.concat(
        [
            _pairs(
                quality.filter(measure == _ACCEPTED),
                quality.filter(measure.is_in([_WARNED, _COUNTED])),
                row,
                "quality_subset",
            ),
            _pairs(
                quality.filter(measure == _REJECTED),
                quality.filter(is_rule & ~warning),
                row,
                "quality_subset",
            ),
            _pairs(
                quality.filter(measure == _RECEIVED),
                quality.filter(is_rule & warning),
                row,
                "quality_subset",
            ),
        ]
    )


def _group_pairs(counts: pl.DataFrame) -> pl.DataFrame:
    """Table 4's cancer test groups of one modality, together, count tests of that
    modality: their sum is at most table 1's cell (All) or table 11's (GP Direct
    Access). A test has one imaging code, hence at most one group: the groups are
    disjoint, so both ultrasound groups together are bounded by one ultrasound cell."""
    on = [*_GEO, "t1_modality", "period", "measure"]
    t4 = counts.filter(pl.col("table") == CANCER_ACTIVITY_TABLE).with_columns(
        pl.col("modality").replace_strict(CANCER_GROUP_MODALITY, default="").alias("t1_modality")
    )
    whole = counts.filter(pl.col("table").is_in([ACTIVITY_TABLE, SETTINGS_TABLE])).rename(
        {"modality": "t1_modality"}
    )
    pairs = []
    for setting, table in ((ALL_SETTINGS, ACTIVITY_TABLE), (GP_DIRECT_ACCESS, SETTINGS_TABLE)):
        pairs.append(
            _pairs(
                whole.filter((pl.col("table") == table) & (pl.col("source_setting") == setting)),
                t4.filter(pl.col("source_setting") == setting),
                on,
                "groups",
            )
        )
    return pl.concat(pairs)


def _band_pairs(counts: pl.DataFrame) -> pl.DataFrame:
    """Table 9's day bands count tests of table 11's cell: their sum is at most it."""
    bands = counts.filter(
        (pl.col("table") == WAIT_BANDS_TABLE) & pl.col("measure").str.starts_with("count_")
    )
    t11 = counts.filter(
        (pl.col("table") == SETTINGS_TABLE) & (pl.col("measure") == "activity_count")
    )
    return _pairs(t11, bands, [*_GEO, "modality", "source_setting", "period"], "bands")


def _assemble(
    equalities: pl.DataFrame, subsets: pl.DataFrame, at_most: pl.DataFrame
) -> tuple[LinearSystem, np.ndarray]:
    """Number the relations (kind, total) and write them as sparse rows."""
    rank = {kind: i for i, kind in enumerate(RELATION_KINDS)}
    entries = pl.concat(
        [
            # total - sum(parts) = 0
            equalities.select("kind", "total", pl.lit(-1, pl.Int64).alias("sub"))
            .unique()
            .with_columns(pl.col("total").alias("figure"), pl.lit(1.0).alias("coef")),
            equalities.select(
                "kind",
                "total",
                pl.lit(-1, pl.Int64).alias("sub"),
                pl.col("part").alias("figure"),
                pl.lit(-1.0).alias("coef"),
            ),
            # part - whole <= 0, one row per pair
            subsets.select(
                "kind", "total", pl.col("part").alias("sub"), pl.col("part").alias("figure")
            ).with_columns(pl.lit(1.0).alias("coef")),
            subsets.select(
                "kind", "total", pl.col("part").alias("sub"), pl.col("total").alias("figure")
            ).with_columns(pl.lit(-1.0).alias("coef")),
            # sum(parts) - whole <= 0 (table 9's bands, table 4's groups)
            at_most.select("kind", "total", pl.lit(-1, pl.Int64).alias("sub"))
            .unique()
            .with_columns(pl.col("total").alias("figure"), pl.lit(-1.0).alias("coef")),
            at_most.select(
                "kind",
                "total",
                pl.lit(-1, pl.Int64).alias("sub"),
                pl.col("part").alias("figure"),
                pl.lit(1.0).alias("coef"),
            ),
        ],
        how="vertical_relaxed",
    )
    entries = entries.with_columns(
        pl.col("kind").replace_strict(rank, return_dtype=pl.Int64).alias("rank")
    ).sort("rank", "total", "sub", "figure")
    row_id = entries.select(
        pl.struct("rank", "total", "sub").rank("dense").cast(pl.Int64) - 1
    ).to_series()
    n_rows = int(row_id.max() + 1) if entries.height else 0
    counts_per_row = np.bincount(row_id.to_numpy(), minlength=n_rows)
    indptr = np.concatenate([[0], np.cumsum(counts_per_row)]).astype(np.int64)
    heads = entries.with_columns(row_id.alias("row_id")).unique("row_id", keep="first")
    heads = heads.sort("row_id")
    kind = heads["kind"].to_numpy().astype(str) if n_rows else np.zeros(0, dtype=str)
    is_eq = np.isin(kind, list(_EQUALITY_KINDS))
    system = LinearSystem(
        indptr=indptr,
        index=entries["figure"].to_numpy().astype(np.int64),
        coef=entries["coef"].to_numpy().astype(float),
        row_lower=np.where(is_eq, 0.0, -np.inf),
        row_upper=np.zeros(n_rows),
    )
    return system, kind


def _ratio_links(
    keyed: pl.DataFrame, counts: pl.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Medians and percentages -> the count figures whose records they summarise."""
    others = keyed.filter(~_count_expr())
    row = [*_GEO, "modality", "period"]
    links = [
        others.filter(pl.col("table").is_in(medians_of(ACTIVITY_TABLE))).join(
            counts.filter(
                (pl.col("table") == ACTIVITY_TABLE) & (pl.col("measure") == "activity_count")
            ).select(*row, "figure"),
            on=row,
        ),
        others.filter(pl.col("table").is_in(medians_of(CANCER_ACTIVITY_TABLE))).join(
            counts.filter(
                (pl.col("table") == CANCER_ACTIVITY_TABLE) & (pl.col("measure") == "activity_count")
            ).select(*row, "source_setting", "figure"),
            on=[*row, "source_setting"],
        ),
        # a band's percentage is band / sum of bands: all of the row's bands
        others.filter(
            (pl.col("table") == WAIT_BANDS_TABLE) & pl.col("measure").str.starts_with("percent_")
        ).join(
            counts.filter(pl.col("table") == WAIT_BANDS_TABLE).select(
                *row, "source_setting", "figure"
            ),
            on=[*row, "source_setting"],
        ),
        # a report-time percentage is over the reports with a known time
        others.filter(
            (pl.col("table") == REPORT_TIMES_TABLE) & pl.col("measure").str.starts_with("percent_")
        ).join(
            counts.filter(
                (pl.col("table") == REPORT_TIMES_TABLE)
                & (pl.col("measure") == "count_report_time_known")
            ).select(*row, "source_setting", "figure"),
            on=[*row, "source_setting"],
        ),
    ]
    links.append(turnaround_ratio_links(others, counts))
    joined = (
        pl.concat([link.select("row", "table", "figure") for link in links])
        .unique()
        .sort("row", "figure")
    )
    if joined.height == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(1, dtype=np.int64), empty, np.zeros(0, dtype=bool)
    rows = joined["row"].to_numpy().astype(np.int64)
    ratio_cells, first, per_row = np.unique(rows, return_index=True, return_counts=True)
    indptr = np.concatenate([[0], np.cumsum(per_row)]).astype(np.int64)
    is_median = np.isin(joined["table"].to_numpy()[first], list(MEDIAN_COUNT_TABLE))
    return ratio_cells, indptr, joined["figure"].to_numpy().astype(np.int64), is_median


def ratio_threshold_rows(
    relations: Relations, shown: np.ndarray, median_threshold: int, percent_threshold: int
) -> LinearSystem:
    """Rows "sum of the counts behind a shown median (percentage) >= threshold".

    `shown[i]` says whether ratio cell i (of `relations.ratio_cells`) is published;
    a threshold of 0 or less adds nothing.
    """
    threshold = np.where(relations.ratio_is_median, median_threshold, percent_threshold)
    keep = np.flatnonzero(shown & (threshold > 0))
    if keep.size == 0:
        return LinearSystem.empty()
    starts, ends = relations.ratio_indptr[keep], relations.ratio_indptr[keep + 1]
    entries = _ranges(starts, ends)
    return LinearSystem(
        np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64),
        relations.ratio_index[entries],
        np.ones(entries.size),
        threshold[keep].astype(float),
        np.full(keep.size, np.inf),
    )


# ---------------------------------------------------------------------------------------
# Percentages with their published precision.

# Percentages are published to one decimal (`publish.render.tidy.format_value`): 94.2 means
# a ratio in [94.15, 94.25] / 100; "94" is 94.0, the same precision.
PERCENT_DECIMALS = 1
# The integer check enumerates a group's whole-number values when there are at most
# this many combinations (table 10: one denominator of 5 values under `did`; table 9:
# four bands, 5^4).
ENUMERATION_LIMIT = 20_000


@dataclass(frozen=True)
class Percentages:
    """Shown percentages p = 100 * numerator / sum(denominator), each a ratio interval.

    `numerator` is the count figure counted above the line, or -1 when that count is
    not published (table 10's reports on the same day); `denominator` (CSR) the figures
    below the line; `ratio_low`/`ratio_high` the ratio the shown text allows.
    """

    numerator: np.ndarray
    indptr: np.ndarray
    index: np.ndarray
    ratio_low: np.ndarray
    ratio_high: np.ndarray

    @property
    def size(self) -> int:
        return self.numerator.size


def percentage_precision(text: str) -> float:
    """Half the last published decimal, in percentage points (at least one decimal).

    >>> [percentage_precision(t) for t in ("94.2", "94", "12.25")]
    [0.05, 0.05, 0.005]
    """
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    return 0.5 * 10.0 ** -max(decimals, PERCENT_DECIMALS)


def shown_percentages(frame: pl.DataFrame, relations: Relations) -> Percentages:
    """The shown percentages of tables 9 and 10 of `frame` (text or numbers in `value`).

    Table 9: a band's percentage is the band over the sum of the row's bands (every
    test with a known time falls in one band). Table 10: the percentage reported on the
    same day (by the next day) is an unpublished count over the reports whose time is
    known (`count_report_time_known`).
    """
    keyed = _keyed(frame).with_columns(
        frame["value"].cast(pl.Utf8).fill_null("").str.strip_chars().alias("text"),
        frame["marker"].cast(pl.Utf8).fill_null("").alias("marker_text"),
        pl.Series("figure", relations.cell_figure),
    )
    row = ["table", *_GEO, "modality", "source_setting", "period"]
    percent = keyed.filter(
        pl.col("table").is_in(PERCENT_TABLES)
        & pl.col("measure").str.starts_with("percent_")
        & (pl.col("text") != "")
        & (pl.col("marker_text") != "c")
    )
    counts = keyed.filter(pl.col("figure") >= 0)
    t9 = percent.filter(pl.col("table") == WAIT_BANDS_TABLE).with_columns(
        pl.col("measure").str.replace("percent_days_", "count_days_").alias("numerator_measure")
    )
    t9 = t9.join(
        counts.select(
            *row, pl.col("measure").alias("numerator_measure"), pl.col("figure").alias("numerator")
        ),
        on=[*row, "numerator_measure"],
        how="left",
    ).join(
        counts.filter(pl.col("measure").str.starts_with("count_days_")).select(
            *row, pl.col("figure").alias("denominator")
        ),
        on=row,
    )
    t10 = (
        percent.filter(pl.col("table") == REPORT_TIMES_TABLE)
        .join(
            counts.filter(pl.col("measure") == "count_report_time_known").select(
                *row, pl.col("figure").alias("denominator")
            ),
            on=row,
        )
        .with_columns(pl.lit(None, pl.Int64).alias("numerator"))
    )
    columns = ["row", "text", "numerator", "denominator"]
    t13 = shown_turnaround_percentages(percent, counts)
    joined = pl.concat(
        [t9.select(columns), t10.select(columns), t13.select(columns)], how="vertical_relaxed"
    ).sort("row", "denominator")
    if joined.height == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Percentages(empty, np.zeros(1, dtype=np.int64), empty, np.zeros(0), np.zeros(0))
    heads = joined.unique("row", keep="first", maintain_order=True)
    per_row = joined.group_by("row", maintain_order=True).len()["len"].to_numpy()
    texts = heads["text"].to_list()
    p = np.array([float(t) for t in texts])
    half = np.array([percentage_precision(t) for t in texts])
    return Percentages(
        numerator=heads["numerator"].fill_null(-1).to_numpy().astype(np.int64),
        indptr=np.concatenate([[0], np.cumsum(per_row)]).astype(np.int64),
        index=joined["denominator"].to_numpy().astype(np.int64),
        ratio_low=np.maximum(p - half, 0.0) / 100,
        ratio_high=np.minimum(p + half, 100.0) / 100,
    )


def percentage_rows(percentages: Percentages) -> LinearSystem:
    """Linear rows for the percentages whose numerator is a figure:
    low * sum(D) <= N <= high * sum(D), as  N - high * sum(D) <= 0  and
    N - low * sum(D) >= 0."""
    rows_index: list[np.ndarray] = []
    rows_coef: list[np.ndarray] = []
    lower: list[float] = []
    upper: list[float] = []
    for i in np.flatnonzero(percentages.numerator >= 0).tolist():
        den = percentages.index[percentages.indptr[i] : percentages.indptr[i + 1]]
        num = int(percentages.numerator[i])
        for ratio, low, high in (
            (percentages.ratio_high[i], -np.inf, 0.0),
            (percentages.ratio_low[i], 0.0, np.inf),
        ):
            coef = {int(d): -float(ratio) for d in den}
            coef[num] = coef.get(num, 0.0) + 1.0
            keys = [key for key in sorted(coef) if abs(coef[key]) > 1e-12]
            if not keys:
                continue
            rows_index.append(np.array(keys, dtype=np.int64))
            rows_coef.append(np.array([coef[key] for key in keys]))
            lower.append(low)
            upper.append(high)
    if not rows_index:
        return LinearSystem.empty()
    lengths = np.array([r.size for r in rows_index])
    return LinearSystem(
        np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        np.concatenate(rows_index),
        np.concatenate(rows_coef),
        np.array(lower),
        np.array(upper),
    )


def _ratio_fits(
    numerator: np.ndarray | None, denominator: np.ndarray, low: float, high: float
) -> np.ndarray:
    """Whether whole numbers fit the ratio interval: N/D in [low, high] with D > 0; with
    the numerator unpublished, whether some whole N in [0, D] does."""
    d = denominator.astype(float)
    least, most = low * d - 1e-9, high * d + 1e-9
    if numerator is None:
        fits = np.ceil(least) <= np.minimum(np.floor(most), d)
    else:
        fits = (numerator >= least) & (numerator <= most)
    return fits & (d > 0)


def integer_percentage_bounds(
    percentages: Percentages, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Whole-number bounds of the figures behind shown percentages, by enumeration.

    The percentages over one denominator form a group; when its figures' boxes hold at
    most ENUMERATION_LIMIT whole combinations, every combination is tried against every
    percentage of the group (integral numerators), and each figure's bounds become the
    least and greatest value of a combination that fits. A rounded denominator (did: v
    means [v-2, v+2]) with a one-decimal percentage often admits one value only.

    >>> pct = Percentages(np.array([-1]), np.array([0, 1]), np.array([0]),
    ...     np.array([0.9415]), np.array([0.9425]))
    >>> [b.tolist() for b in integer_percentage_bounds(pct, np.array([173.0]), np.array([177.0]))]
    [[173.0], [173.0]]
    """
    lower, upper = lower.astype(float).copy(), upper.astype(float).copy()
    groups: dict[tuple[int, ...], list[int]] = {}
    for i in range(percentages.size):
        den = percentages.index[percentages.indptr[i] : percentages.indptr[i + 1]]
        figures = set(den.tolist())
        if percentages.numerator[i] >= 0:
            figures.add(int(percentages.numerator[i]))
        groups.setdefault(tuple(sorted(figures)), []).append(i)
    for figures, members in groups.items():
        cols = np.array(figures, dtype=np.int64)
        lo, hi = np.ceil(lower[cols] - _TOLERANCE), np.floor(upper[cols] + _TOLERANCE)
        if not np.isfinite(hi).all() or (hi < lo).any():
            continue
        sizes = (hi - lo + 1).astype(np.int64)
        if np.prod(sizes.astype(float)) > ENUMERATION_LIMIT:
            continue
        grids = np.meshgrid(
            *[np.arange(a, b + 1) for a, b in zip(lo, hi, strict=True)], indexing="ij"
        )
        combos = np.stack([g.reshape(-1) for g in grids], axis=1)
        position = {f: j for j, f in enumerate(figures)}
        fits = np.ones(combos.shape[0], dtype=bool)
        for i in members:
            den = percentages.index[percentages.indptr[i] : percentages.indptr[i + 1]]
            d = combos[:, [position[int(f)] for f in den]].sum(axis=1)
            num = int(percentages.numerator[i])
            n = combos[:, position[num]] if num >= 0 else None
            fits &= _ratio_fits(n, d, percentages.ratio_low[i], percentages.ratio_high[i])
        if not fits.any():
            continue  # the publication contradicts itself: left to the LP to say
        lower[cols] = combos[fits].min(axis=0)
        upper[cols] = combos[fits].max(axis=0)
    return lower, upper


# ---------------------------------------------------------------------------------------
# The interval rule: from a suppressed count's trivial lower bound, k - 1 values.


def trivial_lower_bounds(
    system: LinearSystem,
    lower: np.ndarray,
    upper: np.ndarray,
    suppressed: np.ndarray,
    max_rounds: int = 100,
) -> np.ndarray:
    """The lowest value of each figure that needs no upper bound of a suppressed count.

    t is what the relations give when every suppressed count is only known to be at
    least 1 (zeros are shown) and unbounded above: a total is at least the sum of its
    parts' t (a year to date over three suppressed months is at least 3); a whole at
    least its subsets' t; a count that is the only unknown of a relation is what the
    published figures there leave of the other side (a setting that is a total's only
    non-zero part has the total's t). Whatever lifts a lowest value above t uses some
    suppressed count's upper bound: that is what the interval rule guards against.
    Shown figures keep their published bounds.

    >>> one_row = LinearSystem(np.array([0, 3]), np.array([0, 1, 2]),
    ...     np.array([1.0, -1.0, -1.0]), np.array([0.0]), np.array([0.0]))
    >>> trivial_lower_bounds(one_row, np.array([1.0, 1, 1]), np.array([9.0, 9, 9]),
    ...     np.array([True, True, True])).tolist()
    [2.0, 1.0, 1.0]
    >>> trivial_lower_bounds(one_row, np.array([1.0, 5, 1]), np.array([9.0, 5, 9]),
    ...     np.array([True, False, True])).tolist()
    [6.0, 5.0, 1.0]
    """
    hi = np.where(suppressed, np.inf, upper).astype(float)
    t = np.where(suppressed, np.maximum(lower, 1.0), lower).astype(float)
    if system.index.size == 0 or not suppressed.any():
        return t
    rows, index = system.entry_row, system.index
    positive = system.coef > 0
    for _ in range(max_rounds):
        implied_lower, _ = _implied_bounds(system, rows, positive, t, hi, system.n_rows)
        new = t.copy()
        np.maximum.at(new, index, np.ceil(implied_lower - _TOLERANCE))
        new = np.where(suppressed, new, t)
        if np.array_equal(new, t):
            break
        t = new
    return t


def structural_lower_bounds(
    system: LinearSystem,
    lower: np.ndarray,
    upper: np.ndarray,
    suppressed: np.ndarray,
    trivial: np.ndarray,
    figures: np.ndarray,
) -> np.ndarray:
    """`trivial` with the t of `figures` raised to what the relations give over lowest
    values alone.

    Bound propagation reads one relation at a time, so it misses a lowest value that
    needs two at once: a provider's table 10 year to date over two hidden settings
    equals table 1's year to date over the same settings, which sums three hidden
    months: at least 3, where each relation alone gives 2. The LP of the same relations,
    with every figure bounded below only (a suppressed count by its t, a published
    count by its lowest value, free upward; published zeros stay zero), finds it. It
    uses no upper bound at all, so it is still what the published shape alone gives
    away, and never more than the attacker's lowest value. Solved only for `figures`
    (those whose feasible lowest value is above their propagated t).

    >>> rows = LinearSystem(np.array([0, 3, 6, 10]), np.array([0, 1, 2, 3, 1, 2, 3, 4, 5, 6]),
    ...     np.array([1.0, -1, -1, 1, -1, -1, 1, -1, -1, -1]), np.zeros(3), np.zeros(3))
    >>> hidden = np.ones(7, dtype=bool)
    >>> lo, hi = np.ones(7), np.full(7, np.inf)
    >>> t = trivial_lower_bounds(rows, lo, hi, hidden)
    >>> t.tolist()
    [2.0, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0]
    >>> structural_lower_bounds(rows, lo, hi, hidden, t, np.array([0])).tolist()
    [3.0, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0]
    """
    out = trivial.astype(float).copy()
    figures = np.asarray(figures, dtype=np.int64)
    if figures.size == 0 or system.index.size == 0:
        return out
    shown = ~suppressed
    relaxed = _fold_lowest(system, lower, shown, free=shown & (upper > 0))
    box_lower = np.where(shown, lower, trivial).astype(float)
    box_upper = np.where(shown, lower, np.inf).astype(float)
    parts = _split(relaxed, box_lower, box_upper, figures)
    box_lower, box_upper = propagate_bounds(parts.reduced, box_lower, box_upper)
    box_lower = np.where(shown, lower, np.maximum(box_lower, trivial))
    is_target = np.zeros(len(out), dtype=bool)
    is_target[figures] = True
    highs = _new_highs()
    for cols, rows in zip(parts.groups, parts.rows, strict=True):
        interest = is_target[cols]
        if rows.size == 0 or not interest.any():
            lowest = box_lower[cols]
        else:
            model = _ComponentLP(highs, parts.reduced, cols, rows, box_lower[cols], box_upper[cols])
            found = _solve_component(
                model, box_lower[cols], box_upper[cols], interest, want_upper=False
            )
            if found is None:  # contradicts itself: the audit says so; t stays
                continue
            lowest = found[0]
        mine = cols[interest]
        out[mine] = np.maximum(out[mine], np.ceil(lowest[interest] - _TOLERANCE))
    return out


def _fold_lowest(
    system: LinearSystem, lower: np.ndarray, known: np.ndarray, free: np.ndarray
) -> LinearSystem:
    """Fold the `known` figures into the rows at their lowest values; a `free` one may
    be anything above it, so the side of its row it could push is opened."""
    if system.index.size == 0:
        return system
    rows, index, coef = system.entry_row, system.index, system.coef
    folded = _fold_fixed(system, lower, known)
    opens_lower = np.bincount(rows[free[index] & (coef > 0)], minlength=system.n_rows) > 0
    opens_upper = np.bincount(rows[free[index] & (coef < 0)], minlength=system.n_rows) > 0
    return LinearSystem(
        folded.indptr,
        folded.index,
        folded.coef,
        np.where(opens_lower, -np.inf, folded.row_lower),
        np.where(opens_upper, np.inf, folded.row_upper),
    )


# ---------------------------------------------------------------------------------------
# Feasible intervals by bound propagation and linear programming (HiGHS).


def integer_interval(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LP bounds -> the whole numbers an attacker can still not rule out.

    >>> lo, hi = integer_interval(np.array([1.0000001, 0.5, 3.0]), np.array([8.9999999, 1.2, np.inf]))
    >>> lo.tolist(), hi.tolist()
    ([1.0, 1.0, 3.0], [9.0, 1.0, inf])
    >>> [a.tolist() for a in integer_interval(np.array([]), np.array([]))]
    [[], []]
    """
    return np.ceil(lower - _TOLERANCE), np.floor(upper + _TOLERANCE)


def propagate_bounds(
    system: LinearSystem, lower: np.ndarray, upper: np.ndarray, max_rounds: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Tighten whole-number bounds row by row until nothing changes.

    Every bound stays valid for every whole-number solution, so the result can serve
    as the box of the LP. Returns (lower, upper); lower > upper flags a contradiction.

    >>> one_row = LinearSystem(np.array([0, 3]), np.array([0, 1, 2]),
    ...     np.array([1.0, -1.0, -1.0]), np.array([0.0]), np.array([0.0]))
    >>> lo, hi = propagate_bounds(one_row, np.array([10.0, 1.0, 1.0]), np.array([10.0, np.inf, np.inf]))
    >>> lo.tolist(), hi.tolist()
    ([10.0, 1.0, 1.0], [10.0, 9.0, 9.0])
    >>> [a.tolist() for a in propagate_bounds(LinearSystem.empty(), np.array([]), np.array([]))]
    [[], []]
    """
    lower, upper = lower.astype(float).copy(), upper.astype(float).copy()
    if system.index.size == 0:
        return lower, upper
    rows, index, coef = system.entry_row, system.index, system.coef
    n_rows, positive = system.n_rows, coef > 0
    for _ in range(max_rounds):
        new_lower, new_upper = _implied_bounds(system, rows, positive, lower, upper, n_rows)
        tight_lower, tight_upper = lower.copy(), upper.copy()
        np.maximum.at(tight_lower, index, np.ceil(new_lower - _TOLERANCE))
        np.minimum.at(tight_upper, index, np.floor(new_upper + _TOLERANCE))
        if np.array_equal(tight_lower, lower) and np.array_equal(tight_upper, upper):
            break
        lower, upper = tight_lower, tight_upper
        if (lower > upper).any():
            break
    return lower, upper


def _implied_bounds(
    system: LinearSystem,
    rows: np.ndarray,
    positive: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    n_rows: int,
) -> tuple[np.ndarray, np.ndarray]:
    """For every entry (row, figure), the bounds its row implies given the others."""
    coef, index = system.coef, system.index
    with np.errstate(invalid="ignore"):
        least = np.where(positive, coef * lower[index], coef * upper[index])
        most = np.where(positive, coef * upper[index], coef * lower[index])
    least_inf, most_inf = np.isinf(least), np.isinf(most)
    least_sum = np.bincount(rows, np.where(least_inf, 0.0, least), n_rows)
    most_sum = np.bincount(rows, np.where(most_inf, 0.0, most), n_rows)
    least_ninf = np.bincount(rows, least_inf, n_rows)
    most_ninf = np.bincount(rows, most_inf, n_rows)
    others_least = np.where(
        least_ninf[rows] - least_inf > 0,
        -np.inf,
        least_sum[rows] - np.where(least_inf, 0.0, least),
    )
    others_most = np.where(
        most_ninf[rows] - most_inf > 0, np.inf, most_sum[rows] - np.where(most_inf, 0.0, most)
    )
    with np.errstate(invalid="ignore"):
        term_upper = system.row_upper[rows] - others_least  # coef * x <= term_upper
        term_lower = system.row_lower[rows] - others_most  # coef * x >= term_lower
    # (inf - inf is no bound; np.nan_to_num would also turn every infinite bound into
    # the largest float, and sums with it then lose the counts beside it)
    term_upper = np.where(np.isnan(term_upper), np.inf, term_upper)
    term_lower = np.where(np.isnan(term_lower), -np.inf, term_lower)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        implied_upper = np.where(positive, term_upper / coef, term_lower / coef)
        implied_lower = np.where(positive, term_lower / coef, term_upper / coef)
    return implied_lower, implied_upper


def connected_components(n: int, system: LinearSystem) -> np.ndarray:
    """Label of each of n figures: figures sharing a row share a label (smallest member).

    >>> connected_components(0, LinearSystem.empty()).tolist()
    []
    >>> rows = LinearSystem(np.array([0, 2, 4]), np.array([0, 1, 3, 4]),
    ...     np.ones(4), np.zeros(2), np.zeros(2))
    >>> connected_components(5, rows).tolist()
    [0, 0, 2, 3, 3]
    """
    label = np.arange(n)
    if system.index.size == 0:
        return label
    rows, index = system.entry_row, system.index
    while True:
        row_min = np.full(system.n_rows, n)
        np.minimum.at(row_min, rows, label[index])
        new = label.copy()
        np.minimum.at(new, index, row_min[rows])
        while True:  # pointer jumping
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, label):
            return label
        label = new


@dataclass(frozen=True)
class Intervals:
    """Feasible interval of each figure (NaN where not computed)."""

    lower: np.ndarray
    upper: np.ndarray
    infeasible: np.ndarray  # the figure's component contradicts itself
    solves: int  # LP solves done


@dataclass(frozen=True)
class _Components:
    """The figures not known exactly, split into independent components."""

    reduced: LinearSystem  # the rows with exactly known figures folded in
    label: np.ndarray  # component of each figure (smallest member)
    groups: list[np.ndarray]  # the wanted components' free figures
    rows: list[np.ndarray]  # and their rows


def _split(
    system: LinearSystem, lower: np.ndarray, upper: np.ndarray, targets: np.ndarray
) -> _Components:
    """Fold exactly known figures into the rows; the components holding `targets`."""
    n = len(lower)
    fixed = lower == upper
    reduced = _fold_fixed(system, lower, fixed)
    label = connected_components(n, reduced)
    wanted = np.zeros(n, dtype=bool)
    wanted[np.unique(label[targets])] = True
    members = np.flatnonzero(wanted[label] & ~fixed)
    order = members[np.argsort(label[members], kind="stable")]
    groups = np.split(order, np.flatnonzero(np.diff(label[order])) + 1) if order.size else []
    row_comp = np.full(reduced.n_rows, -1)
    has_entry = np.diff(reduced.indptr) > 0
    row_comp[has_entry] = label[reduced.index[reduced.indptr[:-1][has_entry]]]
    row_order = np.argsort(row_comp, kind="stable")
    sorted_comp = row_comp[row_order]
    rows = []
    for cols in groups:
        a, b = np.searchsorted(sorted_comp, [label[cols[0]], label[cols[0]] + 1])
        rows.append(row_order[a:b])
    return _Components(reduced, label, groups, rows)


# How far a neighbourhood LP reaches: hops from the column through rows and their
# columns, while it holds at most this many columns.
_NEIGHBOURHOOD_HOPS = 3
_NEIGHBOURHOOD_COLS = 3000
# A sweep (one solve for the sum of the unsettled columns) is repeated while it settles
# at least this many and this share of them; a single column's solve settles one.
_SWEEP_LEAST_SETTLED = 3
_SWEEP_LEAST_SHARE = 0.01
# An objective that changes in more columns than this is solved by dual simplex.
_BIG_OBJECTIVE_CHANGE = 1000
# Columns left for one-at-a-time solves in a large component are split in two halves,
# each on its own LP on a thread of its own, when there are at least this many.
_SPLIT_LEAST = 64


class _ComponentLP:
    """One component as a HiGHS LP; between solves only the objective changes, so each
    solve starts from the last basis (presolve off)."""

    def __init__(
        self,
        highs: highspy.Highs,
        reduced: LinearSystem,
        cols: np.ndarray,
        rows: np.ndarray,
        box_lower: np.ndarray,
        box_upper: np.ndarray,
    ) -> None:
        n = cols.size
        sub = reduced.select_rows(rows)
        col_index = np.searchsorted(cols, sub.index)  # cols ascending
        self.box_lower = np.asarray(box_lower, dtype=float)
        self.box_upper = np.asarray(box_upper, dtype=float)
        lp = _columnwise_lp(
            col_index,
            sub.entry_row,
            sub.coef,
            self.box_lower,
            self.box_upper,
            sub.row_lower,
            sub.row_upper,
        )
        highs.clearModel()
        highs.passModel(lp)
        self.highs, self.n, self.rows = highs, n, rows
        # both orientations of the component's rows, for the neighbourhood LPs
        self.row_start, self.row_cols, self.row_coef = sub.indptr, col_index, sub.coef
        self.row_lower, self.row_upper = sub.row_lower, sub.row_upper
        self.col_start = np.asarray(lp.a_matrix_.start_)
        self.col_rows = np.asarray(lp.a_matrix_.index_)
        self.local_highs: highspy.Highs | None = None
        self.cost = np.zeros(n)
        self.all_cols = np.arange(n, dtype=np.int32)
        self.cap_cols = np.zeros(0, dtype=np.int32)
        self.cap_cost = np.zeros(0)
        self.solves = 0
        self.started = False  # a twin starts from its original's basis
        self.refactor = False  # factorize afresh before each primal solve (`solve`)
        self.maximized = False

    def add_caps(self, goal: np.ndarray) -> None:
        """Columns y_j <= x_j, y_j <= goal_j: maximizing a sum of them raises many
        columns to their goals at once without one unbounded column spoiling the sum."""
        n = self.n
        self.highs.addVars(n, self.box_lower, goal.astype(float))
        index = np.empty(2 * n, dtype=np.int32)
        index[0::2], index[1::2] = np.arange(n), np.arange(n, 2 * n)
        self.highs.addRows(
            n,
            np.zeros(n),
            np.full(n, np.inf),
            2 * n,
            np.arange(0, 2 * n, 2, dtype=np.int32),
            index,
            np.tile([1.0, -1.0], n),
        )
        self.cap_cols = np.arange(n, 2 * n, dtype=np.int32)
        self.cap_cost = np.zeros(n)

    def _set_cap_cost(self, cost: np.ndarray) -> None:
        changed = np.flatnonzero(cost != self.cap_cost)
        if changed.size:
            self.highs.changeColsCost(changed.size, self.cap_cols[changed], cost[changed])
        self.cap_cost = cost

    def maximize_capped(self, which: np.ndarray) -> highspy.HighsModelStatus:
        """Maximize the sum of min(x_j, goal_j) over the columns `which`."""
        self._set_cap_cost(which.astype(float))
        return self.solve(np.zeros(self.n), maximize=True, caps=True)

    def solve(
        self, cost: np.ndarray, maximize: bool, caps: bool = False
    ) -> highspy.HighsModelStatus:
        if not caps and self.cap_cost.any():
            self._set_cap_cost(np.zeros(self.cap_cost.size))
        changed = np.flatnonzero(cost != self.cost)
        if changed.size:
            self.highs.changeColsCost(changed.size, self.all_cols[changed], cost[changed])
        self.cost = cost
        self.highs.changeObjectiveSense(
            highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        )
        if self.solves == 0 and not self.started:
            # The first solve has no basis to start from: dual simplex after presolve
            # finds one in a fraction of primal simplex's time (1 s against 13 s on the
            # demo's did audit); the later solves go on from it.
            self.highs.setOptionValue("simplex_strategy", 1)
            self.highs.setOptionValue("presolve", "on")
            self.highs.run()
            self.highs.setOptionValue("presolve", "off")
        else:
            # A new objective over many columns (a sweep) is far from the last optimum:
            # dual simplex gets there faster (1.4 s against 3.6 s); after a small change
            # primal simplex goes on from the last basis in a few iterations.
            turned = maximize != self.maximized
            strategy = 1 if turned or changed.size > _BIG_OBJECTIVE_CHANGE else 4
            self.highs.setOptionValue("simplex_strategy", strategy)
            if strategy == 4 and self.refactor:
                # the same basis, set again: HiGHS factorizes it afresh, and primal
                # simplex's iterations from a fresh factorization cost a third less
                # (24 against 38 ms a maximum on the demo year's largest hes component;
                # a smaller update limit does not do it). Only where every bound is
                # exact: another optimal vertex changes no optimum, but it changes
                # which values a check's solutions reach, which strict reads.
                self.highs.setBasis(self.highs.getBasis())
            self.highs.run()
        self.solves += 1
        self.maximized = maximize
        return self.highs.getModelStatus()

    def neighbourhood_bound(self, col: int, maximize: bool) -> float | None:
        """The min (or max) of column `col` over the rows near it only: its rows, the
        rows of their columns, and so on while the LP stays small (`_NEIGHBOURHOOD_COLS`).

        Fewer rows, same box: a relaxation, so its min is at most the component's (its
        max at least). Where it meets a value some full solution has reached, it is the
        whole-number bound without solving the whole component. None when the small LP
        has no optimum (infeasible or unbounded: left to the full LP)."""
        if self._solve_neighbourhood(col, maximize) is None:
            return None
        return self.local_highs.getInfo().objective_function_value

    def neighbourhood_binding_rows(self, col: int, maximize: bool) -> np.ndarray:
        """`binding_rows` of the neighbourhood LP of `col`: what binds it nearby."""
        rows = self._solve_neighbourhood(col, maximize)
        if rows is None:
            return np.zeros(0, dtype=np.int64)
        dual = np.abs(np.asarray(self.local_highs.getSolution().row_dual))
        binding = np.flatnonzero(dual > _TOLERANCE)
        return self.rows[rows[binding[np.argsort(-dual[binding], kind="stable")]]]

    def _solve_neighbourhood(self, col: int, maximize: bool) -> np.ndarray | None:
        """Solve the neighbourhood LP of `col`; its rows (component numbering), or None
        without an optimum."""
        rows = self.col_rows[self.col_start[col] : self.col_start[col + 1]]
        cols = np.unique(self.row_cols[_ranges(self.row_start[rows], self.row_start[rows + 1])])
        for _ in range(_NEIGHBOURHOOD_HOPS - 1):
            wider_rows = np.unique(
                self.col_rows[_ranges(self.col_start[cols], self.col_start[cols + 1])]
            )
            entries = _ranges(self.row_start[wider_rows], self.row_start[wider_rows + 1])
            wider_cols = np.unique(self.row_cols[entries])
            if wider_cols.size > _NEIGHBOURHOOD_COLS:
                break
            rows, cols = wider_rows, wider_cols
        entries = _ranges(self.row_start[rows], self.row_start[rows + 1])
        lp = _columnwise_lp(
            np.searchsorted(cols, self.row_cols[entries]),
            np.repeat(np.arange(rows.size), np.diff(self.row_start)[rows]),
            self.row_coef[entries],
            self.box_lower[cols],
            self.box_upper[cols],
            self.row_lower[rows],
            self.row_upper[rows],
        )
        cost = np.zeros(cols.size)
        cost[np.searchsorted(cols, col)] = 1.0
        lp.col_cost_ = cost
        lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        if self.local_highs is None:
            self.local_highs = _new_highs()
            self.local_highs.setOptionValue("presolve", "on")
        highs = self.local_highs
        highs.clearModel()
        highs.passModel(lp)
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return rows

    def twin(self) -> _ComponentLP:
        """The same LP on a HiGHS of its own, from this one's basis and solution: two
        series of solves can then go on side by side. It shares the (read-only) arrays."""
        other = copy.copy(self)
        other.highs = _new_highs()
        other.highs.passModel(self.highs.getLp())
        other.highs.setBasis(self.highs.getBasis())
        other.local_highs = None
        other.cost = self.cost.copy()
        other.solves = 0
        other.started = True  # a basis is given: no first solve from scratch
        return other

    def solve_one(self, col: int, maximize: bool) -> highspy.HighsModelStatus:
        cost = np.zeros(self.n)
        cost[col] = 1.0
        return self.solve(cost, maximize)

    def objective(self) -> float:
        return self.highs.getInfo().objective_function_value

    def values(self) -> np.ndarray:
        return np.asarray(self.highs.getSolution().col_value)[: self.n]

    def binding_rows(self) -> np.ndarray:
        """The component's rows (system numbering) with a non-zero dual, strongest first."""
        dual = np.abs(np.asarray(self.highs.getSolution().row_dual))[: self.rows.size]
        binding = np.flatnonzero(dual > _TOLERANCE)
        return self.rows[binding[np.argsort(-dual[binding], kind="stable")]]


def _columnwise_lp(
    entry_col: np.ndarray,
    entry_row: np.ndarray,
    coef: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
) -> highspy.HighsLp:
    """A HiGHS LP (zero cost, minimize) from entries (column, row, coefficient) in any
    order; columns and rows numbered from 0, as many as their bounds."""
    n_cols, n_rows = col_lower.size, row_lower.size
    order = np.argsort(entry_col, kind="stable")
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.zeros(n_cols)
    lp.col_lower_, lp.col_upper_ = col_lower, col_upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, n_rows
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(np.bincount(entry_col, None, n_cols))])
    lp.a_matrix_.index_ = entry_row[order]
    lp.a_matrix_.value_ = coef[order]
    return lp


def _new_highs() -> highspy.Highs:
    """A silent HiGHS. `highspy.Highs()` enables its Python callbacks in its constructor,
    and that writes HiGHS's copyright banner to stdout before any option can be set; the
    core class it wraps (all this module calls) writes nothing until asked, and logging
    is off before anything else."""
    highs = _Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("log_to_console", False)
    highs.setOptionValue("presolve", "off")
    # After a change of objective the last basis is still feasible: primal simplex goes
    # on from it in a few iterations, where dual simplex would start nearly afresh.
    highs.setOptionValue("simplex_strategy", 4)
    return highs


def feasible_intervals(
    system: LinearSystem,
    lower: np.ndarray,
    upper: np.ndarray,
    targets: np.ndarray,
    enough_width: float | None = None,
    small_below: float = np.inf,
    verdict_only: bool = False,
) -> Intervals:
    """Lowest and highest whole value of each figure in the components of `targets`.

    `lower`/`upper` are what the attacker knows of each figure alone (equal for an exact
    published figure). Figures known exactly are folded into the rows; the rest split
    into independent components; each component is one HiGHS LP whose objective alone
    changes between solves (warm start), and every solution also settles the figures it
    puts on a bound of the propagated box, so most figures need no solve of their own.
    With `enough_width` (for checks, not reports) an upper bound is only sought as far
    as lower + enough_width (lower + 1, not exact, for one whose lower is `small_below`
    or more). `verdict_only`: the caller reads whether each upper reaches that far, not
    its value, so a large component's columns may be solved in halves side by side.
    """
    n = len(lower)
    out_lower, out_upper = np.full(n, np.nan), np.full(n, np.nan)
    infeasible = np.zeros(n, dtype=bool)
    targets = np.asarray(targets, dtype=np.int64)
    if targets.size == 0:
        return Intervals(out_lower, out_upper, infeasible, 0)
    fixed = lower == upper
    out_lower[fixed], out_upper[fixed] = lower[fixed], upper[fixed]
    parts = _split(system, lower, upper, targets)
    is_target = np.zeros(n, dtype=bool)
    is_target[targets] = True
    box_lower, box_upper = propagate_bounds(parts.reduced, lower, upper)
    box_lower = np.where(fixed, lower, box_lower)
    box_upper = np.where(fixed, upper, box_upper)
    highs = _new_highs()
    solves = 0
    for cols, rows in zip(parts.groups, parts.rows, strict=True):
        lo_box, hi_box = box_lower[cols], box_upper[cols]
        if (lo_box > hi_box).any():
            infeasible[cols] = True
        elif cols.size == 1 or rows.size == 0:
            # one figure alone: propagation has met each of its rows exactly
            out_lower[cols], out_upper[cols] = lo_box, hi_box
        else:
            model = _ComponentLP(highs, parts.reduced, cols, rows, lo_box, hi_box)
            interest = is_target[cols]
            found = _solve_component(
                model,
                lo_box,
                hi_box,
                interest,
                enough_width,
                small_below=small_below,
                verdict_only=verdict_only,
            )
            solves += model.solves
            if found is None:
                infeasible[cols] = True
            else:
                out_lower[cols], out_upper[cols] = found
    out_lower[infeasible | ~is_target], out_upper[infeasible | ~is_target] = np.nan, np.nan
    return Intervals(out_lower, out_upper, infeasible, solves)


def _fold_fixed(system: LinearSystem, value: np.ndarray, fixed: np.ndarray) -> LinearSystem:
    """Move figures known exactly to the row bounds; keep the other entries."""
    if system.index.size == 0:
        return system
    rows = system.entry_row
    known = fixed[system.index]
    constant = np.bincount(
        rows[known], system.coef[known] * value[system.index[known]], system.n_rows
    )
    keep = ~known
    per_row = np.bincount(rows[keep], minlength=system.n_rows)
    return LinearSystem(
        np.concatenate([[0], np.cumsum(per_row)]).astype(np.int64),
        system.index[keep],
        system.coef[keep],
        system.row_lower - constant,
        system.row_upper - constant,
    )


def _solve_component(
    model: _ComponentLP,
    box_lower: np.ndarray,
    box_upper: np.ndarray,
    interest: np.ndarray,
    enough_width: float | None = None,
    want_upper: bool = True,
    small_below: float = np.inf,
    verdict_only: bool = False,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Min and max of the columns of interest of one component (None if infeasible);
    the min only (max left NaN) without `want_upper`.

    A solution that puts a column on its propagated bound settles that bound: the box
    is valid, so the LP can do no better. Solves for the sum settle most columns. With
    `enough_width`, a column whose solution reaches lower + enough_width needs no more:
    its upper is then a value it can take, at least that far up, not its maximum.

    Without `enough_width` (the audit's exact intervals) the maxima do not depend on
    the minima: in a large component they are solved on a second HiGHS, started from
    the first solve's basis, on a thread beside the minima (HiGHS lets go of Python's
    lock while it solves), and on each side the columns left after the sweeps are
    solved in two halves side by side (`_Bounds.each_beside`). Each LP settles only its
    own bounds; the bounds are the same whole numbers either way, and each LP's solves
    are the same whatever the threads' timing, so the result does not depend on it.

    With `enough_width` and `verdict_only` the columns left after the sweeps are solved
    in halves side by side too: each lowest value is exact, and whether an upper
    reaches its goal does not depend on which solution got there, only its value does.
    """
    n = model.n
    lower, upper = np.full(n, np.nan), np.full(n, np.nan)
    optimal = highspy.HighsModelStatus.kOptimal
    model.refactor = enough_width is None
    if model.solve(np.ones(n), maximize=False) != optimal:
        return None
    if want_upper and enough_width is None and n > _NEIGHBOURHOOD_COLS:
        first = model.values()
        twin = model.twin()
        minima = _Bounds(model, box_lower, box_upper, interest, lower, None, first)
        maxima = _Bounds(twin, box_lower, box_upper, interest, None, upper, first, minima.stop)
        minima.beside(
            functools.partial(minima.solve, maximize=False, beside=True),
            functools.partial(maxima.solve, maximize=True, beside=True),
        )
        model.solves += twin.solves
        return lower, upper
    both = _Bounds(model, box_lower, box_upper, interest, lower, upper, model.values())
    beside = verdict_only and n > _NEIGHBOURHOOD_COLS
    both.solve(maximize=False, beside=beside)
    if not want_upper:
        return lower, upper
    if enough_width is not None:
        lowest = np.ceil(lower - _TOLERANCE)
        both.goal = np.minimum(box_upper, lowest + np.where(lowest >= small_below, 1, enough_width))
        # a settled upper below the new goal was a maximum only if on the box
        upper[~(upper >= both.goal - _TOLERANCE)] = np.nan
        # every goal is finite: one capped solve can take many columns to theirs
        model.add_caps(both.goal)
        for _ in range(_CAPPED_SWEEPS):
            open_ = interest & np.isnan(upper)
            if open_.sum() < 2 or model.maximize_capped(open_) != optimal:
                break
            both.settle()
            if not (open_ & ~np.isnan(upper)).any():
                break
    both.solve(maximize=True, beside=beside)
    return lower, upper


class _Bounds:
    """The minima and maxima of a component's columns of interest, settled on one LP:
    sweeps for the sum of the unsettled columns, then one column at a time.

    `lower` and `upper` are filled in place; either may be None (that side is then
    another's: a solution here settles only the side given). The LP has been solved
    once already; its solution `first` is settled here first. `stop`: the event shared
    with the LPs solving beside this one (`beside`)."""

    def __init__(
        self,
        model: _ComponentLP,
        box_lower: np.ndarray,
        box_upper: np.ndarray,
        interest: np.ndarray,
        lower: np.ndarray | None,
        upper: np.ndarray | None,
        first: np.ndarray,
        stop: threading.Event | None = None,
    ) -> None:
        self.model, self.box_lower, self.box_upper = model, box_lower, box_upper
        self.interest, self.lower, self.upper = interest, lower, upper
        self.goal = box_upper.copy()  # an upper is settled where a solution reaches it
        # in a large component a neighbourhood LP may settle a column for a fraction of
        # a full solve; in a small one it would be the component's LP again
        self.large = model.n > _NEIGHBOURHOOD_COLS
        # the lowest and highest value of each column in any full solution so far
        self.reached_lower = np.full(model.n, np.inf)
        self.reached_upper = np.full(model.n, -np.inf)
        # shared with the LPs beside this one: set, they give up at their next solve
        self.stop = stop or threading.Event()
        self.settle(first)

    def settle(self, x: np.ndarray | None = None) -> None:
        """What a solution (default: the LP's current one) settles."""
        x = self.model.values() if x is None else x
        np.minimum(self.reached_lower, x, out=self.reached_lower)
        np.maximum(self.reached_upper, x, out=self.reached_upper)
        if self.lower is not None:
            at_lower = np.isnan(self.lower) & (x <= self.box_lower + _TOLERANCE)
            self.lower[at_lower] = self.box_lower[at_lower]
        if self.upper is not None:
            at_goal = np.isnan(self.upper) & (x >= self.goal - _TOLERANCE)
            on_box = np.where(x >= self.box_upper - _TOLERANCE, self.box_upper, x)
            self.upper[at_goal] = on_box[at_goal]

    def solve(self, maximize: bool, beside: bool = False) -> None:
        """The maxima (or minima): sweeps, then each column left on its own; `beside`:
        in two halves side by side when there are many (`each_beside`).

        Only where every bound found is exact (the audit's intervals, no
        `enough_width`), or where only the verdict is read (`verdict_only`): an upper
        that need only reach its goal is the value of whichever solution got there,
        which depends on the order of the solves, and strict's choice of partners reads
        those values, so they must not change."""
        self.sweep(maximize)
        left = np.flatnonzero(self.interest & np.isnan(self.side(maximize)))
        if beside and left.size >= _SPLIT_LEAST:
            self.each_beside(maximize, left)
        else:
            self.each(maximize, left)

    def each_beside(self, maximize: bool, columns: np.ndarray) -> None:
        """`each` of the first half of `columns` here, and of the second half on a twin
        LP (from this one's basis) on a thread beside it, settling a copy of the bounds
        of its own, merged after: the result does not depend on the threads' timing."""
        first_half, second_half = columns[: columns.size // 2], columns[columns.size // 2 :]
        twin = self.model.twin()
        other = _Bounds(
            twin,
            self.box_lower,
            self.box_upper,
            self.interest,
            None if maximize else self.side(False).copy(),
            self.side(True).copy() if maximize else None,
            self.model.values(),
            self.stop,
        )
        other.goal = self.goal
        other.reached_lower = self.reached_lower.copy()  # the current solution's among them
        other.reached_upper = self.reached_upper.copy()
        self.beside(
            functools.partial(other.each, maximize, second_half),
            functools.partial(self.each, maximize, first_half),
        )
        self.side(maximize)[second_half] = other.side(maximize)[second_half]
        self.model.solves += twin.solves

    def beside(self, there: Callable[[], None], here: Callable[[], None]) -> None:
        """`there` on a thread of its own while `here` runs on this one; then wait for
        both. When `here` stops with an error (Ctrl-C among them) the LPs sharing
        `stop` give up at their next solve rather than finish their columns first."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            done_there = pool.submit(there)
            try:
                here()
            except BaseException:
                self.stop.set()
                raise
            done_there.result()

    def side(self, maximize: bool) -> np.ndarray:
        bounds = self.upper if maximize else self.lower
        assert bounds is not None
        return bounds

    def sweep(self, maximize: bool) -> None:
        """Solve for the sum of the unsettled columns while that settles many."""
        model, optimal = self.model, highspy.HighsModelStatus.kOptimal
        bounds = self.side(maximize)
        box = self.box_upper if maximize else self.box_lower
        while not self.stop.is_set():
            unsettled = self.interest & np.isnan(bounds) & np.isfinite(box)
            if unsettled.sum() < 2:
                break
            if model.solve(unsettled.astype(float), maximize) != optimal:
                break
            self.settle()
            settled = unsettled.sum() - np.isnan(bounds)[unsettled].sum()
            if settled < max(_SWEEP_LEAST_SETTLED, _SWEEP_LEAST_SHARE * unsettled.sum()):
                break

    def each(self, maximize: bool, columns: np.ndarray) -> None:
        """Each of `columns` not settled yet on its own, in order."""
        model, optimal = self.model, highspy.HighsModelStatus.kOptimal
        bounds = self.side(maximize)
        reached = self.reached_upper if maximize else self.reached_lower
        for col in columns:
            if self.stop.is_set():
                return
            if not np.isnan(bounds[col]):
                continue
            near = model.neighbourhood_bound(col, maximize) if self.large else None
            # the neighbourhood's min <= the LP's min <= the lowest reached (max: >=):
            # one whole number when they round alike
            if near is not None and _meets(near, reached[col], maximize):
                bounds[col] = near
                continue
            if model.solve_one(col, maximize) != optimal and maximize:
                bounds[col] = np.inf  # unbounded: nothing caps this figure
                continue
            bounds[col] = model.objective()
            self.settle()


def _meets(bound: float, reached: float, maximize: bool) -> bool:
    """Whether a bound no solution passes and a value some solution reaches round to
    the same whole number (a max rounds down, a min up)."""
    if maximize:
        return bool(np.floor(bound + _TOLERANCE) <= np.floor(reached + _TOLERANCE))
    return bool(np.ceil(bound - _TOLERANCE) >= np.ceil(reached - _TOLERANCE))


class BindingRelations:
    """The rows that bind a figure's max (or min) in the LP, strongest first.

    Solved over the figures' own bounds (not the propagated box) so that what binds is
    a relation, which a partner can loosen. Each component's LP is built when first
    asked about, and kept for the next figure of that component. In a component of more
    than `_NEIGHBOURHOOD_COLS` figures the LP of the figure's neighbourhood answers: a
    partner is a choice (the check after it decides), and what binds a figure is near it.
    """

    def __init__(
        self, system: LinearSystem, lower: np.ndarray, upper: np.ndarray, figures: np.ndarray
    ) -> None:
        self.lower, self.upper = lower, upper
        self.parts = _split(system, lower, upper, figures)
        self.group_of = {
            int(c): i for i, cols in enumerate(self.parts.groups) for c in cols.tolist()
        }
        self.models: dict[int, _ComponentLP] = {}

    def of(self, figure: int, maximize: bool, far: bool = False) -> np.ndarray:
        """`far`: when nothing binds the figure nearby, ask the whole component's LP
        (for a figure that kept failing: what binds it may be many relations away)."""
        group = self.group_of.get(figure)
        if group is None or self.parts.rows[group].size == 0:
            return np.zeros(0, dtype=np.int64)
        cols = self.parts.groups[group]
        if group not in self.models:
            self.models[group] = _ComponentLP(
                _new_highs(),
                self.parts.reduced,
                cols,
                self.parts.rows[group],
                self.lower[cols],
                self.upper[cols],
            )
        model = self.models[group]
        col = int(np.searchsorted(cols, figure))
        if cols.size > _NEIGHBOURHOOD_COLS:
            # a large component: what binds the figure nearby, at a fraction of the cost
            near = model.neighbourhood_binding_rows(col, maximize)
            if near.size or not far:
                return near
        if model.solve_one(col, maximize) != highspy.HighsModelStatus.kOptimal:
            return np.zeros(0, dtype=np.int64)
        return model.binding_rows()


# ---------------------------------------------------------------------------------------
# Protection rules.


def small_count_mask(values: np.ndarray, k: int) -> np.ndarray:
    """Primary suppression of counts: 1 to k-1 (zeros and missing values are shown).

    >>> small_count_mask(np.array([]), 10).tolist()
    []
    >>> small_count_mask(np.array([0.0, 0.0]), 10).tolist()
    [False, False]
    >>> small_count_mask(np.array([1.0, 9.0, 10.0, np.nan]), 10).tolist()
    [True, True, False, False]
    """
    with np.errstate(invalid="ignore"):
        return (values >= 1) & (values <= k - 1)


def interval_status(
    lower: np.ndarray,
    upper: np.ndarray,
    protect_upper: float,
    protection_width: float | None = None,
    may_be_small_below: float = np.inf,
    trivial_lower: np.ndarray | None = None,
) -> np.ndarray:
    """ "exact", "narrow" or "ok" for whole-number intervals of suppressed figures.

    Exact: one value is left. Narrow: the figure may hold a small count (its lowest
    possible value is below `may_be_small_below`) and leaves fewer consecutive values
    possible than the protection interval [1, protect_upper] holds, i.e.
    upper - lower < protect_upper - 1 (or < `protection_width` when given). With
    `trivial_lower` (t, see `trivial_lower_bounds`) the interval rule: the interval must
    reach down to t and up to at least t + that width, so a figure whose lowest value
    the relations lift above t is narrow too.

    >>> interval_status(np.array([]), np.array([]), 9).tolist()
    []
    >>> interval_status(np.array([3.0, 1, 1, 1, 2, 40]), np.array([3.0, 8, 9, np.inf, 9, 41]),
    ...     9, may_be_small_below=10).tolist()
    ['exact', 'narrow', 'ok', 'ok', 'narrow', 'ok']
    >>> interval_status(np.array([2.0, 2]), np.array([9.0, 5]), 9, protection_width=4).tolist()
    ['ok', 'narrow']
    >>> interval_status(np.array([3.0, 3]), np.array([20.0, 20]), 9, may_be_small_below=10,
    ...     trivial_lower=np.array([3.0, 1])).tolist()
    ['ok', 'narrow']
    >>> interval_status(np.array([np.nan]), np.array([np.nan]), 2).tolist()
    ['infeasible']
    """
    width = protect_upper - 1 if protection_width is None else protection_width
    status = np.full(len(lower), "ok", dtype=object)
    small = lower < may_be_small_below
    status[small & (upper - lower < width)] = "narrow"
    if trivial_lower is not None:
        status[small & (lower > trivial_lower + _TOLERANCE)] = "narrow"
    status[upper - lower < 1] = "exact"
    status[np.isnan(lower) | np.isnan(upper)] = "infeasible"
    return status.astype(str)


def interval_reason(
    status: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    trivial_lower: np.ndarray,
    width: float,
    may_be_small_below: float,
) -> list[str]:
    """Why each suppressed figure passes or fails the interval rule, in words.

    >>> interval_reason(np.array(["ok", "ok", "narrow", "narrow", "exact"]),
    ...     np.array([1.0, 12, 2, 1, 4]), np.array([9.0, 30, 12, 5, 4]),
    ...     np.array([1.0, 1, 1, 1, 4]), 8, 10)
    ['covers [1, 9] from its trivial lower bound 1', 'at least 12: not a small count, and not exact', 'lowest value 2 above its trivial lower bound 1', 'highest value 5 below 9 (trivial lower bound 1 + 8)', 'one value left']
    """
    reasons = []
    for s, lo, hi, t in zip(status.tolist(), lower, upper, trivial_lower, strict=True):
        if s == "infeasible":
            reasons.append("the published figures contradict its relations")
        elif s == "exact":
            reasons.append("one value left")
        elif lo >= may_be_small_below:
            reasons.append(f"at least {lo:.0f}: not a small count, and not exact")
        elif lo > t + _TOLERANCE:
            reasons.append(f"lowest value {lo:.0f} above its trivial lower bound {t:.0f}")
        elif hi - lo < width:
            reasons.append(
                f"highest value {hi:.0f} below {t + width:.0f} "
                f"(trivial lower bound {t:.0f} + {width:.0f})"
            )
        else:
            reasons.append(
                f"covers [{t:.0f}, {t + width:.0f}] from its trivial lower bound {t:.0f}"
            )
    return reasons


# ---------------------------------------------------------------------------------------
# The strict policy.


def apply_strict(
    cells: pl.DataFrame,
    k: int = 10,
    *,
    protection_width: int | None = None,
    secondary_suppression: bool = True,
    kept: np.ndarray | None = None,
) -> pl.DataFrame:
    """Primary and secondary suppression of the `strict` policy (PUBLICATION.md s.3).

    `kept` (one flag per row): cells an earlier release of the series suppressed whose
    unrounded value is unchanged (`publish.series.across_releases`); they are suppressed
    again, as primaries (PUBLICATION.md section 7).

    Primary: counts 1 to k-1; medians and percentages over fewer than k records.
    Secondary, across all linked tables at once:
    1. no suppressed count may be solved from one relation alone (a relation with one
       unknown is the first step of elimination): add the cheapest published partner,
       preferring one that closes other such relations and opens none;
    2. while the LP audit (`feasible_intervals`, the same as `did-publish audit`) finds
       a suppressed count outside its protection interval (from its trivial lower
       bound t to t + k - 2, or `protection_width`; `interval_status`), add the
       cheapest published partner from the relations that bind it in the LP (their
       duals: its minimum when its lowest value is lifted above t, else its maximum),
       one per relation and round; then step 1 again. Bound propagation goes first
       each round: what it already shows too narrow is too narrow in the LP, and
       needs no LP of its own. An exact secondary count protects nothing and showing
       it tells nothing new: after two rounds of partners it is shown again, and chosen
       again only where nothing else can open a count it pins;
    3. the removal pass (`_remove_unneeded`): each secondary count, largest first,
       shown again if the audit around it still passes; then the exchange pass
       (`_exchange_pairs`): two secondary counts that are the only suppressed ones of
       a relation shown again together, alone or with the relation's total suppressed
       instead, and the removal pass again near what changed.
    Zeros are never chosen. Deterministic: figures are numbered by their key and ties
    go to the smaller number, so row order does not matter. A median or percentage is
    also suppressed when a count behind it is, so that it cannot show that the count
    reached k. Returns the TIDY_COLUMNS of the same rows, with value null and marker
    "c" where suppressed.

    >>> empty = pl.DataFrame(schema={**{c: pl.Utf8 for c in KEY_COLUMNS}, "table": pl.Int64,
    ...     "region_name": pl.Utf8, "provider_name": pl.Utf8, "value": pl.Float64,
    ...     "records": pl.Int64, "marker": pl.Utf8})
    >>> apply_strict(empty).columns == list(TIDY_COLUMNS)
    True
    """
    # the report's link to table 1 where no table 1 cell of the provider-month is a
    # primary suppression (nor kept from an earlier release): see build_relations
    primary = pl.col("value").cast(pl.Float64).is_between(1, k - 1, closed="both")
    if kept is not None:
        primary = primary | pl.Series(np.asarray(kept, dtype=bool))
    relations = build_relations(cells, quality_link=fully_shown_months(cells, primary))
    value_column = cells["value"].cast(pl.Float64).to_numpy().copy()
    markers = cells["marker"].cast(pl.Utf8).fill_null("").to_numpy()
    figure_value = _figure_values(relations, value_column)
    _check_relations_hold(relations, figure_value)
    kept_figure = np.zeros(relations.n_figures, dtype=bool)
    if kept is not None:
        kept_cells = np.asarray(kept, dtype=bool) & (relations.cell_figure >= 0)
        kept_figure[relations.cell_figure[kept_cells]] = True
        kept_figure &= figure_value >= 1  # a count that is now zero is shown as 0
    if secondary_suppression:
        suppressed = _protect(relations, figure_value, k, protection_width, kept_figure)
    else:  # for testing the audit and attackers only: NOT protected
        suppressed = small_count_mask(figure_value, k) | kept_figure

    cell_suppressed = np.zeros(cells.height, dtype=bool)
    is_count = relations.cell_figure >= 0
    cell_suppressed[is_count] = suppressed[relations.cell_figure[is_count]]
    # medians and percentages: too few records, or a count behind them suppressed
    records = cells["records"].cast(pl.Float64).to_numpy()
    shown_ratio = ~is_count & ~np.isnan(value_column)
    # a median "x" for want of dates over records of its count: as a shown one
    # (PUBLICATION.md section 3: the count decides suppression before "no data")
    is_median = cells["measure"].cast(pl.Utf8).str.starts_with("median_").to_numpy()
    shown_ratio |= is_median & (markers == "x") & (np.nan_to_num(records, nan=0.0) > 0)
    with np.errstate(invalid="ignore"):
        cell_suppressed |= shown_ratio & (np.nan_to_num(records, nan=0.0) < k)
    if kept is not None:  # a median or percentage suppressed then is suppressed now
        cell_suppressed |= np.asarray(kept, dtype=bool) & shown_ratio
    linked = relations.ratio_cells
    if linked.size:
        hits = np.add.reduceat(
            suppressed[relations.ratio_index].astype(np.int64), relations.ratio_indptr[:-1]
        )
        hits[np.diff(relations.ratio_indptr) == 0] = 0
        cell_suppressed[linked] |= (hits > 0) & shown_ratio[linked]

    return cells.with_columns(
        pl.when(pl.Series(cell_suppressed))
        .then(None)
        .otherwise(pl.col("value").cast(pl.Float64))
        .alias("value"),
        pl.when(pl.Series(cell_suppressed))
        .then(pl.lit("c"))
        .otherwise(pl.Series(markers))
        .alias("marker"),
    ).select(TIDY_COLUMNS)


def _figure_values(relations: Relations, cell_value: np.ndarray) -> np.ndarray:
    """Each figure's value (missing counts, e.g. marker x, are zero); all its cells agree."""
    is_count = relations.cell_figure >= 0
    figure = relations.cell_figure[is_count]
    value = np.nan_to_num(cell_value[is_count], nan=0.0)
    out = np.zeros(relations.n_figures)
    out[figure] = value
    disagree = np.flatnonzero(out[figure] != value)
    if disagree.size:
        f = int(figure[disagree[0]])
        raise ValueError(
            "cells showing the same figure disagree: "
            f"{figure_label(relations.figures.row(f, named=True))}"
        )
    return out


def _check_relations_hold(relations: Relations, value: np.ndarray) -> None:
    """The suppression is proven against these relations: they must hold in the data."""
    system = relations.system
    if system.n_rows == 0:
        return
    activity = np.bincount(system.entry_row, system.coef * value[system.index], system.n_rows)
    broken = np.flatnonzero(
        (activity < system.row_lower - 0.5) | (activity > system.row_upper + 0.5)
    )
    if broken.size:
        raise ValueError(
            f"{broken.size} relations between counts do not hold in the data, e.g. "
            + relations.describe_row(int(broken[0]))
        )


def _protect(
    relations: Relations,
    value: np.ndarray,
    k: int,
    protection_width: int | None,
    kept: np.ndarray | None = None,
) -> np.ndarray:
    """The suppressed figures: primary (with `kept`, those an earlier release suppressed),
    secondary until the audit passes, then the removal pass."""
    n = relations.n_figures
    primary = small_count_mask(value, k)
    if kept is not None:
        primary |= kept
    suppressed = primary.copy()
    if not primary.any():
        return suppressed
    eligible = value >= 1  # zeros (and not-available cells) are never chosen
    system = relations.system
    equality_rows = np.flatnonzero(relations.is_equality)
    eq = system.select_rows(equality_rows)
    eq_rows_of = _transpose(eq, n)
    all_rows_of = _transpose(system, n)
    width = k - 2 if protection_width is None else protection_width
    secondary = _Secondary(
        eq, eq_rows_of, system, all_rows_of, value, eligible, suppressed, k, width
    )
    secondary.close_singletons()
    check = _Check(relations, value, k, protection_width, width)

    # Suppressing more widens every interval (a pattern's solutions stay solutions), so
    # a figure once wide enough stays so until a figure near it changes; its trivial
    # lower bound may fall, hence the full check before the end.
    lower, upper = np.full(n, np.nan), np.full(n, np.nan)
    wide = np.zeros(n, dtype=bool)
    tries = np.zeros(n, dtype=np.int64)  # rounds an exact secondary count had partners
    fails = np.zeros(n, dtype=np.int64)  # rounds a figure failed since its last widening
    changed_arr = np.flatnonzero(suppressed)
    verified = False
    # changes since the last full check: round 0 is one (nothing is wide yet, every
    # component is touched), so the check before the end is of the components changed
    # since (an unchanged component's LPs are the same LPs, and passed)
    since_verified: list[np.ndarray] = []
    started = time.perf_counter()
    for round_number in range(_MOST_ROUNDS):
        # Bound propagation first: a figure it leaves too narrow is too narrow in the
        # LP as well (its bounds hold every solution), for a fraction of one LP's cost;
        # the LP is solved for the rest, where what binds may take two relations at once.
        which = np.flatnonzero(suppressed)
        sure, sure_status, outer_lower, outer_upper = check.surely_failing(suppressed, which)
        label = check.components(suppressed)
        touched = np.zeros(n, dtype=bool)
        touched[label[changed_arr]] = True
        is_sure = np.zeros(n, dtype=bool)
        is_sure[sure] = True
        targets = np.flatnonzero(suppressed & ~wide & touched[label] & ~is_sure)
        trivial = check.intervals(suppressed, targets, lower, upper)
        lower[sure], upper[sure] = outer_lower[sure], outer_upper[sure]
        status = check.status(which, lower, upper, trivial)
        status[is_sure[which]] = sure_status
        wide[which] = status == "ok"
        failing, status = which[status != "ok"], status[status != "ok"]
        log.debug(
            "strict round %d: %d suppressed, %d failing (%d by propagation), %.1f s",
            round_number,
            which.size,
            failing.size,
            sure.size,
            time.perf_counter() - started,
        )
        if failing.size == 0:
            if verified:
                _show_unneeded(check, primary, suppressed, value, started)
                return suppressed
            # the whole of each component changed since the last full check, nothing
            # taken from earlier rounds (the others' LPs and trivial bounds are those
            # the full check found passing)
            verified = True
            changed_arr = np.unique(np.concatenate([np.zeros(0, np.int64), *since_verified]))
            again = np.zeros(n, dtype=bool)
            again[label[changed_arr]] = True
            wide[again[label]] = False
            since_verified = []
            continue
        verified = False
        exact = status == "exact"
        status_of = dict(zip(failing.tolist(), status.tolist(), strict=True))
        changed: list[int] = []
        # An exact secondary count protects nothing. It may become useful once a cell
        # beside it is suppressed too (a region total beside its hidden providers,
        # which the England total pins): it gets partners like a narrow count, a few
        # times, while other counts still need protection. One that no partner can
        # open, or that stays exact, is shown again (showing it tells nothing the
        # published figures do not already give) and never chosen again.
        exact_secondary = exact & ~primary[failing]
        exhausted = exact_secondary & (
            (tries[failing] >= _EXACT_SECONDARY_TRIES) | exact_secondary.all()
        )
        tries[failing[exact_secondary]] += 1
        # one partner per relation and round: it may be enough for several figures
        need = failing[~exhausted]
        binding = BindingRelations(
            system, np.where(suppressed, 1.0, value), np.where(suppressed, np.inf, value), need
        )
        widened = np.zeros(system.n_rows, dtype=bool)
        rows_indptr, rows_of = all_rows_of
        unopened: list[int] = []
        fails[failing] += 1
        for figure in need.tolist():
            its_rows = rows_of[rows_indptr[figure] : rows_indptr[figure + 1]]
            if fails[figure] > _STUBBORN_ROUNDS:
                # still failing after rounds of single partners (a long chain of
                # linked totals): the partners that open it all at once, by the LP of
                # a deviation that reaches its interval; failing that, every published
                # member of its relations. The removal pass shows again those that
                # were not needed
                opened, reached = _opening_to_interval(
                    secondary, figure, lower[figure], upper[figure], trivial[figure], width
                )
                changed.extend(opened.tolist())
                fails[figure] = 0
                if reached:  # with these partners, or those added for a figure before
                    continue
                members = system.index[
                    _ranges(system.indptr[its_rows], system.indptr[its_rows + 1])
                ]
                opened = np.unique(members[secondary.eligible[members] & ~suppressed[members]])
                for partner in opened.tolist():
                    secondary.add(partner)
                changed.extend(opened.tolist())
                if opened.size:
                    continue
                if not primary[figure] and status_of[figure] == "exact":
                    unopened.append(figure)
                    continue
                # nothing of its own relations is left to open: a partner further away
            if widened[its_rows].any():
                continue
            # lifted above its trivial lower bound: what binds its minimum
            lifted = lower[figure] > trivial[figure] + _TOLERANCE
            binds = binding.of(
                figure,
                maximize=bool(np.isfinite(upper[figure])) and not lifted,
                far=fails[figure] > 1,
            )
            if widened[binds].any():
                continue
            partner = secondary.partner_for(figure, binds, lower, upper)
            if partner >= 0:
                secondary.add(partner)
                changed.append(partner)
                widened[rows_of[rows_indptr[partner] : rows_indptr[partner + 1]]] = True
            elif not primary[figure] and status_of[figure] == "exact":
                unopened.append(figure)
        shown = np.concatenate([failing[exhausted], np.asarray(unopened, dtype=np.int64)])
        for figure in shown.tolist():
            secondary.withdraw(figure)
            secondary.eligible[figure] = False
        if shown.size:
            # what is left of their components holds a neighbour of each; what showing
            # them narrows further away the verifying pass before the end finds
            near = _neighbours(system, all_rows_of, shown)
            changed.extend(near.tolist())
            wide[_neighbours(system, all_rows_of, np.unique(near))] = False
        if not changed:
            break
        changed.extend(secondary.close_singletons())
        changed_arr = np.asarray(changed)
        since_verified.append(changed_arr)
        wide[changed_arr] = False
        wide[_neighbours(system, all_rows_of, changed_arr)] = False
    warnings.warn(
        "strict suppression could not protect every small count; the audit will fail",
        stacklevel=3,
    )
    return suppressed


def _show_unneeded(
    check: _Check,
    primary: np.ndarray,
    suppressed: np.ndarray,
    value: np.ndarray,
    started: float,
) -> None:
    """After the rounds (a passing pattern): the removal pass, then the exchange pass and
    the removal pass again near what it changed. Changes `suppressed` in place."""
    shown = _remove_unneeded(check, primary, suppressed, value)
    log.debug(
        "strict: removal pass: %d shown again, %d suppressed, %.1f s",
        shown.size,
        suppressed.sum(),
        time.perf_counter() - started,
    )
    exchanged = _exchange_pairs(check, primary, suppressed, value)
    if exchanged.size:  # what the exchanges made unneeded near them
        shown = _remove_unneeded(check, primary, suppressed, value, near=exchanged)
    log.debug(
        "strict: exchange pass: %d figures changed, %d shown again near them, "
        "%d suppressed, %.1f s",
        exchanged.size,
        shown.size if exchanged.size else 0,
        suppressed.sum(),
        time.perf_counter() - started,
    )


def _opening_to_interval(
    secondary: _Secondary, figure: int, lower: float, upper: float, t: float, width: float
) -> tuple[np.ndarray, bool]:
    """The partners `_Secondary.opening` finds for a failing figure, added, and whether
    they reach its interval (not when no deviation was found nearby): an exact
    count k or more (a secondary one) needs one other value; a count that may be small,
    its interval from its trivial lower bound t to t + width, upwards and downwards."""
    value = secondary.value[figure]
    if value >= secondary.k and upper - lower < _TOLERANCE:
        steps = [(1.0, 0.0)]
    else:
        steps = []
        if not upper >= t + width - _TOLERANCE:  # also when not solved (nan)
            steps.append((t + width - value + _TOLERANCE, 0.0))
        if not lower <= t + _TOLERANCE:
            steps.append((0.0, value - t))
    opened: list[int] = []
    for up, down in steps:
        if up <= 0 and down <= 0:
            continue
        found = secondary.opening(figure, up, down)
        if found is None:
            log.debug("strict: figure %d (value %g): no deviation found", figure, value)
            return np.asarray(opened, dtype=np.int64), False
        log.debug(
            "strict: figure %d (value %g) opened %s by %d partner(s) of value %g",
            figure,
            value,
            f"up {up:.0f}" if up > 0 else f"down {down:.0f}",
            found.size,
            secondary.value[found].sum(),
        )
        for partner in found.tolist():
            secondary.eligible[partner] = True
            secondary.add(partner)
            opened.append(partner)
    return np.asarray(opened, dtype=np.int64), True


# Capped sweeps for the upper bounds of a component before solving column by column.
_CAPPED_SWEEPS = 8
# How many rounds an exact secondary count is given partners before it is shown again.
_EXACT_SECONDARY_TRIES = 2
# Rounds a figure may fail with single partners before all its relations are opened.
_STUBBORN_ROUNDS = 5
# How many times a figure may be shown again and then chosen again.
_MOST_WITHDRAWALS = 3
# How many relations away a partner is sought when a figure's own are all taken.
_PARTNER_HOPS = 4
# The neighbourhood of `_Secondary.opening`'s LP: from this many relations away, one
# relation further while it finds no deviation, up to the most, or that many figures.
_OPENING_HOPS_FIRST = 3
_OPENING_HOPS = 8
_OPENING_MOST_FIGURES = 60_000
# Rounds of secondary suppression before giving up.
_MOST_ROUNDS = 200


class _Check:
    """The strict audit's rule on the unprotected values: each suppressed figure's
    feasible interval reaches from its trivial lower bound t up to t + width (or the
    figure is certainly k or more and not exact)."""

    def __init__(
        self,
        relations: Relations,
        value: np.ndarray,
        k: int,
        protection_width: int | None,
        width: float,
    ) -> None:
        self.relations, self.value, self.k = relations, value, k
        self.protection_width, self.width = protection_width, width

    def box(self, suppressed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.where(suppressed, 1.0, self.value),
            np.where(suppressed, np.inf, self.value),
        )

    def components(self, suppressed: np.ndarray) -> np.ndarray:
        system = self.relations.system
        return connected_components(len(self.value), _fold_fixed(system, self.value, ~suppressed))

    def intervals(
        self,
        suppressed: np.ndarray,
        targets: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        verdict_only: bool = False,
    ) -> np.ndarray:
        """Fill lower/upper of `targets` in place; return every figure's trivial bound.
        `verdict_only`: only their status is read, not the uppers' values (which then
        depend on how the solves were split, `feasible_intervals`)."""
        box_lower, box_upper = self.box(suppressed)
        found = feasible_intervals(
            self.relations.system,
            box_lower,
            box_upper,
            targets,
            enough_width=max(self.width, 1),
            small_below=self.k,
            verdict_only=verdict_only,
        )
        lower[targets], upper[targets] = integer_interval(
            found.lower[targets], found.upper[targets]
        )
        return self.trivial(self.relations.system, suppressed, lower)

    def propagated_t(self, system: LinearSystem, suppressed: np.ndarray) -> np.ndarray:
        """Every figure's trivial lower bound t over `system` by propagation alone."""
        return trivial_lower_bounds(system, *self.box(suppressed), suppressed)

    def trivial(
        self, system: LinearSystem, suppressed: np.ndarray, lower: np.ndarray
    ) -> np.ndarray:
        """Every figure's trivial lower bound t over `system`: propagated, and by the
        structural LP for the small suppressed figures whose `lower` is above that."""
        box_lower, box_upper = self.box(suppressed)
        t = self.propagated_t(system, suppressed)
        with np.errstate(invalid="ignore"):
            lifted = suppressed & (lower > t + _TOLERANCE) & (lower < self.k)
        return structural_lower_bounds(
            system, box_lower, box_upper, suppressed, t, np.flatnonzero(lifted)
        )

    def status(
        self,
        which: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        trivial_lower: np.ndarray | None,
    ) -> np.ndarray:
        return interval_status(
            lower[which],
            upper[which],
            self.k - 1,
            self.protection_width,
            may_be_small_below=self.k,
            trivial_lower=None if trivial_lower is None else trivial_lower[which],
        )

    def surely_failing(
        self, suppressed: np.ndarray, figures: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The `figures` that bound propagation over every relation already shows too
        narrow, their status, and every figure's propagated bounds (`_surely_failing`)."""
        return self._surely_failing(self.relations.system, suppressed, figures)

    def _surely_failing(
        self, system: LinearSystem, suppressed: np.ndarray, figures: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Propagated bounds hold every solution: a figure they leave exact, or below k
        and reaching too little above its t, fails in the LP too, without solving it
        (a lifted lowest value is left to the LP: the structural t may be higher)."""
        box_lower, box_upper = self.box(suppressed)
        trivial = self.propagated_t(system, suppressed)
        outer_lower, outer_upper = propagate_bounds(system, box_lower, box_upper)
        outer = self.status(figures, outer_lower, outer_upper, trivial_lower=None)
        too_low = outer_upper[figures] < trivial[figures] + self.width
        exact = outer == "exact"
        failing = exact | (((outer != "ok") | too_low) & (outer_upper[figures] < self.k))
        status = np.where(exact[failing], "exact", "narrow")
        return figures[failing], status, outer_lower, outer_upper

    def passes_locally(self, suppressed: np.ndarray, figures: np.ndarray) -> bool:
        """Whether `figures` pass over the relations that hold them alone (a
        relaxation of `passes`: fewer relations, wider intervals).

        Solved over the figures of those relations only, renumbered from 0
        (`LinearSystem.over`): the figures outside them are in no row of it, so they
        bound nothing, and a trial costs what its neighbourhood holds, not the whole
        publication's figures (the removal pass makes thousands of trials).
        """
        system = self.relations.system
        rows_indptr, rows_of = _transpose_cached(self, system, len(self.value))
        rows = np.unique(rows_of[_ranges(rows_indptr[figures], rows_indptr[figures + 1])])
        local = system.select_rows(rows)
        columns = np.union1d(local.index, figures)
        near = _Check(
            self.relations, self.value[columns], self.k, self.protection_width, self.width
        )  # the box, statuses and bounds of `columns` alone; its relations are unused
        return near._passes_over(
            local.over(columns), suppressed[columns], np.searchsorted(columns, figures)
        )

    def _passes_over(
        self, system: LinearSystem, suppressed: np.ndarray, figures: np.ndarray
    ) -> bool:
        """Whether `figures` pass over `system` (`passes_locally`'s test)."""
        n = len(self.value)
        if self._surely_failing(system, suppressed, figures)[0].size:
            return False
        box_lower, box_upper = self.box(suppressed)
        found = feasible_intervals(
            system,
            box_lower,
            box_upper,
            figures,
            enough_width=max(self.width, 1),
            small_below=self.k,
            verdict_only=True,
        )
        lower, upper = np.full(n, np.nan), np.full(n, np.nan)
        lower[figures], upper[figures] = integer_interval(
            found.lower[figures], found.upper[figures]
        )
        trivial = self.trivial(system, suppressed, lower)
        return bool((self.status(figures, lower, upper, trivial) == "ok").all())

    def passes(self, suppressed: np.ndarray, figures: np.ndarray) -> bool:
        """Whether every suppressed figure of `figures`' components passes."""
        label = self.components(suppressed)
        mine = np.zeros(len(self.value), dtype=bool)
        mine[label[figures]] = True
        targets = np.flatnonzero(suppressed & mine[label])
        if targets.size == 0:
            return True
        lower, upper = np.full(len(self.value), np.nan), np.full(len(self.value), np.nan)
        trivial = self.intervals(suppressed, targets, lower, upper, verdict_only=True)
        return bool((self.status(targets, lower, upper, trivial) == "ok").all())


@dataclass(frozen=True)
class _Change:
    """Figures shown again, and figures suppressed instead (an exchange), made or undone
    on a pattern in place."""

    shown: tuple[int, ...]
    hidden: tuple[int, ...] = ()

    @property
    def figures(self) -> np.ndarray:
        return np.asarray(self.shown + self.hidden, dtype=np.int64)

    def make(self, suppressed: np.ndarray) -> None:
        suppressed[list(self.shown)] = False
        suppressed[list(self.hidden)] = True

    def undo(self, suppressed: np.ndarray) -> None:
        suppressed[list(self.hidden)] = False
        suppressed[list(self.shown)] = True


class _Trial:
    """The first test of a change to a passing pattern, on its neighbourhood alone: the
    removal and exchange passes try thousands of changes, and the whole check of their
    components (`_confirm_changes`) comes once, after."""

    def __init__(self, check: _Check) -> None:
        n = len(check.value)
        self.check, self.system = check, check.relations.system
        self.rows = _transpose(self.system, n)
        self.equality = self.system.select_rows(np.flatnonzero(check.relations.is_equality))
        self.eq_indptr, self.eq_rows_of = _transpose(self.equality, n)

    def equalities_of(self, figures: np.ndarray) -> np.ndarray:
        return np.unique(
            self.eq_rows_of[_ranges(self.eq_indptr[figures], self.eq_indptr[figures + 1])]
        )

    def members(self, row: int) -> np.ndarray:
        return self.equality.index[self.equality.indptr[row] : self.equality.indptr[row + 1]]

    def within_two_relations(self, figures: np.ndarray) -> np.ndarray:
        """A mask of the figures that share a relation with `figures`, or with one of
        those: what a change at `figures` can narrow first."""
        around = np.zeros(len(self.check.value), dtype=bool)
        hops = _neighbours(self.system, self.rows, figures)
        around[hops] = True
        around[_neighbours(self.system, self.rows, np.unique(hops))] = True
        return around

    def pins_one(self, suppressed: np.ndarray, figures: np.ndarray) -> bool:
        """Whether an equality of `figures` holds one suppressed figure alone: that one
        is then exact, no LP needed to say so."""
        rows = self.equalities_of(figures)
        if rows.size == 0:
            return False
        members = self.equality.index[
            _ranges(self.equality.indptr[rows], self.equality.indptr[rows + 1])
        ]
        lengths = np.diff(self.equality.indptr)[rows]
        hidden = np.add.reduceat(
            suppressed[members].astype(np.int64), np.r_[0, np.cumsum(lengths)[:-1]]
        )
        return bool((hidden == 1).any())

    def keeps(self, suppressed: np.ndarray, figures: np.ndarray) -> bool:
        """Whether the pattern, changed at `figures`, still passes around them: the
        suppressed figures within two relations of them, over every relation that holds
        those (a relaxation: a trial may wrongly pass, never wrongly fail)."""
        near = _neighbours(self.system, self.rows, figures)
        near = np.unique(near[suppressed[near]])
        if near.size:
            further = _neighbours(self.system, self.rows, near)
            near = np.unique(np.concatenate([near, further[suppressed[further]]]))
        return near.size == 0 or self.check.passes_locally(suppressed, near)

    def tries(self, suppressed: np.ndarray, change: _Change) -> bool:
        """Make `change` if it passes both tests; undo it otherwise."""
        change.make(suppressed)
        if not self.pins_one(suppressed, change.figures) and self.keeps(suppressed, change.figures):
            return True
        change.undo(suppressed)
        return False


class _Still:
    """The figures that passed a check and still pass after figures are suppressed again,
    without a solve.

    Suppressing figures again only widens the LP (every earlier solution is still one),
    so a figure's lowest value can only fall and its highest only rise. A figure that
    passed below k had its lowest value at t; while t, propagated, is the same, its
    lowest value is still t (t holds every solution) and its highest still at least
    t + width: it passes. One whose t the structural LP lifted is solved again (that
    t reads the published figures, which changed); one at k or more too (its lowest
    value may fall below k, where the width is needed)."""

    def __init__(self, check: _Check) -> None:
        self.check = check
        self.ok = np.zeros(len(check.value), dtype=bool)
        self.t: np.ndarray | None = None

    def passing(self, suppressed: np.ndarray) -> np.ndarray:
        """The figures that pass under `suppressed` by the last checks (a mask)."""
        t = self.check.propagated_t(self.check.relations.system, suppressed)
        if self.t is not None:
            self.ok &= t == self.t
        self.t = t
        return self.ok

    def record(self, passed: np.ndarray, lower: np.ndarray, trivial: np.ndarray) -> None:
        """`passed` passed a check under the pattern `passing` was last asked about, with
        these lowest values and (final) t."""
        assert self.t is not None
        at_t = (lower[passed] < self.check.k) & (trivial[passed] == self.t[passed])
        self.ok[passed[at_t]] = True

    def forget(self) -> None:
        self.ok[:] = False
        self.t = None


def _confirm_changes(
    check: _Check, trial: _Trial, suppressed: np.ndarray, changes: list[_Change]
) -> list[_Change]:
    """The changes that stand once the components they touch (before and after them) are
    checked whole: those near a failing figure are undone and the rest checked again,
    three times; then every change in a failing component, which restores the pattern
    that passed there. Returns the changes kept.

    A check after the first is of the components that an undone change or a failing
    figure is in (before the undoing or after it): any other component holds the same
    figures under the same relations as in the check before, and passed there.

    Within those components, when every change undone only showed figures (undoing it
    suppresses them again), a figure that passed with its lowest value at its
    propagated t, below k, passes again while that t is unchanged, and is not solved
    (`_Still`): the same figures fail as in a check of all of them.
    """
    if not changes:
        return changes
    n = len(check.value)
    for change in changes[::-1]:
        change.undo(suppressed)
    before = check.components(suppressed)
    for change in changes:
        change.make(suppressed)
    # what the next check covers: the components of these figures, by these labels
    earlier, recheck = before, np.concatenate([change.figures for change in changes])
    still = _Still(check)
    for attempt in range(4):
        if not changes:
            return changes
        after = check.components(suppressed)
        near_recheck = np.zeros((2, n), dtype=bool)
        near_recheck[0, earlier[recheck]] = True
        near_recheck[1, after[recheck]] = True
        targets = np.flatnonzero(suppressed & (near_recheck[0, earlier] | near_recheck[1, after]))
        targets = targets[~still.passing(suppressed)[targets]]
        lower, upper = np.full(n, np.nan), np.full(n, np.nan)
        trivial = check.intervals(suppressed, targets, lower, upper, verdict_only=True)
        passed = check.status(targets, lower, upper, trivial) == "ok"
        still.record(targets[passed], lower, trivial)
        failing = targets[~passed]
        if failing.size == 0:
            return changes
        in_failing = np.zeros((2, n), dtype=bool)
        in_failing[0, before[failing]] = True
        in_failing[1, after[failing]] = True
        by_component = np.array(
            [
                (in_failing[0, before[c.figures]] | in_failing[1, after[c.figures]]).any()
                for c in changes
            ]
        )
        back = by_component
        if attempt < 3:
            around = trial.within_two_relations(failing)
            near = np.array([around[c.figures].any() for c in changes])
            if near.any():
                back = near
        undone = [c for c, undo in zip(changes, back, strict=True) if undo]
        for change in undone[::-1]:
            change.undo(suppressed)
        if any(change.hidden for change in undone):
            still.forget()  # an exchange undone shows its total again: nothing carries
        changes = [c for c, undo in zip(changes, back, strict=True) if not undo]
        earlier, recheck = after, np.concatenate([failing, *(c.figures for c in undone)])
    return changes


def _remove_unneeded(
    check: _Check,
    primary: np.ndarray,
    suppressed: np.ndarray,
    value: np.ndarray,
    near: np.ndarray | None = None,
) -> np.ndarray:
    """Each secondary figure, largest value first, shown again if the audit still
    passes without it (later additions can make earlier ones unneeded); with `near`,
    only the secondary figures within two relations of those. Returns the figures
    shown again.

    Each trial solves only the neighbourhood of the figure (`_Trial`); the changed
    components are then checked whole (`_confirm_changes`).
    """
    trial = _Trial(check)
    candidates = np.flatnonzero(suppressed & ~primary)
    if near is not None:
        candidates = candidates[trial.within_two_relations(near)[candidates]]
    changes = [
        change
        for figure in candidates[np.lexsort((candidates, -value[candidates]))].tolist()
        if trial.tries(suppressed, change := _Change(shown=(figure,)))
    ]
    kept = _confirm_changes(check, trial, suppressed, changes)
    return np.asarray([c.shown[0] for c in kept], dtype=np.int64)


def _exchange_pairs(
    check: _Check, primary: np.ndarray, suppressed: np.ndarray, value: np.ndarray
) -> np.ndarray:
    """Changes of two secondary figures at once, which the removal pass, one figure at a
    time, cannot make (showing one pins the other, or leaves a count too narrow). Two
    passes, each confirmed whole (`_confirm_changes`): (1) the two suppressed figures of
    an equality that holds no others, both secondary, shown again together; (2) two
    secondary parts of an equality shown again and its total (published, not zero)
    suppressed instead: one secondary cell fewer. Largest pair first, ties to the
    smaller figures. Returns the figures changed."""
    trial = _Trial(check)
    equality = trial.equality
    secondary = suppressed & ~primary
    row_count = functools.partial(np.bincount, equality.entry_row, minlength=equality.n_rows)
    hidden_count = row_count(suppressed[equality.index].astype(np.int64))
    secondary_count = row_count(secondary[equality.index].astype(np.int64))
    positive_count = row_count((equality.coef > 0).astype(np.int64))
    alone: set[tuple[int, int]] = set()
    for_total: set[tuple[int, int, int]] = set()
    for row in np.flatnonzero(secondary_count >= 2).tolist():
        members = trial.members(row)
        parts = members[secondary[members]]
        if hidden_count[row] == 2:
            alone.add((int(parts[0]), int(parts[1])))
        coef = equality.coef[equality.indptr[row] : equality.indptr[row + 1]]
        total = members[coef > 0]
        if positive_count[row] != 1 or suppressed[total[0]] or value[total[0]] < 1:
            continue
        parts = parts[coef[secondary[members]] < 0]
        for a, b in itertools.combinations(sorted(parts.tolist()), 2):
            for_total.add((a, b, int(total[0])))
    changed: list[np.ndarray] = []
    for candidates in (alone, for_total):
        changes = []
        touched = np.zeros(len(value), dtype=bool)  # a figure changes once a pass
        for pair in sorted(candidates, key=lambda c: (-(value[c[0]] + value[c[1]]), c)):
            change = _Change(shown=pair[:2], hidden=pair[2:])
            if (
                touched[change.figures].any()
                or not suppressed[list(change.shown)].all()
                or suppressed[list(change.hidden)].any()
            ):
                continue
            if trial.tries(suppressed, change):
                changes.append(change)
                touched[change.figures] = True
        kept = _confirm_changes(check, trial, suppressed, changes)
        changed += [change.figures for change in kept]
    return np.concatenate([np.zeros(0, dtype=np.int64), *changed])


def _transpose_cached(owner: object, system: LinearSystem, n: int) -> tuple[np.ndarray, np.ndarray]:
    cached = getattr(owner, "_rows_of", None)
    if cached is None:
        cached = _transpose(system, n)
        owner._rows_of = cached  # type: ignore[attr-defined]
    return cached


def _transpose(system: LinearSystem, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Figure -> rows (CSC of the row system): (indptr, rows)."""
    order = np.argsort(system.index, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(system.index, minlength=n))])
    return indptr.astype(np.int64), system.entry_row[order]


def _neighbours(
    system: LinearSystem, rows_of: tuple[np.ndarray, np.ndarray], figures: np.ndarray
) -> np.ndarray:
    indptr, rows = rows_of
    touched = np.unique(rows[_ranges(indptr[figures], indptr[figures + 1])])
    return system.index[_ranges(system.indptr[touched], system.indptr[touched + 1])]


class _Secondary:
    """The choice of secondary suppressions over the equality relations."""

    def __init__(
        self,
        eq: LinearSystem,
        rows_of: tuple[np.ndarray, np.ndarray],
        system: LinearSystem,
        system_rows_of: tuple[np.ndarray, np.ndarray],
        value: np.ndarray,
        eligible: np.ndarray,
        suppressed: np.ndarray,
        k: int,
        width: float,
    ) -> None:
        self.eq, self.value, self.k, self.width = eq, value, k, width
        self.rows_indptr, self.rows = rows_of
        # every relation, subsets included: where partners for a narrow figure are sought
        self.system, self.system_rows_of = system, system_rows_of
        self.eligible = eligible
        self.withdrawn = np.zeros(eligible.shape, dtype=np.int64)  # times shown again
        self.suppressed = suppressed  # shared with the caller, updated in place
        self.unknowns = np.bincount(eq.entry_row, suppressed[eq.index].astype(np.int64), eq.n_rows)
        self.queue = [int(r) for r in np.flatnonzero(self.unknowns == 1)]
        heapq.heapify(self.queue)

    def members(self, row: int) -> np.ndarray:
        return self.eq.index[self.eq.indptr[row] : self.eq.indptr[row + 1]]

    def rows_of(self, figure: int) -> np.ndarray:
        return self.rows[self.rows_indptr[figure] : self.rows_indptr[figure + 1]]

    def add(self, figure: int) -> None:
        self.suppressed[figure] = True
        for row in self.rows_of(figure):
            self.unknowns[row] += 1
            if self.unknowns[row] == 1:
                heapq.heappush(self.queue, int(row))

    def withdraw(self, figure: int) -> None:
        self.suppressed[figure] = False
        self.withdrawn[figure] += 1
        for row in self.rows_of(figure):
            self.unknowns[row] -= 1
            if self.unknowns[row] == 1:
                heapq.heappush(self.queue, int(row))

    def cost(self, candidates: np.ndarray, row: int) -> np.ndarray:
        """Value, plus k for each relation it would open, minus k for each it closes."""
        starts, ends = self.rows_indptr[candidates], self.rows_indptr[candidates + 1]
        their_rows = self.rows[_ranges(starts, ends)]
        owner = np.repeat(np.arange(candidates.size), ends - starts)
        other = their_rows != row
        opens = np.bincount(owner[other], self.unknowns[their_rows[other]] == 0, candidates.size)
        closes = np.bincount(owner[other], self.unknowns[their_rows[other]] == 1, candidates.size)
        return self.value[candidates] + self.k * (opens - closes)

    def cheapest(self, members: np.ndarray, row: int = -1, again: bool = False) -> int:
        """The cheapest member that may still be suppressed (-1 if none); `again`: or
        that was shown again fewer than `_MOST_WITHDRAWALS` times."""
        may = self.eligible[members]
        if again:
            times = self.withdrawn[members]
            may |= (times > 0) & (times < _MOST_WITHDRAWALS) & (self.value[members] >= 1)
        candidates = members[may & ~self.suppressed[members]]
        if candidates.size == 0:
            return -1
        cost = self.cost(candidates, row)
        best = np.lexsort((candidates, self.value[candidates], cost))[0]
        return int(candidates[best])

    def close_singletons(self) -> list[int]:
        """Until no relation has exactly one suppressed count, suppress a partner."""
        added = []
        while self.queue:
            row = heapq.heappop(self.queue)
            if self.unknowns[row] != 1:
                continue
            partner = self.cheapest(self.members(row), row)
            if partner >= 0:
                self.add(partner)
                added.append(partner)
        return added

    def partner_for(
        self, figure: int, binding: np.ndarray, lower: np.ndarray, upper: np.ndarray
    ) -> int:
        """The cheapest partner in the relations that bind `figure` in the LP; failing
        those, in the relation that pins it most tightly; failing that, one further."""
        system = self.system
        indptr, rows_of = self.system_rows_of

        def members(row: int) -> np.ndarray:
            return system.index[system.indptr[row] : system.indptr[row + 1]]

        if binding.size:
            entries = _ranges(system.indptr[binding], system.indptr[binding + 1])
            partner = self.cheapest(np.unique(system.index[entries]))
            if partner >= 0:
                return partner
        rows = rows_of[indptr[figure] : indptr[figure + 1]]
        if rows.size == 0:
            return -1
        sub = system.select_rows(rows)
        # the box of the figures of these rows only (the whole box is O(figures) a call)
        near, local = np.unique(sub.index, return_inverse=True)
        hidden = self.suppressed[near]
        near_lower, near_upper = lower[near], upper[near]
        box_lower = np.where(hidden & ~np.isnan(near_lower), near_lower, 1.0)
        box_upper = np.where(hidden & ~np.isnan(near_upper), near_upper, np.inf)
        box_lower = np.where(hidden, box_lower, self.value[near])
        box_upper = np.where(hidden, box_upper, self.value[near])
        sub = LinearSystem(sub.indptr, local, sub.coef, sub.row_lower, sub.row_upper)
        implied_lower, implied_upper = _implied_bounds(
            sub, sub.entry_row, sub.coef > 0, box_lower, box_upper, sub.n_rows
        )
        mine = near[sub.index] == figure
        row_lower = np.maximum(implied_lower[mine], 1.0)
        row_upper = implied_upper[mine]
        # the relations that alone leave too few values: the cheapest partner among them
        too_tight = rows[row_upper - row_lower < self.width]
        if too_tight.size:
            partner = self.cheapest(
                np.unique(
                    system.index[_ranges(system.indptr[too_tight], system.indptr[too_tight + 1])]
                )
            )
            if partner >= 0:
                return partner
        for position in np.lexsort((-row_lower, row_upper)):
            partner = self.cheapest(members(int(rows[position])))
            if partner >= 0:
                return partner
        # every partner in its own relations is taken. A total shown again because it
        # stayed exact may be what pins this one (an exact figure hidden or shown
        # leaves the LP the same; propagation tells them apart): hidden again, it gets
        # partners of its own
        for row in rows:
            partner = self.cheapest(members(int(row)), again=True)
            if partner >= 0:
                self.eligible[partner] = True
                return partner
        # failing that, look further, one relation at a time: the cheapest partner of
        # the nearest relations that have one
        seen = np.zeros(self.value.size, dtype=bool)
        for _ in range(_PARTNER_HOPS):
            near = np.unique(system.index[_ranges(system.indptr[rows], system.indptr[rows + 1])])
            near = near[~seen[near]]
            if near.size == 0:
                return -1
            seen[near] = True
            rows = np.unique(rows_of[_ranges(indptr[near], indptr[near + 1])])
            best, best_cost = -1, np.inf
            for row in rows.tolist():
                partner = self.cheapest(members(row))
                if partner >= 0:
                    cost = self.cost(np.array([partner]), -1)[0]
                    if (cost, self.value[partner], partner) < (
                        best_cost,
                        self.value[best] if best >= 0 else np.inf,
                        best,
                    ):
                        best, best_cost = partner, cost
            if best >= 0:
                return best
        return -1

    def opening(self, figure: int, up: float, down: float) -> np.ndarray | None:
        """The published figures to suppress so that `figure` may reach `up` above its
        true value (or `down` below it, when `up` is 0), all at once.

        A deviation z from the true values that keeps every relation, moves no figure
        that stays published and keeps each count at least 1 is a solution the pattern
        then admits: the figures it moves, suppressed, let `figure` reach value + z.
        The LP finds the cheapest such deviation (each published figure's value per
        unit moved; suppressed ones move freely) among the figures a few relations
        away, then further (the separation step of Fischetti and Salazar's model of
        cell suppression, for one figure). None when no deviation is found.
        """
        system = self.system
        indptr, rows_of = self.system_rows_of
        near = np.array([figure], dtype=np.int64)
        for hops in range(1, _OPENING_HOPS + 1):
            rows = np.unique(rows_of[_ranges(indptr[near], indptr[near + 1])])
            wider = np.unique(system.index[_ranges(system.indptr[rows], system.indptr[rows + 1])])
            last = hops == _OPENING_HOPS or wider.size > _OPENING_MOST_FIGURES
            if wider.size <= _OPENING_MOST_FIGURES:
                near = wider
            if hops >= _OPENING_HOPS_FIRST or last:
                found = self._cheapest_deviation(figure, near, up, down)
                if found is not None or last:
                    return found
        return None

    def _cheapest_deviation(
        self, figure: int, near: np.ndarray, up: float, down: float
    ) -> np.ndarray | None:
        """`opening`'s LP over the figures `near` (columns: the rise and the fall of
        each) and every relation that holds any of them (the figures of those outside
        `near` keep their values); None when infeasible."""
        system = self.system
        indptr, rows_of = self.system_rows_of
        rows = np.unique(rows_of[_ranges(indptr[near], indptr[near + 1])])
        entries = _ranges(system.indptr[rows], system.indptr[rows + 1])
        members = system.index[entries]
        coef = system.coef[entries]
        entry_row = np.repeat(np.arange(rows.size), np.diff(system.indptr)[rows])
        # the true values keep each relation; what is left of its bounds is the room
        activity = np.bincount(entry_row, coef * self.value[members], rows.size)
        row_lower = system.row_lower[rows] - activity
        row_upper = system.row_upper[rows] - activity
        position = np.searchsorted(near, members)
        inside = (position < near.size) & (near[np.minimum(position, near.size - 1)] == members)
        col = position[inside]
        m = near.size
        hidden = self.suppressed[near]
        # any count of 1 or more, one shown again included: the deviation shows it
        # is not left exact by the figures it opens with
        movable = hidden | (self.value[near] >= 1)
        rise_upper = np.where(movable, np.inf, 0.0)
        fall_upper = np.where(movable, np.maximum(self.value[near] - 1.0, 0.0), 0.0)
        rise_lower, fall_lower = np.zeros(m), np.zeros(m)
        me = int(np.searchsorted(near, figure))
        if up > 0:
            rise_lower[me], rise_upper[me], fall_upper[me] = up, np.inf, 0.0
        else:
            fall_lower[me], rise_upper[me] = down, 0.0
            if fall_upper[me] < down:
                return None
        lp = _columnwise_lp(
            np.concatenate([col, col + m]),
            np.concatenate([entry_row[inside], entry_row[inside]]),
            np.concatenate([coef[inside], -coef[inside]]),
            np.concatenate([rise_lower, fall_lower]),
            np.concatenate([rise_upper, fall_upper]),
            row_lower,
            row_upper,
        )
        cost = np.where(hidden, 0.0, np.maximum(self.value[near], 1.0))
        lp.col_cost_ = np.concatenate([cost, cost])
        highs = _new_highs()
        highs.setOptionValue("presolve", "on")
        highs.passModel(lp)
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        solution = np.asarray(highs.getSolution().col_value)
        moved = np.abs(solution[:m] - solution[m:]) > _TOLERANCE
        return near[moved & ~hidden]


__all__ = [
    "KEY_COLUMNS",
    "BindingRelations",
    "Intervals",
    "LinearSystem",
    "Relations",
    "apply_strict",
    "build_relations",
    "connected_components",
    "feasible_intervals",
    "figure_label",
    "integer_interval",
    "interval_status",
    "is_count_measure",
    "propagate_bounds",
    "ratio_threshold_rows",
    "small_count_mask",
    "structural_lower_bounds",
    "trivial_lower_bounds",
]
