"""Back test of table 13: our build reproduces NHS England's published 2023-24 report
turnaround bands, provider cell by provider cell.

`tests/backtest/turnaround.py` writes records whose tests give each published provider
row's total cases (rounded to 5, `*` for 1-2) and proportions (to 3 decimal places);
the real CLI builds them under `did`, and every published provider cell of the subset
is compared with ours. One kind of cell differs, and only it: NHS England leaves the
proportions of most rows with 5 total cases (and a few with 15) empty, where
PUBLICATION.md's `did` rule shows a proportion of 3 or more tests.

    python -m tests.backtest.turnaround --out DIR --providers NT4,RP6
"""

import polars as pl

from tests.backtest.turnaround import PERIOD, compare, generate
from tests.conftest import TEST_DATA, run_cli
from tests.test_backtest import SUBSET as BACKTEST_SUBSET

PUBLISHED = TEST_DATA / "published"
SUBSET = list(BACKTEST_SUBSET)  # the providers of tests/test_backtest.py


def test_table_13_reproduces_the_published_provider_cells(tmp_path):
    generated = generate(tmp_path / "generated", PUBLISHED, SUBSET)
    assert generated.infeasible == []
    run_cli(
        "build",
        generated.submissions,
        "--sites",
        generated.sites,
        "--imaging-codes",
        generated.imaging_codes,
        "--policy",
        "did",
        "--status",
        "final",
        "--period",
        PERIOD,
        "--out",
        tmp_path / "out",
    )
    identifier = f"did-2023-24-final-{PERIOD}"
    result = compare(PUBLISHED, SUBSET, tmp_path / "out" / identifier / f"{identifier}.csv")
    key = ["region_code", "org_code", "modality", "setting_group", "quarter"]
    totals = (
        pl.read_csv(
            PUBLISHED / "did-2023-24-table13_report_turnaround_bands.csv", infer_schema=False
        )
        .filter(pl.col("band") == "Total cases")
        .select(*key, pl.col("value_as_published").alias("total"))
        .with_columns(pl.col("modality").str.to_lowercase())
    )
    differing = result.mismatches.join(totals, on=key, how="left")
    by_total = dict(differing.group_by("total").len().iter_rows())
    print(
        f"\nback test, table 13, {len(SUBSET)} providers: {result.cells} published provider "
        f"cells compared, {result.agree} agree; the {result.cells - result.agree} others are "
        f"proportions NHS England leaves empty (rows by total cases: {by_total})"
    )
    assert result.cells > 3000
    assert result.mismatches.filter(pl.col("measure") == "activity_count").height == 0
    # the only cells that differ: proportions published empty, of small rows
    assert (differing["value_as_published"] == "").all()
    assert (differing["our_value"] != "").all()
    assert differing["total"].cast(pl.Int64).max() <= 15
