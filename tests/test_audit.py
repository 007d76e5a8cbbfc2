"""The disclosure audit, run on written publications as `did-publish audit DIR` does."""

import json
from pathlib import Path

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings

from publish.disclosure.audit import AUDIT_COLUMNS, audit_publication, main_audit
from publish.disclosure.control import apply_strict, small_count_mask
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
    restricted = tmp_path / f"{IDENTIFIER}.restricted"
    restricted.mkdir()
    assert main_audit(directory) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "an outsider can work out 1 exactly" in out
    assert "table 1: 1 exact" in out and "table all tables: 1 any" in out
    # the bounds go to the restricted folder beside the publication, never into it
    assert not list(directory.rglob("disclosure-audit*.csv"))
    audit = pl.read_csv(restricted / "disclosure-audit.csv", infer_schema=False)
    assert tuple(audit.columns) == AUDIT_COLUMNS
    assert audit.rows() == [
        (
            "t1|provider|Y56|P00|Computerized Axial Tomography|All|2024-04|activity_count",
            "3",
            "3",
            "exact",
            "3",
            "one value left",
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
    assert report.exact == 5
    assert "an outsider can work out 5 of them exactly" in report.summary
    assert "NHS England's rule allows it; --policy strict prevents it" in report.summary
    assert main_audit(directory) == 0
    # no restricted folder given or beside it: the bounds are written nowhere
    assert not list(tmp_path.rglob("disclosure-audit*.csv"))


def test_did_rounding_protects_a_lone_suppressed_count(tmp_path):
    counts = np.zeros((3, 1, 3, 1), dtype=np.int64)
    counts[:, 0, :, 0] = [[1, 13, 22], [20, 21, 24], [31, 8, 17]]
    cells = linked_cells(counts, ["Y56", "Y56", "Y58"])
    report = audit_publication(write_publication(rounded_policy(cells, "did"), tmp_path, None))
    assert report.policy == "did"  # no manifest: did
    assert report.suppressed == 1 and report.exact == 0
    assert report.cells.row(0)[:5] == (
        "t1|provider|Y56|P00|Computerized Axial Tomography|All|2024-04|activity_count",
        "1",
        "2",
        "ok",
        "1",
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
    assert narrow.row(0)[1:4] == ("2", "6", "narrow")


def test_audit_input_errors(tmp_path, capsys):
    assert main_audit(tmp_path / "nothing-here") == 2
    assert "no published tidy CSV" in capsys.readouterr().err


def tidy_rows(rows: list[tuple]) -> pl.DataFrame:
    """Hand-made published rows: (table, level, modality, setting, period, measure, value
    text or "c")."""
    out = []
    for table, level, modality, setting, period, measure, shown in rows:
        provider = level == "provider"
        out.append(
            {
                "table": str(table),
                "geography_level": level,
                "region_code": "Y56" if provider else "",
                "region_name": "R" if provider else "",
                "provider_code": "P01" if provider else "",
                "provider_name": "P" if provider else "",
                "modality": modality,
                "source_setting": setting,
                "period": period,
                "measure": measure,
                "value": "" if shown == "c" else shown,
                "marker": "c" if shown == "c" else "",
            }
        )
    return pl.DataFrame(out, schema={c: pl.Utf8 for c in TIDY_COLUMNS})


def write_rows(frame: pl.DataFrame, root: Path, policy: str, config: dict | None = None) -> Path:
    directory = root / IDENTIFIER
    directory.mkdir(parents=True, exist_ok=True)
    frame.write_csv(directory / f"{IDENTIFIER}.csv")
    manifest = {"policy": policy, "k": 10, "config": config or {}}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


US = "Diagnostic Ultrasonography"
ABDOMEN, KIDNEY = "Abdomen and/or pelvis (Ultrasound)", "Kidney or Bladder (Ultrasound)"


def test_cancer_groups_of_one_modality_together_narrow_a_cell(tmp_path):
    # each ultrasound group alone is at most 9: [1, 9] covers the protection interval;
    # both together are at most 9, so each is at most 8
    both = tidy_rows(
        [
            (1, "provider", US, "All", "2024-04", "activity_count", "9"),
            (4, "provider", ABDOMEN, "All", "2024-04", "activity_count", "c"),
            (4, "provider", KIDNEY, "All", "2024-04", "activity_count", "c"),
        ]
    )
    report = audit_publication(write_rows(both, tmp_path / "both", "strict"))
    assert not report.passed
    assert report.cells["upper"].to_list() == ["8", "8"]
    assert set(report.cells["status"]) == {"narrow"}
    assert "highest value 8 below 9" in report.cells["reason"][0]
    one = both.filter(pl.col("modality") != KIDNEY)
    report = audit_publication(write_rows(one, tmp_path / "one", "strict"))
    assert report.passed and report.cells["upper"].to_list() == ["9"]
    assert report.cells["reason"][0] == "covers [1, 9] from its trivial lower bound 1"


def test_a_band_percentage_bounds_its_hidden_band(tmp_path):
    # table 9: 8-31 days is c, 0-7 days is 40, and 8-31 days is 4.8% of the bands:
    # b / (40 + b) in [4.75%, 4.85%] leaves b = 2 only
    ct = "Computerized Axial Tomography"
    rows = [
        (9, "england", ct, "All", "2024-04/2024-06", "count_days_0_to_7", "40"),
        (9, "england", ct, "All", "2024-04/2024-06", "count_days_8_to_31", "c"),
        (9, "england", ct, "All", "2024-04/2024-06", "percent_days_8_to_31", "4.8"),
    ]
    report = audit_publication(write_rows(tidy_rows(rows), tmp_path, "strict"))
    assert report.cells.select("lower", "upper", "status").row(0) == ("2", "2", "exact")
    # without the percentage the band is unbounded above
    report = audit_publication(write_rows(tidy_rows(rows[:2]), tmp_path / "no", "strict"))
    assert report.cells["upper"].to_list() == ["inf"]


def test_rounded_denominator_with_its_percentage_is_given_back(tmp_path):
    # did: a known count shown as 175 is one of 173..177; 94.2% of reports the same day
    # fits a whole number of reports for 173 only
    setting = "A&E, Inpatients & Day Cases"
    ct = "Computerized Axial Tomography"
    period = "2024-04/2024-06"
    rows = [
        (10, "provider", ct, setting, period, "activity_count", "175"),
        (10, "provider", ct, setting, period, "count_report_time_known", "175"),
        (10, "provider", ct, setting, period, "count_report_time_not_known", "c"),
        (10, "provider", ct, setting, period, "percent_reported_same_day", "94.2"),
    ]
    report = audit_publication(write_rows(tidy_rows(rows), tmp_path, "did"))
    assert report.rounding_undone == 1
    assert "1 rounded counts given back exactly by their percentages" in report.summary
    # 94.0% fits several of 173..177: nothing given back
    rows[3] = (*rows[3][:6], "94")
    report = audit_publication(write_rows(tidy_rows(rows), tmp_path / "b", "did"))
    assert report.rounding_undone == 0


def test_audit_says_loudly_a_build_without_secondary_suppression(tmp_path):
    rows = tidy_rows([(1, "provider", US, "All", "2024-04", "activity_count", "c")])
    directory = write_rows(rows, tmp_path, "strict", {"secondary_suppression": False})
    assert audit_publication(directory).summary.startswith("NOT PROTECTED")
