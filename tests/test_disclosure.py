"""The strict policy's suppression and the relations it is proven against."""

import doctest
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import publish.disclosure.audit
import publish.disclosure.control
from publish.disclosure.control import (
    LinearSystem,
    apply_strict,
    build_relations,
    feasible_intervals,
    fully_shown_months,
    integer_interval,
    propagate_bounds,
    small_count_mask,
)
from publish.tables import CELL_KEY_COLUMNS, QUALITY_TABLE, TIDY_COLUMNS

MONTHS = ("2024-04", "2024-05", "2024-06")
YTD = f"{MONTHS[0]}/{MONTHS[-1]}"
SETTINGS = ("A&E", "Inpatient", "Outpatient", "GP Direct Access")
MODALITIES = ("Computerized Axial Tomography", "Magnetic Resonance Imaging", "Fluoroscopy")
CELL_SCHEMA = {
    "table": pl.Int64,
    "geography_level": pl.Utf8,
    "region_code": pl.Utf8,
    "region_name": pl.Utf8,
    "provider_code": pl.Utf8,
    "provider_name": pl.Utf8,
    "modality": pl.Utf8,
    "source_setting": pl.Utf8,
    "period": pl.Utf8,
    "measure": pl.Utf8,
    "value": pl.Float64,
    "records": pl.Int64,
    "marker": pl.Utf8,
}


def linked_cells(
    counts: np.ndarray,
    regions: list[str],
    interventional: np.ndarray | None = None,
    medians: bool = False,
) -> pl.DataFrame:
    """Tables 1 and 11 (and 12, 2) at every level from tests by provider x modality x
    month x source setting: `counts[p, m, t, s]`, provider p in region `regions[p]`."""
    n_providers, n_modalities, n_months, n_settings = counts.shape
    groups = [("england", "", "", list(range(n_providers)))]
    groups += [
        ("region", code, "", [p for p in range(n_providers) if regions[p] == code])
        for code in sorted(set(regions))
    ]
    groups += [("provider", regions[p], f"P{p:02d}", [p]) for p in range(n_providers)]
    rows = []

    def add(table, level, region, provider, modality, setting, period, value, measure=None):
        rows.append(
            (
                table,
                level,
                region,
                f"Region {region}" if region else "",
                provider,
                f"Provider {provider}" if provider else "",
                modality,
                setting,
                period,
                measure or "activity_count",
                float(value),
                int(value),
                "",
            )
        )

    for level, region, provider, members in groups:
        inner = counts[members].sum(axis=0)
        ir = None if interventional is None else interventional[members].sum(axis=0)
        for m in range(n_modalities):
            modality = MODALITIES[m]
            for t, month in enumerate(MONTHS[:n_months]):
                add(1, level, region, provider, modality, "All", month, inner[m, t].sum())
                if ir is not None:
                    add(12, level, region, provider, modality, "All", month, ir[m, t].sum())
                if medians:
                    add(
                        2,
                        level,
                        region,
                        provider,
                        modality,
                        "All",
                        month,
                        inner[m, t].sum(),
                        "median_days_request_to_test",
                    )
            add(1, level, region, provider, modality, "All", YTD, inner[m].sum())
            if ir is not None:
                add(12, level, region, provider, modality, "All", YTD, ir[m].sum())
            for s in range(n_settings):
                add(11, level, region, provider, modality, SETTINGS[s], YTD, inner[m, :, s].sum())
            add(11, level, region, provider, modality, "All", YTD, inner[m].sum())
    cells = pl.DataFrame(rows, schema=CELL_SCHEMA, orient="row")
    # a median's value is made up; its records are the count's
    is_median = pl.col("measure") != "activity_count"
    return cells.with_columns(
        pl.when(is_median & (pl.col("records") == 0))
        .then(None)
        .when(is_median)
        .then(pl.col("records") % 7 + 0.5)
        .otherwise(pl.col("value"))
        .alias("value"),
        pl.when(is_median & (pl.col("records") == 0))
        .then(pl.lit("x"))
        .otherwise(pl.col("marker"))
        .alias("marker"),
    )


