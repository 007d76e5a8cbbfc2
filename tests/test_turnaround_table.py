"""Table 13 (report turnaround bands by quarter) on a small input, by hand.

RCC (South West), Plain Radiography (XCHES), published to July 2024 under `hes`
(England exact; below England 1-7 suppressed, 8 and over rounded to 5). June has no
test at all: quarter 1 (April to June) has a month missing; quarter 2 so far is July.
Broad settings: A&E / Admitted (A&E here), OP / GP direct access (outpatient here).
"rep" = days from test to report.

- Q1 A&E: April 10 tests rep 0, May 10 tests rep 1: 20 tests, same day 50%, by next
  day 100%, after more than 28 days 0%.
- Q1 OP: April 10 tests rep 28 (not more than 28: the edge), 10 tests rep 29 (more than
  28); May 10 tests with no report date: 30 tests, more than 28 days 33.3%, not known
  33.3%, by 14 days 0%.
- Q2 OP: July 4 tests rep 7, 4 tests rep 8: 8 tests (published 10), by 7 days 50%, by
  14 days 100%.
- Q2 A&E: July 2 tests rep 0: RCC's total is 2, suppressed, and so are its shares;
  England's total (exact under hes) is shown, its shares, of 2 tests, are not.

The smallest rows NHS England shows proportions for (`Policy.min_cases_for_proportion`,
7): the share not known needs 7 tests in the row, the time bands 7 with a known report
time. April, one row each:
- MRI A&E, 6 tests rep 0: every proportion c;
- MRI OP, 7 tests rep 1: all shown (100% by next day);
- CT A&E, 6 tests rep 0 and 2 with no report date (8 tests, 6 known): not known 25%
  shown, the bands c;
- CT OP, 7 tests rep 3 and 2 with no report date (9 tests, 7 known): not known 22.2%,
  by next day 0%, by 7 days 77.8%.
Under `did` (RCC alone) the provider rows are as above and England's are all shown (did
hides no England figure); under `hes` England's are as above.
"""

from datetime import date, timedelta

import pytest

from tests.conftest import build, cell, read_tidy, record, write_submission

XRAY = "Plain Radiography"
AE, OP = "A&E / Admitted", "OP / GP direct access"
Q1, Q2 = "2024-04/2024-06", "2024-07/2024-07"


MRI, CT = "Magnetic Resonance Imaging", "Computerized Axial Tomography"
Q1_APRIL = "2024-04/2024-04"  # quarter 1 of a build published to April


def xray(month: int, report: int | None, setting: str, code: str = "XCHES") -> dict:
    test_date = date(2024, month, 10)
    return record(
        DIAGNOSTIC_TEST_DATE=test_date.isoformat(),
        SERVICE_REPORT_DATE=""
        if report is None
        else (test_date + timedelta(days=report)).isoformat(),
        PATIENT_SOURCE_SETTING=setting,
        SITE_CODE_IMAGING="RCC01",
        IMAGING_CODE_NICIP=code,
    )


def small_rows() -> list[dict]:
    """The rows of 6, 7, 8 and 9 tests, in April (MRI: MBRAI, CT: CCHAB)."""
    groups = [
        ("MBRAI", 0, "05", 6),
        ("MBRAI", 1, "03", 7),
        ("CCHAB", 0, "05", 6),
        ("CCHAB", None, "05", 2),
        ("CCHAB", 3, "03", 7),
        ("CCHAB", None, "03", 2),
    ]
    return [xray(4, rep, setting, code) for code, rep, setting, n in groups for _ in range(n)]


def rows() -> list[dict]:
    groups = [
        (4, 0, "05", 10),
        (5, 1, "05", 10),
        (4, 28, "03", 10),
        (4, 29, "03", 10),
        (5, None, "03", 10),
        (7, 7, "03", 4),
        (7, 8, "03", 4),
        (7, 0, "05", 2),
    ]
    xrays = [xray(month, rep, setting) for month, rep, setting, n in groups for _ in range(n)]
    return xrays + small_rows()


def publish(folder, policy: str, records: list[dict] | None = None, period: str = "2024-07"):
    path = write_submission(folder / "rcc.csv", rows() if records is None else records)
    build([path], folder / "out", "--policy", policy, "--period", period)
    return read_tidy(folder / "out" / f"did-2024-25-provisional-{period}")


