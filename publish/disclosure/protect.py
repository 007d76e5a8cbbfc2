"""Stage 5, protect: disclosure control of every cell (PUBLICATION.md section 3).

`did` and `hes` are cell-by-cell rules, written here as data (`CellRules`) so their
differences read side by side; `strict` adds secondary suppression across linked tables
and lives in `publish.disclosure.control`. Every renderer reads only what `protect_cells`
returns: no unrounded or unsuppressed figure can reach an output.

>>> cells = pl.DataFrame({
...     "geography_level": ["provider", "provider", "provider", "england"],
...     "measure": ["activity_count"] * 4,
...     "value": [2.0, 3.0, 0.0, 2.0], "records": [2, 3, 0, 2], "marker": ["", "", "", ""]})
>>> protected = apply_cell_rules(cells, make_policy("did").cell_rules)
>>> protected["value"].to_list(), protected["marker"].to_list()
([None, 5.0, 0.0, 0.0], ['c', '', '', ''])
>>> apply_cell_rules(cells.clear(), make_policy("did").cell_rules).height
0
"""

import polars as pl

from publish.disclosure.policy import CellRules, Policy, make_policy  # noqa: F401 (doctest)


def is_count_measure(measure: pl.Expr) -> pl.Expr:
    return measure.str.starts_with("activity_count") | measure.str.starts_with("count_")


