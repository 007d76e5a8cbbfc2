"""Back test of table 13: our build reproduces NHS England's published 2023-24 report
turnaround bands, provider cell by provider cell.

`tests/backtest/turnaround.py` writes records whose tests give each published provider
row's total cases (rounded to 5, `*` for 1-2) and proportions (to 3 decimal places,
with NHS England's rule of `Policy.min_cases_for_proportion`: a row's share not known is
shown from 7 tests, its time bands from 7 with a known report time); the real CLI
builds them under `did`, and every published provider cell of the subset is compared
with ours: all agree. Every provider of the published file (159 providers, 51,656
cells, all agree; 9 minutes):

    python -m tests.backtest.turnaround --out DIR
"""

import polars as pl

from tests.backtest.inputs import build
from tests.backtest.turnaround import PERIOD, compare, generate, plan_row, round3, summary
from tests.conftest import TEST_DATA
from tests.test_backtest import SUBSET as BACKTEST_SUBSET

PUBLISHED = TEST_DATA / "published"
SUBSET = list(BACKTEST_SUBSET)  # the providers of tests/test_backtest.py


def test_table_13_reproduces_every_published_provider_cell(tmp_path):
    generated = generate(tmp_path / "generated", PUBLISHED, SUBSET)
    assert generated.infeasible == []
    tidy_csv = build(generated, tmp_path / "out", PERIOD)
    result = compare(PUBLISHED, SUBSET, tidy_csv, generated.halves)
    print(f"\n{summary(result, generated, len(SUBSET))}")
    assert result.cells > 3000
    assert result.mismatches.height == 0, result.mismatches.head(10)
    assert result.agree == result.cells


def test_a_row_takes_the_tests_nhs_englands_rule_needs_for_what_it_shows():
    empty = dict.fromkeys(("Same day", "By next day", "> 28 days", "Not known"))
    # all proportions empty, total 5: fewer than 7 tests
    assert plan_row("5", empty).n in range(3, 7)
    # shown with total 5: sevenths, so 7 tests (5 the same day)
    shown = plan_row(
        "5", {"Same day": 0.714, "By next day": 0.714, "> 28 days": 0.0} | {"Not known": 0.0}
    )
    assert (shown.n, shown.counts["Same day"], shown.counts["Not known"]) == (7, 5, 0)
    # the share not known shown, the bands empty: at most 6 with a known report time
    bands_hidden = plan_row("15", empty | {"Not known": 0.813})
    known = bands_hidden.n - bands_hidden.counts["Not known"]
    assert bands_hidden.n >= 7 and known <= 6
    assert round3(bands_hidden.counts["Not known"] / bands_hidden.n) == 0.813
    # RCX, fluoroscopy, OP, 2023-24 Q3: 0.637 of 78-82 tests is only 51 / 80 = 0.6375,
    # which NHS England rounds down
    rcx = plan_row(
        "80",
        {"By next day": 0.637, "By 7 days": 0.875, "By 14 days": 0.95, "> 28 days": 0.0}
        | {"Not known": 0.0},
    )
    assert (rcx.n, rcx.counts["By next day"], rcx.halves) == (80, 51, {"By next day": 0.6375})


def test_a_half_agrees_rounded_either_way_and_only_a_half(tmp_path):
    """RCX's 51 / 80 = 0.6375 by next day: NHS England's 0.637, our 63.8%."""
    key = ("Y61", "RCX", "Fluoroscopy", "OP / GP direct access", "2023-24 Q3")
    ours = {"percent_reported_by_next_day": "63.8", "percent_reported_by_7_days": "87.7"}
    tidy = tmp_path / "tidy.csv"
    tidy.write_text(
        "table,geography_level,region_code,provider_code,modality,source_setting,period,"
        "measure,value,marker\n"
        + "".join(
            f"13,provider,Y61,RCX,Fluoroscopy,OP / GP direct access,2023-10/2023-12,{m},{v},\n"
            for m, v in ours.items()
        )
    )

    def agreeing(halves: dict) -> set[str]:
        result = compare(PUBLISHED, ["RCX"], tidy, halves)
        cells = result.mismatches.filter(pl.col("quarter") == key[4])
        cells = cells.filter(
            (pl.col("published_modality") == key[2]) & (pl.col("setting_group") == key[3])
        )
        return set(ours) - set(cells["measure"])

    assert agreeing({}) == set()
    assert agreeing({(*key, "By next day"): 0.6375}) == {"percent_reported_by_next_day"}
    # 87.7% is no rounding of a half next to 0.875: it never agrees
    assert agreeing({(*key, "By next day"): 0.6375, (*key, "By 7 days"): 0.8755}) == {
        "percent_reported_by_next_day"
    }