@pytest.fixture(scope="module")
def tidy(tmp_path_factory):
    return publish(tmp_path_factory.mktemp("turnaround"), "hes")


def figure(tidy, level, setting, period, measure, modality=XRAY):
    return cell(
        tidy,
        table="13",
        geography_level=level,
        provider_code="RCC" if level == "provider" else "",
        modality=modality,
        source_setting=setting,
        period=period,
        measure=measure,
    )


def test_quarter_with_a_month_missing_and_the_same_day_shares(tidy):
    assert figure(tidy, "england", AE, Q1, "activity_count") == ("20", "")
    assert figure(tidy, "england", AE, Q1, "percent_reported_same_day") == ("50", "")
    assert figure(tidy, "england", AE, Q1, "percent_reported_by_next_day") == ("100", "")
    assert figure(tidy, "england", AE, Q1, "percent_reported_over_28_days") == ("0", "")
    assert figure(tidy, "provider", AE, Q1, "activity_count") == ("20", "")
    assert figure(tidy, "provider", AE, Q1, "percent_reported_same_day") == ("50", "")
    # the quarters' totals are table 1's months (June has none: x)
    months = {
        period: cell(
            tidy,
            table="1",
            geography_level="england",
            modality=XRAY,
            source_setting="All",
            period=period,
            measure="activity_count",
        )
        for period in ("2024-04", "2024-05", "2024-06")
    }
    assert months == {"2024-04": ("30", ""), "2024-05": ("20", ""), "2024-06": ("", "x")}


def test_the_28_and_29_day_edge_and_not_known(tidy):
    assert figure(tidy, "england", OP, Q1, "activity_count") == ("30", "")
    assert figure(tidy, "england", OP, Q1, "percent_reported_over_28_days") == ("33.3", "")
    assert figure(tidy, "england", OP, Q1, "percent_report_time_not_known") == ("33.3", "")
    assert figure(tidy, "england", OP, Q1, "percent_reported_by_14_days") == ("0", "")


def test_the_7_and_8_day_edge_in_a_quarter_not_over(tidy):
    assert figure(tidy, "england", OP, Q2, "activity_count") == ("8", "")
    assert figure(tidy, "england", OP, Q2, "percent_reported_by_7_days") == ("50", "")
    assert figure(tidy, "england", OP, Q2, "percent_reported_by_14_days") == ("100", "")
    assert figure(tidy, "provider", OP, Q2, "activity_count") == ("10", "")  # 8, rounded
    assert figure(tidy, "provider", OP, Q2, "percent_reported_by_7_days") == ("50", "")


def test_a_share_whose_total_is_suppressed_is_suppressed(tidy):
    assert figure(tidy, "provider", AE, Q2, "activity_count") == ("", "c")
    assert figure(tidy, "provider", AE, Q2, "percent_reported_same_day") == ("", "c")
    assert figure(tidy, "england", AE, Q2, "activity_count") == ("2", "")
    # England's share of 2 tests: fewer than 7, hidden where the policy hides England's
    # medians of too few tests (hes)
    assert figure(tidy, "england", AE, Q2, "percent_reported_same_day") == ("", "c")


AE_BANDS = (
    "percent_reported_same_day",
    "percent_reported_by_next_day",
    "percent_reported_over_28_days",
)
OP_BANDS = (
    "percent_reported_by_next_day",
    "percent_reported_by_7_days",
    "percent_reported_by_14_days",
    "percent_reported_over_28_days",
)
NOT_KNOWN = "percent_report_time_not_known"


def small_row_shares(tidy, level: str, period: str = Q1) -> dict[str, tuple]:
    """The four small rows' proportions at `level`: row -> (value, marker) by measure."""
    rows = {"6 tests": (MRI, AE), "7 tests": (MRI, OP), "8, 2 not known": (CT, AE)}
    rows["9, 2 not known"] = (CT, OP)
    return {
        name: {
            measure: figure(tidy, level, setting, period, measure, modality)
            for measure in (*(AE_BANDS if setting == AE else OP_BANDS), NOT_KNOWN)
        }
        for name, (modality, setting) in rows.items()
    }