def round_to_nearest(value: pl.Expr, base: int) -> pl.Expr:
    """Nearest multiple of base, halves up (counts are whole, so 5 never ties)."""
    return ((value + base // 2) // base) * base


def apply_cell_rules(cells: pl.DataFrame, rules: CellRules) -> pl.DataFrame:
    """Suppress and round cell by cell; cells already marked (c, x, z) pass unchanged."""
    is_england = pl.col("geography_level") == "england"
    is_count = is_count_measure(pl.col("measure"))
    is_median = pl.col("measure").str.starts_with("median_")
    # A percentage's records are the tests it is based on (its denominator; table 13's
    # time bands: those with a known report time): suppressed as that count would be.
    is_percent = pl.col("measure").str.starts_with("percent_")
    has_value = (pl.col("marker") == "") & pl.col("value").is_not_null()
    small_count = pl.col("records").is_between(1, rules.suppress_counts_below - 1)
    small_median = pl.col("records").is_between(1, rules.suppress_medians_below - 1)
    # A median's records are its count cell's, dates or not: the count decides
    # suppression before "no data" (PUBLICATION.md section 3), so a median of 1 or 2
    # tests none of which has the dates is "c", as NHS England's "*", never "x".
    median_shown_or_undated = has_value | (pl.col("marker") == "x")
    suppressed = (has_value & (is_count | is_percent) & small_count & ~is_england) | (
        median_shown_or_undated
        & is_median
        & small_median
        & (pl.lit(rules.suppress_england_medians) | ~is_england)
    )
    rounds = has_value & is_count & (pl.lit(rules.round_england_counts) | ~is_england)
    return cells.with_columns(
        pl.when(suppressed)
        .then(None)
        .when(rounds)
        .then(round_to_nearest(pl.col("value"), rules.round_counts_to))
        .otherwise(pl.col("value"))
        .alias("value"),
        pl.when(suppressed).then(pl.lit("c")).otherwise(pl.col("marker")).alias("marker"),
    )


def hide_proportions_of_few_cases(cells: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """A proportion of the catalog's `percent_cases` (table 13) based on fewer than
    `policy.min_cases_for_proportion` tests is published empty with `c`, as NHS England
    leaves it empty (at England only where the policy hides England's medians).

    Its records are the tests it is based on: the row's tests for the share whose report
    time is not known, those with a known report time for the time bands. Applied
    before the policy's own protection, which passes a `c` cell unchanged; the audit
    reads such a proportion as unpublished (it bounds nothing).

    >>> cells = pl.DataFrame({"table": [13, 13, 13, 10], "geography_level": ["provider"] * 4,
    ...     "measure": ["percent_report_time_not_known", "percent_reported_by_next_day",
    ...                 "activity_count", "percent_reported_by_next_day"],
    ...     "value": [25.0, 75.0, 8.0, 75.0], "records": [8, 6, 8, 6], "marker": [""] * 4})
    >>> hidden = hide_proportions_of_few_cases(cells, make_policy("did"))
    >>> hidden["value"].to_list(), hidden["marker"].to_list()
    ([25.0, None, 8.0, 75.0], ['', 'c', '', ''])
    """
    from publish.tables import MeasureSource, tables_made_by

    pairs = [
        (t.number, measure)
        for t in tables_made_by(MeasureSource)
        for measure, _ in t.source.percent_cases
    ]
    if not pairs:
        return cells
    listed = pl.struct("table", "measure").is_in(
        pl.DataFrame(pairs, schema={"table": pl.Int64, "measure": pl.Utf8}, orient="row")
        .to_struct()
        .implode()
    )
    few = (
        listed
        & (pl.col("marker") == "")
        & pl.col("value").is_not_null()
        & (pl.col("records") < policy.min_cases_for_proportion)
        & (pl.lit(policy.hides_england_ratios) | (pl.col("geography_level") != "england"))
    )
    return cells.with_columns(
        pl.when(few).then(None).otherwise(pl.col("value")).alias("value"),
        pl.when(few).then(pl.lit("c")).otherwise(pl.col("marker")).alias("marker"),
    )


def suppress_with_denominator(protected: pl.DataFrame) -> pl.DataFrame:
    """A percentage whose published denominator is suppressed is suppressed too.

    Otherwise the percentage and its numerator would narrow the hidden denominator.
    """
    from publish.tables import CELL_KEY_COLUMNS, MeasureSource, tables_made_by

    row_key = [column for column in CELL_KEY_COLUMNS if column != "measure"]
    pairs = pl.DataFrame(
        [
            (t.number, measure, denominator)
            for t in tables_made_by(MeasureSource)
            for measure, _, denominator in t.source.percents
        ],
        schema={"table": pl.Int64, "measure": pl.Utf8, "denominator": pl.Utf8},
        orient="row",
    )
    hidden = (
        protected.filter(pl.col("marker") == "c")
        .select(*row_key, pl.col("measure").alias("denominator"))
        .join(pairs, on=["table", "denominator"])
        .select(*row_key, "measure")
        .with_columns(pl.lit(True).alias("denominator_hidden"))
    )
    joined = protected.join(hidden, on=[*row_key, "measure"], how="left")
    follow = pl.col("denominator_hidden").fill_null(False) & (pl.col("marker") == "")
    return joined.with_columns(
        pl.when(follow).then(None).otherwise(pl.col("value")).alias("value"),
        pl.when(follow).then(pl.lit("c")).otherwise(pl.col("marker")).alias("marker"),
    ).drop("denominator_hidden")


def protect_cells(
    cells: pl.DataFrame, policy: Policy, kept: pl.Series | None = None
) -> pl.DataFrame:
    """The published value and marker of every cell under the policy.

    `policy.secondary_suppression = False` (strict only) publishes the primary
    suppression alone: NOT protected, for testing the audit and attackers. `kept`
    (strict, a flag per row): cells suppressed again because an earlier release of the
    series suppressed them and their value is unchanged (`publish.series`); under a
    cell-by-cell policy an unchanged cell gets the same suppression by itself."""
    cells = hide_proportions_of_few_cases(cells, policy)
    if policy.cell_rules is None:
        from publish.disclosure.control import apply_strict

        protected = apply_strict(
            cells,
            k=policy.k,
            secondary_suppression=policy.secondary_suppression,
            kept=None if kept is None else kept.to_numpy(),
        )
        if policy.secondary_suppression:
            protected = hide_linked_quality_totals(protected)
    else:
        protected = apply_cell_rules(cells, policy.cell_rules)
    return suppress_with_denominator(protected)


# The data-quality report's provider-month totals that add up to, or bound, the sum of
# the provider-month's table 1 cells (publish.quality.report, publish.disclosure.control).
LINKED_QUALITY_TOTALS = (
    "count_records_received",
    "count_records_accepted",
    "count_records_counted",
)


def hide_linked_quality_totals(protected: pl.DataFrame) -> pl.DataFrame:
    """Under `strict`: a provider-month's records received, accepted and counted are
    suppressed wherever its table 1 row has a suppressed cell in that month.

    Records counted = the sum of the provider-month's table 1 cells over modalities, and
    accepted and received bound it: shown, they give the hidden cells' sum (RJ6's 89
    accepted less its shown 86: the hidden Fluoroscopy cell is 3). Hidden, they leave it
    open. Suppressing more never narrows an interval, so the report's own relations stay
    protected. (The link is not an LP relation of the suppression: see
    `publish.disclosure.control.build_relations`.)
    """
    from publish.disclosure.control import table1_provider_month
    from publish.tables import QUALITY_TABLE

    hidden = (
        protected.filter(table1_provider_month() & (pl.col("marker") == "c"))
        .select("region_code", "provider_code", "period")
        .unique()
        .with_columns(pl.lit(True).alias("_linked_hidden"))
    )
    if hidden.height == 0:
        return protected
    joined = protected.join(hidden, on=["region_code", "provider_code", "period"], how="left")
    hide = (
        (pl.col("table") == QUALITY_TABLE)
        & (pl.col("geography_level") == "provider")
        & pl.col("measure").is_in(list(LINKED_QUALITY_TOTALS))
        & pl.col("_linked_hidden").fill_null(False)
        & (pl.col("value").fill_null(0) > 0)
    )
    return joined.with_columns(
        pl.when(hide).then(None).otherwise(pl.col("value")).alias("value"),
        pl.when(hide).then(pl.lit("c")).otherwise(pl.col("marker")).alias("marker"),
    ).drop("_linked_hidden")
