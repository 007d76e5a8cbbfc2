"""The disclosure audit, run on written publications as `did-publish audit DIR` does."""

import json
from pathlib import Path

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings

from publish.audit import AUDIT_COLUMNS, audit_publication, main_audit
from publish.disclosure import apply_strict, small_count_mask
from publish.tables import TIDY_COLUMNS
from tests.test_disclosure import linked_cells, small_linked_counts

IDENTIFIER = "did-2024-25-provisional-2024-06"


def write_publication(protected: pl.DataFrame, root: Path, policy: str | None, k: int = 10) -> Path:
    """The tidy CSV (all text, value empty when suppressed) and the manifest."""
    directory = root / IDENTIFIER
    directory.mkdir(parents=True, exist_ok=True)
    protected.select(TIDY_COLUMNS).with_columns(
        pl.col("value").map_elements(lambda v: f"{v:.15g}", return_dtype=pl.Utf8).fill_null("")
    ).write_csv(directory / f"{IDENTIFIER}.csv")
    if policy is not None:
        (directory / "manifest.json").write_text(json.dumps({"policy": policy, "k": k}))
    return directory


def primary_only(cells: pl.DataFrame, k: int = 10) -> pl.DataFrame:
    small = pl.Series(small_count_mask(cells["value"].to_numpy(), k))
    return cells.with_columns(
        pl.when(small).then(None).otherwise(pl.col("value")).alias("value"),
        pl.when(small).then(pl.lit("c")).otherwise(pl.col("marker")).alias("marker"),
    )


def rounded_policy(cells: pl.DataFrame, policy: str) -> pl.DataFrame:
    """What did (1-2 suppressed, all else to 5) or hes (1-7 suppressed below England,
    8+ to 5, England exact) publish."""
    top = {"did": 2, "hes": 7}[policy]
    england = pl.col("geography_level") == "england"
    value = pl.col("value")
    hidden = ~england & (value >= 1) & (value <= top)
    rounded = (value / 5).round(0) * 5
    shown = value if policy == "hes" else rounded
    return cells.with_columns(
        pl.when(hidden).then(None).when(england).then(shown).otherwise(rounded).alias("value"),
        pl.when(hidden).then(pl.lit("c")).otherwise(pl.col("marker")).alias("marker"),
    )


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(small_linked_counts())
def test_strict_always_passes_its_audit(tmp_path, drawn):
    counts, regions = drawn
    interventional = counts // 2
    cells = linked_cells(counts, regions, interventional=interventional, medians=True)
    directory = write_publication(apply_strict(cells), tmp_path, "strict")
    report = audit_publication(directory)
    assert report.passed, report.cells.filter(pl.col("status") != "ok")
    assert report.exact == report.narrow == 0
    assert report.suppressed == (report.cells["status"] == "ok").sum()


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(small_linked_counts())
def test_strict_with_a_protection_width(tmp_path, drawn):
    counts, regions = drawn
    cells = linked_cells(counts, regions)
    directory = write_publication(
        apply_strict(cells, k=5, protection_width=6), tmp_path, "strict", k=5
    )
    assert audit_publication(directory, protection_width=6).passed


def test_primary_suppression_alone_fails_the_audit(tmp_path, capsys):
    counts = np.zeros((2, 1, 3, 1), dtype=np.int64)
    counts[0, 0, :, 0] = [3, 20, 30]
    counts[1, 0, :, 0] = [15, 25, 35]
    cells = linked_cells(counts, ["Y56", "Y56"])
    directory = write_publication(primary_only(cells), tmp_path, "strict")
    assert main_audit(directory) == 1
    assert "FAILED" in capsys.readouterr().out
    audit = pl.read_csv(directory / "quality" / "disclosure-audit.csv", infer_schema=False)
    assert tuple(audit.columns) == AUDIT_COLUMNS
    assert audit.rows() == [
        (
            "t1|provider|Y56|P00|Computerized Axial Tomography|All|2024-04|activity_count",
            "3",
            "3",
            "exact",
        ),
    ]
    # the same cells under strict pass
    directory = write_publication(apply_strict(cells), tmp_path / "strict", "strict")
    assert main_audit(directory) == 0


