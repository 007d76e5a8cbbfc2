"""Back test of tables 4, 5, 6 and 12: our build reproduces NHS England's published
2023-24 cancer test groups (counts and both medians, all settings and GP direct
access) and interventional counts, provider cell by provider cell.

`tests/backtest/cancer.py` writes records whose tests give each published provider
cell (counts within their rounding, months and year; medians exactly, by month); the
real CLI builds them under `did`, and every published provider cell of the subset is
compared with ours. Not compared: the year's medians (not generated for, as in
`tests/test_backtest.py`) and table 12's Cone beam computed tomography and Endoscopy,
which are not DID modalities of INPUT.md.
"""

from tests.backtest.cancer import PERIOD, compare, generate
from tests.backtest.inputs import build
from tests.conftest import TEST_DATA
from tests.test_backtest import SUBSET

PUBLISHED = TEST_DATA / "published"


def test_tables_4_5_6_and_12_reproduce_the_published_provider_cells(tmp_path):
    generated = generate(tmp_path / "generated", PUBLISHED, list(SUBSET))
    assert generated.infeasible == []
    tidy_csv = build(generated, tmp_path / "out", PERIOD)
    result = compare(PUBLISHED, list(SUBSET), tidy_csv)
    tables = ", ".join(f"table {t}: {agree} of {n}" for t, (n, agree) in result.by_table.items())
    print(
        f"\nback test, tables 4, 5, 6, 12, {len(SUBSET)} providers: {result.cells} published "
        f"provider cells compared ({tables}), {result.cells - result.agree} mismatches; "
        f"{result.not_compared} not compared"
    )
    assert result.cells > 4000
    assert set(result.by_table) == {"4", "5", "6", "12"}
    assert result.mismatches.height == 0, result.mismatches.head(10)