@st.composite
def small_linked_counts(draw):
    """A few providers in two regions, a few modalities, 3 months, many small counts."""
    n_providers = draw(st.integers(2, 5))
    n_modalities = draw(st.integers(1, 3))
    n_settings = draw(st.integers(1, 3))
    shape = (n_providers, n_modalities, len(MONTHS), n_settings)
    value = st.one_of(st.just(0), st.integers(1, 4), st.integers(5, 40))
    flat = draw(st.lists(value, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    regions = ["Y56"] + draw(
        st.lists(
            st.sampled_from(["Y56", "Y58"]), min_size=n_providers - 1, max_size=n_providers - 1
        )
    )
    return np.array(flat, dtype=np.int64).reshape(shape), regions


def hidden_intervals(
    system: LinearSystem, value: np.ndarray, hidden: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Whole-number feasible intervals of the `hidden` figures as an outsider sees them:
    each at least 1 and unbounded above, the others at their values."""
    found = feasible_intervals(
        system,
        np.where(hidden, 1.0, value),
        np.where(hidden, np.inf, value),
        np.flatnonzero(hidden),
    )
    return integer_interval(found.lower, found.upper)


def suppressed_figures(cells: pl.DataFrame, protected: pl.DataFrame) -> set[tuple]:
    keys = list(CELL_KEY_COLUMNS)
    return set(protected.filter(pl.col("marker") == "c").select(keys).iter_rows())


def test_doctests():
    for module in (publish.disclosure.control, publish.disclosure.audit):
        assert doctest.testmod(module).failed == 0


def test_relations_of_linked_tables():
    counts = np.arange(2 * 1 * 3 * 2).reshape(2, 1, 3, 2)
    cells = linked_cells(counts, ["Y56", "Y58"])
    relations = build_relations(cells)
    # table 1 year to date and table 11 All are one figure
    t1_ytd = cells.with_row_index().filter(
        (pl.col("table") == 1)
        & (pl.col("period") == YTD)
        & (pl.col("geography_level") == "england")
    )["index"][0]
    t11_all = cells.with_row_index().filter(
        (pl.col("table") == 11)
        & (pl.col("source_setting") == "All")
        & (pl.col("geography_level") == "england")
    )["index"][0]
    assert relations.cell_figure[t1_ytd] == relations.cell_figure[t11_all]
    kinds = dict(zip(*np.unique(relations.kind, return_counts=True), strict=True))
    # geography: per (table line) England over 2 regions, 2 regions over 1 provider each
    assert kinds == {"geography": 3 * (3 + 1 + 2), "time": 5, "settings": 5}
    value = np.zeros(relations.n_figures)
    value[relations.cell_figure] = cells["value"].to_numpy()
    system = relations.system
    activity = np.bincount(system.entry_row, system.coef * value[system.index], system.n_rows)
    assert np.allclose(activity, 0)


def test_primary_suppression_alone_is_recoverable_and_strict_is_not():
    counts = np.zeros((2, 1, 3, 1), dtype=np.int64)
    counts[0, 0, :, 0] = [3, 20, 30]
    counts[1, 0, :, 0] = [15, 25, 35]
    cells = linked_cells(counts, ["Y56", "Y56"])
    relations = build_relations(cells)
    value = np.zeros(relations.n_figures)
    value[relations.cell_figure] = cells["value"].to_numpy()
    primary = small_count_mask(value, 10)
    assert primary.sum() == 1
    lower = np.where(primary, 1.0, value)
    upper = np.where(primary, np.inf, value)
    found = feasible_intervals(relations.system, lower, upper, np.flatnonzero(primary))
    low, high = integer_interval(found.lower, found.upper)
    assert low[primary].tolist() == high[primary].tolist() == [3.0]  # 53 - 20 - 30

    protected = apply_strict(cells)
    hidden = np.zeros(relations.n_figures, dtype=bool)
    hidden[relations.cell_figure[(protected["marker"] == "c").to_numpy()]] = True
    assert hidden.sum() > 1 and (hidden >= primary).all()
    low, high = hidden_intervals(relations.system, value, hidden)
    assert low[primary].tolist() == [1.0] and high[primary][0] >= 9


def test_output_has_tidy_columns_and_same_rows():
    counts = np.array([[[[1, 2], [0, 40], [3, 30]]], [[[50, 1], [45, 35], [0, 20]]]])
    cells = linked_cells(counts, ["Y56", "Y58"])
    protected = apply_strict(cells)
    assert protected.columns == list(TIDY_COLUMNS)
    assert protected.height == cells.height
    same = protected.filter(pl.col("marker") != "c")
    original = cells.filter(pl.Series((protected["marker"] != "c").to_numpy()))
    assert same["value"].to_list() == original["value"].to_list()
    suppressed = cells.filter(pl.Series((protected["marker"] == "c").to_numpy()))
    assert suppressed.height > 0 and suppressed["value"].min() >= 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_linked_counts(), st.randoms(use_true_random=False))
def test_same_input_same_pattern_and_zeros_never_chosen(drawn, random):
    counts, regions = drawn
    cells = linked_cells(counts, regions)
    first = apply_strict(cells)
    shuffled = cells.with_row_index().sample(
        fraction=1.0, shuffle=True, seed=random.randint(0, 10**6)
    )
    second = apply_strict(shuffled.drop("index"))
    assert suppressed_figures(cells, first) == suppressed_figures(cells, second)
    assert first.equals(apply_strict(cells))
    chosen = cells.filter(pl.Series((first["marker"] == "c").to_numpy()))
    assert chosen.height == 0 or chosen["value"].min() >= 1
    # every small count is suppressed, and a suppressed cell is suppressed in every table
    small = cells.filter((pl.col("value") >= 1) & (pl.col("value") <= 9))
    assert set(small.select(first.columns[:10]).iter_rows()) <= set(
        first.filter(pl.col("marker") == "c").select(first.columns[:10]).iter_rows()
    )
    ytd = first.filter(pl.col("period") == YTD)
    t1 = ytd.filter(pl.col("table") == 1).sort(
        "geography_level", "region_code", "provider_code", "modality"
    )
    t11 = ytd.filter((pl.col("table") == 11) & (pl.col("source_setting") == "All")).sort(
        "geography_level", "region_code", "provider_code", "modality"
    )
    assert t1["marker"].to_list() == t11["marker"].to_list()


def test_medians_follow_their_counts():
    counts = np.array([[[[12], [3], [40]]], [[[25], [30], [0]]]])
    cells = linked_cells(counts, ["Y56", "Y56"], medians=True)
    protected = apply_strict(cells)
    counts_t1 = protected.filter(pl.col("table") == 1)
    medians = protected.filter(pl.col("table") == 2)
    by_key = ["geography_level", "region_code", "provider_code", "modality", "period"]
    joined = medians.join(counts_t1, on=by_key, suffix="_count").join(
        cells.filter(pl.col("table") == 2).select(*by_key, "records"), on=by_key
    )
    for row in joined.iter_rows(named=True):
        should_hide = row["marker_count"] == "c" or 0 < row["records"] < 10
        assert (row["marker"] == "c") == should_hide, row
    assert joined.filter(pl.col("marker") == "x").height == 1  # the zero month stays x


def test_relations_that_do_not_hold_are_an_error():
    counts = np.array([[[[12], [30], [40]]], [[[25], [30], [20]]]])
    cells = linked_cells(counts, ["Y56", "Y56"])
    broken = cells.with_columns(
        pl.when(
            (pl.col("geography_level") == "england")
            & (pl.col("period") == "2024-04")
            & (pl.col("table") == 1)
        )
        .then(pl.col("value") + 1)
        .otherwise(pl.col("value"))
        .alias("value")
    )
    with pytest.raises(ValueError, match="do not hold"):
        apply_strict(broken)


def test_nothing_small_nothing_suppressed():
    counts = np.full((2, 1, 3, 2), 20)
    counts[0, 0, 0, 0] = 0
    cells = linked_cells(counts, ["Y56", "Y58"])
    assert (apply_strict(cells)["marker"] == "c").sum() == 0


def test_all_small_suppresses_every_nonzero_count():
    counts = np.ones((2, 1, 3, 1), dtype=np.int64)
    cells = linked_cells(counts, ["Y56", "Y56"])
    protected = apply_strict(cells)
    # England year to date is 6: everything is below k, everything is suppressed
    assert (protected["marker"] == "c").all()


def test_interventional_radiology_is_a_subset_of_table_1():
    counts = np.array([[[[12], [3], [40]]], [[[25], [30], [8]]]])
    cells = linked_cells(counts, ["Y56", "Y58"], interventional=counts // 3)
    relations = build_relations(cells)
    # one row "table 12 <= table 1" per table 12 cell
    assert (relations.kind == "subset").sum() == cells.filter(pl.col("table") == 12).height
    protected = apply_strict(cells)
    assert protected.filter(pl.col("table") == 12)["marker"].to_list().count("c") >= 1


def test_relations_of_tables_4_9_and_10():
    def cell(table, modality, setting, measure, value, period=YTD):
        return (
            table,
            "provider",
            "Y56",
            "R",
            "P01",
            "P",
            modality,
            setting,
            period,
            measure,
            float(value),
            int(value),
            "",
        )

    ct, mri = "Computerized Axial Tomography", "Magnetic Resonance Imaging"
    rows = [
        cell(11, ct, "A&E", "activity_count", 5),
        cell(11, ct, "Inpatient", "activity_count", 7),
        cell(11, ct, "Day case", "activity_count", 1),
        cell(11, ct, "Outpatient", "activity_count", 30),
        cell(11, ct, "All", "activity_count", 43),
        cell(1, ct, "All", "activity_count", 43),
        cell(1, mri, "All", "activity_count", 20),
        cell(10, ct, "A&E, Inpatients & Day Cases", "activity_count", 13),
        cell(10, ct, "A&E, Inpatients & Day Cases", "count_report_time_known", 12),
        cell(10, ct, "A&E, Inpatients & Day Cases", "count_report_time_not_known", 1),
        cell(10, ct, "A&E, Inpatients & Day Cases", "percent_reported_same_day", 50),
        cell(4, "Brain (MRI)", "All", "activity_count", 6),
        cell(4, "Brain (MRI)", "GP Direct Access", "activity_count", 2),
        cell(5, "Brain (MRI)", "All", "median_days_request_to_test", 3),
        cell(9, ct, "All", "count_days_0_to_7", 40),
        cell(9, ct, "All", "count_days_8_to_31", 2),
    ]
    cells = pl.DataFrame(rows, schema=CELL_SCHEMA, orient="row")
    relations = build_relations(cells)
    kinds = dict(zip(*np.unique(relations.kind, return_counts=True), strict=True))
    # t10 total = known + not known = t11 A&E + Inpatient + Day case; t4 brain <= t1 MRI,
    # GP <= All; t9 bands <= t11 All
    assert kinds == {
        "table10_known": 1,
        "table10_settings": 1,
        "settings": 1,
        "subset": 1,
        "groups": 1,
        "bands": 1,
    }
    value = np.zeros(relations.n_figures)
    counts = relations.cell_figure >= 0
    value[relations.cell_figure[counts]] = cells["value"].to_numpy()[counts]
    system = relations.system
    activity = np.bincount(system.entry_row, system.coef * value[system.index], system.n_rows)
    assert np.all(activity >= system.row_lower) and np.all(activity <= system.row_upper)
    # the median and the percentage know which counts they summarise
    linked = {
        int(r): set(relations.ratio_index[a:b].tolist())
        for r, a, b in zip(
            relations.ratio_cells,
            relations.ratio_indptr[:-1],
            relations.ratio_indptr[1:],
            strict=True,
        )
    }
    assert linked == {10: {int(relations.cell_figure[8])}, 13: {int(relations.cell_figure[11])}}
    protected = apply_strict(cells)
    hidden = set(np.flatnonzero((protected["marker"] == "c").to_numpy()).tolist())
    assert {2, 9, 11, 12, 13, 15} <= hidden  # the small counts and the median over 6


def test_interval_rule_lifted_lowest_value_is_narrow():
    # T = a + b + 10 = 20 (T shown), b + d = 8 (shown), a, b, d suppressed: a + b = 10
    # and b <= 7 lift a to at least 3 although its trivial lower bound is 1
    from publish.disclosure.control import LinearSystem, interval_status, trivial_lower_bounds

    # figures: 0 T, 1 a, 2 b, 3 c, 4 S (= b + d), 5 d
    system = LinearSystem(
        np.array([0, 4, 7]),
        np.array([0, 1, 2, 3, 4, 2, 5]),
        np.array([1.0, -1, -1, -1, 1, -1, -1]),
        np.zeros(2),
        np.zeros(2),
    )
    suppressed = np.array([False, True, True, False, False, True])
    lower = np.where(suppressed, 1.0, np.array([20.0, 0, 0, 10, 8, 0]))
    upper = np.where(suppressed, np.inf, lower)
    found = feasible_intervals(system, lower, upper, np.flatnonzero(suppressed))
    low, high = integer_interval(found.lower, found.upper)
    trivial = trivial_lower_bounds(system, lower, upper, suppressed)
    assert (low[1], high[1], trivial[1]) == (3.0, 9.0, 1.0)
    which = np.flatnonzero(suppressed)
    status = interval_status(
        low[which], high[which], 9, may_be_small_below=10, trivial_lower=trivial[which]
    )
    # a is narrowed from below; without the interval rule its width 6 is the only test
    assert status.tolist() == ["narrow", "narrow", "narrow"]
    width_only = interval_status(low[which], high[which], 9, protection_width=6)
    assert width_only.tolist()[0] == "ok"
    # the lift uses S's upper bound: the structural LP does not give it either
    from publish.disclosure.control import structural_lower_bounds

    assert structural_lower_bounds(system, lower, upper, suppressed, trivial, which)[1] == 1.0


def test_trivial_lower_bound_that_takes_two_relations():
    # a provider's table 10 group G over two hidden settings a, b (the others zero) and
    # table 1's year to date Y over the same settings, which sums three hidden months:
    # G = a + b = Y >= 3. Propagation reads one relation at a time and gives G >= 2; the
    # structural LP gives 3, so G's interval [3, ...] starts at its trivial lower bound
    from publish.disclosure.control import (
        LinearSystem,
        interval_status,
        structural_lower_bounds,
        trivial_lower_bounds,
    )

    # figures: 0 G, 1 a, 2 b, 3 Y, 4-6 months, 7 a shown zero setting
    system = LinearSystem(
        np.array([0, 3, 7, 11]),
        np.array([0, 1, 2, 3, 1, 2, 7, 3, 4, 5, 6]),
        np.array([1.0, -1, -1, 1, -1, -1, -1, 1, -1, -1, -1]),
        np.zeros(3),
        np.zeros(3),
    )
    suppressed = np.array([True] * 7 + [False])
    lower = np.where(suppressed, 1.0, 0.0)
    upper = np.where(suppressed, np.inf, 0.0)
    which = np.flatnonzero(suppressed)
    found = feasible_intervals(system, lower, upper, which)
    low, high = integer_interval(found.lower, found.upper)
    propagated = trivial_lower_bounds(system, lower, upper, suppressed)
    assert (low[0], propagated[0]) == (3.0, 2.0)
    structural = structural_lower_bounds(system, lower, upper, suppressed, propagated, which)
    assert structural.tolist() == [3.0, 1, 1, 3, 1, 1, 1, 0]
    assert (structural <= np.nan_to_num(low, nan=0.0)).all()

    def status(trivial):
        return interval_status(
            low[which], high[which], 9, may_be_small_below=10, trivial_lower=trivial[which]
        ).tolist()

    assert status(propagated)[0] == "narrow"
    assert status(structural) == ["ok"] * 7


def test_removal_pass_shows_an_unneeded_secondary_again():
    from publish.disclosure.control import _Check, _remove_unneeded

    counts = np.array([[[[3], [30], [40]]], [[[25], [35], [45]]]])
    cells = linked_cells(counts, ["Y56", "Y56"])
    relations = build_relations(cells)
    value = np.zeros(relations.n_figures)
    is_count = relations.cell_figure >= 0
    value[relations.cell_figure[is_count]] = cells["value"].to_numpy()[is_count]
    primary = small_count_mask(value, 10)
    pattern = suppressed_pattern = np.zeros(relations.n_figures, dtype=bool)
    for row in apply_strict(cells).with_row_index("i").filter(pl.col("marker") == "c")["i"]:
        suppressed_pattern[relations.cell_figure[row]] = True
    check = _Check(relations, value, 10, None, 8)
    assert check.passes(pattern, np.flatnonzero(pattern))
    # one more secondary: the largest month of the other provider, needed by nothing
    extra = int(np.flatnonzero((value == 45) & ~pattern)[0])
    pattern = pattern.copy()
    pattern[extra] = True
    _remove_unneeded(check, primary, pattern, value)
    assert not pattern[extra]
    assert check.passes(pattern, np.flatnonzero(pattern))
    assert (pattern >= primary).all()


@pytest.mark.parametrize(
    ("counts", "hidden_instead"),
    [
        # the two secondary months of P00 are the only suppressed figures of its year:
        # shown one at a time, either pins the other; shown together, nothing instead
        ([[10, 12, 30], [0, 1, 20], [30, 2, 3], [20, 9, 3]], 0),
        # two secondary parts shown again, their published total suppressed instead
        ([[20, 11, 9], [2, 30, 0], [3, 12, 20], [11, 1, 1]], 1),
    ],
)
def test_exchange_pass_shows_two_secondary_figures_together(monkeypatch, counts, hidden_instead):
    import publish.disclosure.control as control

    cells = linked_cells(np.array(counts).reshape(4, 1, 3, 1), ["Y56", "Y56", "Y56", "Y58"])
    relations = build_relations(cells)
    value = np.zeros(relations.n_figures)
    is_count = relations.cell_figure >= 0
    value[relations.cell_figure[is_count]] = cells["value"].to_numpy()[is_count]
    removal_pass_pattern = []
    exchange = control._exchange_pairs

    def after_removal_pass(check, primary, suppressed, value):
        removal_pass_pattern.append(suppressed.copy())
        return exchange(check, primary, suppressed, value)

    monkeypatch.setattr(control, "_exchange_pairs", after_removal_pass)
    protected = apply_strict(cells)
    pattern = np.zeros(relations.n_figures, dtype=bool)
    pattern[relations.cell_figure[is_count & (protected["marker"] == "c").to_numpy()]] = True
    (before,) = removal_pass_pattern
    assert (before & ~pattern).sum() == 2  # a pair shown again
    assert (pattern & ~before).sum() == hidden_instead
    assert (pattern >= small_count_mask(value, 10)).all()
    check = control._Check(relations, value, 10, None, 8)
    assert check.passes(pattern, np.flatnonzero(pattern))


def test_without_secondary_suppression_only_primary():
    counts = np.array([[[[3], [30], [40]]], [[[25], [35], [45]]]])
    cells = linked_cells(counts, ["Y56", "Y56"])
    protected = apply_strict(cells, secondary_suppression=False)
    small = small_count_mask(cells["value"].to_numpy(), 10)
    assert ((protected["marker"] == "c").to_numpy() == small).all()
    assert (apply_strict(cells)["marker"] == "c").sum() > small.sum()


def test_secondary_suppression_config():
    from publish.config import BuildConfig
    from publish.ingest.load import InputError

    assert BuildConfig(policy="strict", secondary_suppression=False).check()
    with pytest.raises(InputError, match="strict only"):
        BuildConfig(policy="did", secondary_suppression=False).check()
    with pytest.raises(InputError, match="true or false"):
        BuildConfig(policy="strict", secondary_suppression="no").check()


def test_secondary_suppression_from_a_config_file(tmp_path):
    from publish.config import load_config
    from publish.ingest.load import InputError

    path = tmp_path / "build.toml"
    path.write_text('[build]\npolicy = "strict"\nsecondary_suppression = false\n')
    assert load_config(path, {}).secondary_suppression is False
    path.write_text('[build]\npolicy = "strict"\nsecondary_suppression = "no"\n')
    with pytest.raises(InputError, match="secondary_suppression"):
        load_config(path, {})


def test_bound_propagation_keeps_an_unbounded_count_unbounded():
    """x1 + x2 + x3 = 88 + x4, four hidden counts, x1 <= 201 and x2 <= 205 known: the true
    values (28, 30, 31, 1) stay inside the propagated box. An infinite bound once held as
    the largest float absorbed the counts beside it in a row's sum, and taking it back out
    left 0: x3 was 'at least 88' (the strict demo's components then had no solution)."""
    system = LinearSystem(
        np.array([0, 4]),
        np.array([0, 1, 2, 3]),
        np.array([-1.0, -1.0, -1.0, 1.0]),
        np.array([-88.0]),
        np.array([-88.0]),
    )
    truth = np.array([28.0, 30.0, 31.0, 1.0])
    lower, upper = propagate_bounds(system, np.ones(4), np.array([201.0, 205.0, np.inf, np.inf]))
    assert lower.tolist() == [1.0, 1.0, 1.0, 1.0]
    assert upper.tolist() == [201.0, 205.0, np.inf, np.inf]
    assert ((truth >= lower) & (truth <= upper)).all()


def _drawn_pattern(drawn, seed: int, share: float):
    """The drawn tables' relations and figure values, a random generator from `seed`,
    and a suppression pattern: the small counts and about `share` of the others."""
    counts, regions = drawn
    cells = linked_cells(counts, regions)
    relations = build_relations(cells)
    value = publish.disclosure.control._figure_values(relations, cells["value"].to_numpy())
    rng = np.random.default_rng(seed)
    hidden = small_count_mask(value, 10) | ((rng.random(value.size) < share) & (value >= 1))
    return relations, value, rng, hidden


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_linked_counts(), st.integers(0, 10**6), st.booleans())
def test_the_strict_check_gives_the_verdict_of_the_exact_intervals(drawn, seed, verdict_only):
    """Strict's check takes shortcuts the audit's report does not: an upper bound sought
    only as far as the protection needs (lower + 1 for a count certainly k or more),
    neighbourhood LPs, bound propagation's verdict where it already fails, without
    the LP, and (`verdict_only`) the columns solved in halves side by side. Each must
    give the verdict of the exact intervals. Small neighbourhoods and halves here, so
    that the small tables take the paths of the demo's large components."""
    control = publish.disclosure.control
    relations, value, rng, hidden = _drawn_pattern(drawn, seed, share=0.2)
    if not hidden.any():
        return
    which = np.flatnonzero(hidden)
    check = control._Check(relations, value, 10, None, 8)
    box_lower, box_upper = check.box(hidden)
    exact = feasible_intervals(relations.system, box_lower, box_upper, which)
    low, high = np.full(value.size, np.nan), np.full(value.size, np.nan)
    low[which], high[which] = integer_interval(exact.lower[which], exact.upper[which])
    verdict = check.status(which, low, high, check.trivial(relations.system, hidden, low)) == "ok"

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(control, "_NEIGHBOURHOOD_COLS", 3)
        patch.setattr(control, "_NEIGHBOURHOOD_HOPS", 1)
        patch.setattr(control, "_SPLIT_LEAST", 2)
        if verdict_only:  # no sweeps: every column left to solve, in halves
            patch.setattr(control._Bounds, "sweep", lambda bounds, maximize: None)
            patch.setattr(control, "_CAPPED_SWEEPS", 0)
        lower, upper = np.full(value.size, np.nan), np.full(value.size, np.nan)
        trivial = check.intervals(hidden, which, lower, upper, verdict_only=verdict_only)
    assert ((check.status(which, lower, upper, trivial) == "ok") == verdict).all()
    sure = check.surely_failing(hidden, which)[0]
    assert not verdict[np.isin(which, sure)].any()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_linked_counts(), st.integers(0, 10**6))
def test_the_local_check_over_its_own_figures_gives_the_verdict_over_all(drawn, seed):
    """The removal pass's trial (`passes_locally`) solves the relations that hold the
    figures over those relations' figures alone, renumbered from 0; over arrays of
    every figure of the publication the same relations give the same verdict."""
    control = publish.disclosure.control
    relations, value, rng, hidden = _drawn_pattern(drawn, seed, share=0.3)
    system = relations.system
    check = control._Check(relations, value, 10, None, 8)
    rows_of = control._transpose(system, value.size)
    for figure in rng.permutation(np.flatnonzero(hidden))[:5].tolist():
        near = control._neighbours(system, rows_of, np.array([figure]))
        near = np.unique(near[hidden[near]])
        indptr, rows = rows_of
        local = system.select_rows(np.unique(rows[control._ranges(indptr[near], indptr[near + 1])]))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(control, "_NEIGHBOURHOOD_COLS", 3)
            patch.setattr(control, "_NEIGHBOURHOOD_HOPS", 1)
            assert check.passes_locally(hidden, near) == check._passes_over(local, hidden, near)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_linked_counts(), st.integers(0, 10**6))
def test_a_figure_said_to_pass_still_after_suppressing_again_passes_a_full_check(drawn, seed):
    """The confirmation of the removal pass solves again, after undoing changes that
    showed figures, only the figures `_Still` cannot vouch for: each figure it says
    still passes must pass a check of every figure of the widened pattern."""
    control = publish.disclosure.control
    relations, value, rng, hidden = _drawn_pattern(drawn, seed, share=0.4)
    check = control._Check(relations, value, 10, None, 8)
    secondary = np.flatnonzero(hidden & (value >= 10))
    shown = secondary[rng.random(secondary.size) < 0.5]
    narrowed = hidden.copy()
    narrowed[shown] = False
    still = control._Still(check)
    targets = np.flatnonzero(narrowed)
    still.passing(narrowed)
    lower, upper = np.full(value.size, np.nan), np.full(value.size, np.nan)
    trivial = check.intervals(narrowed, targets, lower, upper)
    still.record(targets[check.status(targets, lower, upper, trivial) == "ok"], lower, trivial)

    widened = narrowed.copy()
    widened[shown[rng.random(shown.size) < 0.5]] = True  # some changes undone
    vouched = np.flatnonzero(still.passing(widened) & widened)
    which = np.flatnonzero(widened)
    lower, upper = np.full(value.size, np.nan), np.full(value.size, np.nan)
    trivial = check.intervals(widened, which, lower, upper)
    assert (check.status(vouched, lower, upper, trivial) == "ok").all()


def test_a_figure_whose_t_falls_when_a_part_is_suppressed_again_is_solved_again():
    """T = a + b, S = T + f, U = f + g (figures 0-6: T a b S f g U). With b shown (5),
    T's t is 6 and its lowest value 6 (S 18 less f's most, 12): it passes. Suppressing
    b again drops t to 2, while T's lowest value stays 6: narrow. `_Still` must not
    vouch for T then; the other figures, whose t is the same, it does."""
    control = publish.disclosure.control
    rows = [[0, 1, 2], [3, 0, 4], [6, 4, 5]]
    system = LinearSystem(
        np.cumsum([0] + [len(r) for r in rows]),
        np.concatenate(rows),
        np.concatenate([[1.0, -1.0, -1.0]] * len(rows)),
        np.zeros(len(rows)),
        np.zeros(len(rows)),
    )
    value = np.array([8.0, 3, 5, 18, 10, 3, 13])
    relations = SimpleNamespace(system=system)
    check = control._Check(relations, value, 10, None, 8)
    narrowed = np.array([True, True, False, False, True, True, False])
    still = control._Still(check)
    targets = np.flatnonzero(narrowed)
    still.passing(narrowed)
    lower, upper = np.full(7, np.nan), np.full(7, np.nan)
    trivial = check.intervals(narrowed, targets, lower, upper)
    assert (check.status(targets, lower, upper, trivial) == "ok").all()
    still.record(targets, lower, trivial)

    widened = narrowed.copy()
    widened[2] = True
    assert np.flatnonzero(still.passing(widened)).tolist() == [1, 4, 5]
    which = np.flatnonzero(widened)
    lower, upper = np.full(7, np.nan), np.full(7, np.nan)
    trivial = check.intervals(widened, which, lower, upper)
    status = check.status(which, lower, upper, trivial)
    assert status[which == 0].tolist() == ["narrow"]


def _two_by_two() -> LinearSystem:
    """Cells a b / c d (figures 0-3), row totals 4 5, column totals 6 7, grand total 8."""
    rows = [[4, 0, 1], [5, 2, 3], [6, 0, 2], [7, 1, 3], [8, 4, 5], [8, 6, 7]]
    indptr = np.cumsum([0] + [len(r) for r in rows])
    index = np.concatenate([r for r in rows])
    coef = np.concatenate([[1.0] + [-1.0] * (len(r) - 1) for r in rows])
    zeros = np.zeros(len(rows))
    return LinearSystem(indptr, index, coef, zeros, zeros.copy())


def test_an_opening_is_the_cheapest_deviation_that_reaches_the_interval():
    """One small cell in a 2 x 2 table with its margins: the cheapest way for it to rise
    by 8 with every published figure unchanged moves the other three cells (value 90),
    not a row, a column and the grand total (149) or a mixture (113, 123); suppressed,
    those three let the LP reach it. With the three shown and every total suppressed
    already (free to move), the same rise needs no published figure at all."""
    from publish.disclosure.control import _Secondary, _transpose

    value = np.array([3.0, 20, 30, 40, 23, 70, 33, 60, 93])
    system = _two_by_two()
    n = value.size
    rows_of = _transpose(system, n)

    def opening(suppressed: np.ndarray) -> np.ndarray | None:
        secondary = _Secondary(
            system, rows_of, system, rows_of, value, value >= 1, suppressed, 10, 8
        )
        return secondary.opening(0, 8.0, 0.0)

    only_a = np.zeros(n, dtype=bool)
    only_a[0] = True
    found = opening(only_a.copy())
    assert found is not None and found.tolist() == [1, 2, 3]
    pattern = only_a.copy()
    pattern[found] = True
    box_lower = np.where(pattern, 1.0, value)
    box_upper = np.where(pattern, np.inf, value)
    reach = feasible_intervals(system, box_lower, box_upper, np.array([0]))
    assert reach.upper[0] >= 3 + 8 - 1e-6
    before = feasible_intervals(
        system, np.where(only_a, 1.0, value), np.where(only_a, np.inf, value), np.array([0])
    )
    assert before.upper[0] == pytest.approx(3.0)  # a lone suppressed cell is exact

    totals_hidden = only_a.copy()
    totals_hidden[4:] = True
    found = opening(totals_hidden)
    assert found is not None and found.size == 0


def test_the_quality_report_is_linked_to_a_table_1_month_that_shows_every_cell():
    """A provider-month whose table 1 cells are all shown gives its records counted away
    (the demo's NTV in September 2024): the audit and strict write that link, so a hidden
    report total there is exact, not a partner that protects something."""
    counts = np.zeros((2, 1, 3, 1), dtype=np.int64)
    counts[0, 0, :, 0] = [3, 20, 30]
    counts[1, 0, :, 0] = [15, 25, 35]
    cells = linked_cells(counts, ["Y56", "Y56"])
    table1 = cells.filter((pl.col("table") == 1) & ~pl.col("period").str.contains("/"))
    quality = (
        table1.filter(pl.col("geography_level") != "region")
        .group_by("geography_level", "region_code", "provider_code", "period", maintain_order=True)
        .agg(pl.col("value").sum())
        .with_columns(
            pl.lit(QUALITY_TABLE, pl.Int64).alias("table"),
            pl.when(pl.col("geography_level") == "england")
            .then(pl.lit(""))
            .otherwise(pl.col("region_code"))
            .alias("region_code"),
            pl.lit("").alias("region_name"),
            pl.lit("").alias("provider_name"),
            pl.lit("").alias("modality"),
            pl.lit("").alias("source_setting"),
            pl.lit("count_records_counted").alias("measure"),
            pl.col("value").cast(pl.Int64).alias("records"),
            pl.lit("").alias("marker"),
        )
        .select(list(CELL_SCHEMA))
    )
    cells = pl.concat([cells, quality.cast(CELL_SCHEMA)])
    # as published: the small April cell hidden, and both providers' May totals of the
    # report (two unknowns in England's May: neither follows from that row alone)
    hidden = ((pl.col("table") == 1) & (pl.col("value") == 3) & (pl.col("period") == MONTHS[0])) | (
        (pl.col("table") == QUALITY_TABLE)
        & (pl.col("geography_level") == "provider")
        & (pl.col("period") == MONTHS[1])
    )
    published = cells.with_columns(
        pl.when(hidden).then(pl.lit("c")).otherwise("marker").alias("marker")
    )
    linked = fully_shown_months(published, pl.col("marker") == "c")
    assert ("Y56", "P00", MONTHS[0]) not in set(linked.iter_rows())
    assert ("Y56", "P01", MONTHS[1]) in set(linked.iter_rows())

    def report_may(quality_link) -> tuple[list[float], list[float]]:
        relations = build_relations(published, quality_link=quality_link)
        value = np.zeros(relations.n_figures)
        value[relations.cell_figure] = published["value"].to_numpy()
        secret = np.zeros(relations.n_figures, dtype=bool)
        secret[relations.cell_figure[published.select(hidden).to_series().to_numpy()]] = True
        low, high = hidden_intervals(relations.system, value, secret)
        may = published.with_row_index().filter(
            (pl.col("table") == QUALITY_TABLE)
            & (pl.col("geography_level") == "provider")
            & (pl.col("period") == MONTHS[1])
        )["index"]
        figures = relations.cell_figure[may.to_numpy()]
        return low[figures].tolist(), high[figures].tolist()

    assert report_may(False) == ([1.0, 1.0], [44.0, 44.0])  # England's 45 less one
    assert report_may(linked) == ([20.0, 25.0], [20.0, 25.0])  # table 1's May: exact
