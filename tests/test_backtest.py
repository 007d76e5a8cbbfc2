"""Back test: our build reproduces NHS England's published 2023-24 DID tables 1-3 and 11.

`tests/backtest/generate.py` writes record-level submissions whose valid records give
exactly the published provider figures (counts rounded to 5, `*` for 1-2, both
medians, source settings over the year), plus invalid records and resubmissions that
validation must remove; the real CLI builds them under the `did` policy and
`tests/backtest/compare.py` compares every published provider cell with ours.

The default run takes a representative subset of providers at published volumes
(about 430,000 records, every month of the year); the whole year (about 47 million
records) runs with

    python benchmarks/backtest_full_year.py

The published tables are copied in `tests/data/published/` from
`../shared/published/` (NHS England, Diagnostic Imaging Dataset 2023-24).
"""

import json
from pathlib import Path

import polars as pl
import pytest

from tests.backtest.compare import check_rejections, compare
from tests.backtest.generate import MONTHS, PERIOD, generate, read_published
from tests.conftest import TEST_DATA, run_cli

PUBLISHED = TEST_DATA / "published"
IDENTIFIER = f"did-2023-24-final-{PERIOD}"

# NT4 Circle Health and NT2 Nuffield Health: independent, a row per region (7 and 6),
# with `*` cells and empty months; RJ1 Guy's and St Thomas': a big acute trust
# (270,000 tests); NN4, RP6: many `*` cells; AWR: months with nothing submitted at all;
# RVY: modalities with empty months; W1I1O: a 5-character code; NFO: 2 regions.
SUBSET = ("NT4", "NT2", "RJ1", "NN4", "RP6", "AWR", "RVY", "W1I1O", "NFO")


@pytest.fixture(scope="module")
def backtest(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backtest")
    generated = generate(folder / "generated", PUBLISHED, list(SUBSET))
    out = folder / "out"
    run_cli(
        "build",
        generated.submissions_dir,
        "--sites",
        generated.sites,
        "--imaging-codes",
        generated.imaging_codes,
        "--submissions",
        generated.submissions_manifest,
        "--policy",
        "did",
        "--status",
        "final",
        "--period",
        PERIOD,
        "--out",
        out,
    )
    return generated, out / IDENTIFIER, out / f"{IDENTIFIER}.restricted"


def test_every_published_provider_cell_of_tables_1_2_3_and_11_is_reproduced(backtest, capsys):
    generated, publication, _ = backtest
    result = compare(PUBLISHED, publication / f"{IDENTIFIER}.csv", SUBSET)
    with capsys.disabled():
        print(f"\nback test, {len(SUBSET)} providers: {result.report()}")
    assert generated.issues == []
    assert result.mismatches.height == 0, result.report()
    # every published cell of the subset was compared
    cells, table11 = read_published(PUBLISHED)
    subset_cells = cells.filter(pl.col("org_code").is_in(SUBSET)).height
    assert result.cells_compared == {
        "1": subset_cells,
        "2": subset_cells,
        "3": subset_cells,
        "11": table11.filter(pl.col("org_code").is_in(SUBSET)).height,
    }


def test_the_subset_is_representative():
    cells, _ = read_published(PUBLISHED)
    subset = cells.filter(pl.col("org_code").is_in(SUBSET))
    assert set(subset["month"]) == set(MONTHS)
    regions = subset.group_by("org_code").agg(pl.col("region_code").n_unique())
    assert regions.filter(pl.col("region_code") >= 6).height >= 2  # NT4, NT2
    assert (subset["count"] == "*").sum() >= 50
    assert (subset["count"] == "").sum() >= 50
    assert subset["median2"].str.ends_with(".5").sum() >= 20
    assert subset["median3"].str.ends_with(".5").sum() >= 5
    nothing_submitted = subset.group_by("region_code", "org_code", "month").agg(
        (pl.col("count") == "").all().alias("empty")
    )
    assert nothing_submitted["empty"].sum() >= 1  # a provider-month marked x


def test_validation_rejects_exactly_the_records_made_invalid(backtest):
    generated, _, restricted = backtest
    problems = check_rejections(generated.expected_rejections, restricted / "quarantine.csv")
    assert problems.is_empty(), problems
    expected = pl.read_csv(generated.expected_rejections, infer_schema=False)
    assert expected.height == generated.invalid_records + generated.bad_resubmissions
    # the invalid records cover every rule the generator breaks
    assert expected["rule_code"].n_unique() >= 30


def test_resubmitted_records_replace_their_earlier_version(backtest):
    generated, _, restricted = backtest
    totals = json.loads((restricted / "manifest.json").read_text())["totals"]
    assert generated.decoys > 100
    assert totals["superseded"] == generated.decoys
    assert totals["accepted"] - totals["superseded"] == generated.counted_records
    assert totals["rejected"] == generated.invalid_records + generated.bad_resubmissions


def test_the_comparison_finds_a_wrong_cell(backtest, tmp_path):
    """The comparison is not vacuous: a changed count, median or marker is reported."""
    _, publication, _ = backtest
    tidy = pl.read_csv(publication / f"{IDENTIFIER}.csv", infer_schema=False)
    provider = (pl.col("geography_level") == "provider") & (pl.col("provider_code") == "RJ1")
    month = pl.col("period") == "2023-07"
    count = provider & month & (pl.col("table") == "1") & (pl.col("value") != "0")
    median = provider & month & (pl.col("table") == "3")
    first_count = count & (pl.int_range(pl.len()) == pl.int_range(pl.len()).filter(count).first())
    first_median = median & (
        pl.int_range(pl.len()) == pl.int_range(pl.len()).filter(median).first()
    )
    changed = tidy.with_columns(
        pl.when(first_count)
        .then((pl.col("value").cast(pl.Int64) + 5).cast(pl.Utf8))
        .when(first_median)
        .then(pl.lit("0.5"))
        .otherwise(pl.col("value"))
        .alias("value")
    )
    path = tmp_path / "changed.csv"
    changed.write_csv(path)
    result = compare(PUBLISHED, path, SUBSET)
    assert result.mismatches.height == 2
    assert set(result.mismatches["table"]) == {"1", "3"}


def test_published_tables_are_the_shared_copies():
    shared = Path(__file__).resolve().parents[2] / "shared" / "published"
    assert shared.is_dir(), f"{shared}: the project's shared/ folder must sit beside the repo"
    for path in sorted(shared.glob("did-2023-24-*.csv")):
        assert (PUBLISHED / path.name).read_bytes() == path.read_bytes(), path.name