HIDDEN = ("", "c")
# By hand: the proportions NHS England's rule shows (7 tests, 7 known) and hides.
SMALL_ROWS = {
    "6 tests": dict.fromkeys((*AE_BANDS, NOT_KNOWN), HIDDEN),
    "7 tests": {
        "percent_reported_by_next_day": ("100", ""),
        "percent_reported_by_7_days": ("100", ""),
        "percent_reported_by_14_days": ("100", ""),
        "percent_reported_over_28_days": ("0", ""),
        NOT_KNOWN: ("0", ""),
    },
    "8, 2 not known": {**dict.fromkeys(AE_BANDS, HIDDEN), NOT_KNOWN: ("25", "")},
    "9, 2 not known": {
        "percent_reported_by_next_day": ("0", ""),
        "percent_reported_by_7_days": ("77.8", ""),
        "percent_reported_by_14_days": ("77.8", ""),
        "percent_reported_over_28_days": ("0", ""),
        NOT_KNOWN: ("22.2", ""),
    },
}


def test_proportions_of_fewer_than_7_tests_are_hidden_under_did(tmp_path):
    tidy = publish(tmp_path, "did", small_rows(), "2024-04")
    assert small_row_shares(tidy, "provider", Q1_APRIL) == SMALL_ROWS
    totals = [
        figure(tidy, "provider", setting, Q1_APRIL, "activity_count", modality)
        for modality, setting in ((MRI, AE), (MRI, OP), (CT, AE), (CT, OP))
    ]
    assert totals == [("5", ""), ("5", ""), ("10", ""), ("10", "")]  # 6, 7, 8, 9 rounded
    # did hides no England figure: England's rows (RCC's) show every proportion
    england = small_row_shares(tidy, "england", Q1_APRIL)
    assert england["6 tests"] == {
        "percent_reported_same_day": ("100", ""),
        "percent_reported_by_next_day": ("100", ""),
        "percent_reported_over_28_days": ("0", ""),
        NOT_KNOWN: ("0", ""),
    }
    assert england["8, 2 not known"]["percent_reported_same_day"] == ("75", "")


def test_proportions_of_fewer_than_7_tests_are_hidden_at_england_under_hes(tidy):
    assert small_row_shares(tidy, "england") == SMALL_ROWS


def test_strict_protects_table_13_with_the_others_and_its_audit_passes(tmp_path):
    tidy = publish(tmp_path, "strict")  # a failed audit would stop the build
    assert figure(tidy, "provider", AE, Q2, "percent_reported_same_day")[1] == "c"
    assert figure(tidy, "provider", AE, Q2, "activity_count")[1] == "c"
    # Q1 + Q2 of A&E / Admitted = table 11's A&E year to date: a second figure of that
    # relation is hidden too, or the 2 would be recovered
    partners = [
        figure(tidy, "provider", AE, Q1, "activity_count"),
        cell(
            tidy,
            table="11",
            geography_level="provider",
            provider_code="RCC",
            modality=XRAY,
            source_setting="A&E",
            period="2024-04/2024-07",
            measure="activity_count",
        ),
    ]
    assert ("", "c") in partners


def test_the_audit_knows_the_quarters_add_up_to_table_1s_months_and_table_11s_settings(tidy):
    """The relations of table 13 (publish.disclosure.turnaround_relations), read from
    the published CSV as the audit reads it, hold on England's exact figures."""
    import numpy as np
    import polars as pl

    from publish.disclosure.audit import table_keys
    from publish.disclosure.control import build_relations

    cells = tidy.with_columns(pl.all().fill_null("")).with_columns(table_keys(pl.col("table")))
    relations = build_relations(cells)
    value = np.zeros(relations.n_figures)
    known = relations.cell_figure >= 0
    numbers = pl.Series(cells["value"]).replace("", None).cast(pl.Float64).fill_null(0)
    value[relations.cell_figure[known]] = numbers.to_numpy()[known]
    england = relations.figures["geography_level"].to_numpy() == "england"
    system = relations.system
    checked = 0
    for kind in ("turnaround_quarter_months", "turnaround_settings_year"):
        for row in np.flatnonzero(relations.kind == kind):
            members = system.index[system.indptr[row] : system.indptr[row + 1]]
            if england[members].all():
                coef = system.coef[system.indptr[row] : system.indptr[row + 1]]
                assert float(coef @ value[members]) == 0, relations.describe_row(row)
                checked += 1
    # England, X-ray, MRI and CT: quarters 1 and 2 against table 1's months; both broad
    # settings' years
    assert checked == 3 * 4