def test_did_reports_recoverable_cells_as_a_figure(tmp_path):
    # a provider's year to date of 2 is two suppressed months of 1, each at least 1:
    # the rounding does not protect them
    counts = np.zeros((2, 1, 3, 1), dtype=np.int64)
    counts[0, 0, :, 0] = [1, 0, 1]
    counts[1, 0, :, 0] = [20, 20, 20]
    cells = linked_cells(counts, ["Y56", "Y56"])
    directory = write_publication(rounded_policy(cells, "did"), tmp_path, "did")
    report = audit_publication(directory)
    assert report.policy == "did" and report.passed
    exact = report.cells.filter(pl.col("status") == "exact")
    assert set(exact["cell"]) == {
        "t1|provider|Y56|P00|Computerized Axial Tomography|All|2024-04/2024-06|activity_count",
        "t1|provider|Y56|P00|Computerized Axial Tomography|All|2024-04|activity_count",
        "t1|provider|Y56|P00|Computerized Axial Tomography|All|2024-06|activity_count",
        "t11|provider|Y56|P00|Computerized Axial Tomography|A&E|2024-04/2024-06|activity_count",
        "t11|provider|Y56|P00|Computerized Axial Tomography|All|2024-04/2024-06|activity_count",
    }
    lowest = dict(exact.select("cell", "lower").rows())
    cell = "t1|provider|Y56|P00|Computerized Axial Tomography|All|{}|activity_count"
    assert lowest[cell.format("2024-04/2024-06")] == "2"
    assert lowest[cell.format("2024-04")] == lowest[cell.format("2024-06")] == "1"
    assert report.exact == 5 and "5 exactly recoverable" in report.summary
    assert main_audit(directory) == 0


def test_did_rounding_protects_a_lone_suppressed_count(tmp_path):
    counts = np.zeros((3, 1, 3, 1), dtype=np.int64)
    counts[:, 0, :, 0] = [[1, 13, 22], [20, 21, 24], [31, 8, 17]]
    cells = linked_cells(counts, ["Y56", "Y56", "Y58"])
    report = audit_publication(write_publication(rounded_policy(cells, "did"), tmp_path, None))
    assert report.policy == "did"  # no manifest: did
    assert report.suppressed == 1 and report.exact == 0
    assert report.cells.row(0) == (
        "t1|provider|Y56|P00|Computerized Axial Tomography|All|2024-04|activity_count",
        "1",
        "2",
        "ok",
    )


def test_england_zero_under_did_can_hide_two_ones(tmp_path):
    # England is rounded, never suppressed: a 2 is shown as 0, and its two regions of 1
    # (suppressed, so at least 1 each) are recovered exactly
    counts = np.zeros((2, 1, 3, 1), dtype=np.int64)
    counts[:, 0, 0, 0] = [1, 1]
    cells = linked_cells(counts, ["Y56", "Y58"])
    report = audit_publication(write_publication(rounded_policy(cells, "did"), tmp_path, "did"))
    assert report.passed and report.exact == report.suppressed > 0


def test_hes_reports_narrow_intervals(tmp_path):
    counts = np.zeros((2, 1, 3, 1), dtype=np.int64)
    # year to date 7 = 3 + 4: each month at most 6; England (exact under hes) less the
    # other provider's rounded 40 puts May at least 2
    counts[0, 0, :, 0] = [3, 4, 0]
    counts[1, 0, :, 0] = [30, 40, 50]
    cells = linked_cells(counts, ["Y56", "Y56"])
    report = audit_publication(write_publication(rounded_policy(cells, "hes"), tmp_path, "hes"))
    assert report.passed and report.narrow > 0
    narrow = report.cells.filter(pl.col("cell").str.contains("2024-05\\|"))
    assert narrow.row(0)[1:] == ("2", "6", "narrow")


def test_audit_input_errors(tmp_path, capsys):
    assert main_audit(tmp_path / "nothing-here") == 2
    assert "no published tidy CSV" in capsys.readouterr().err
