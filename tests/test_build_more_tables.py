"""Tables 4-6 and 9-12 on a small input, against figures computed by hand.

One provider, RCC (South West), April 2024 only, published under `hes` so that England
figures are exact and easy to read; provider figures of 8 or more are rounded to 5.

Records (test on 2024-04-10; "req" = days request to test, "rep" = days test to report):
- 10 chest X-rays (XCHES, cancer group "Chest (X-ray)"):
  6 GP direct access (04): req 2, 2, 3, 9, 40, 70; rep 0, 0, 1, 1, 2, (none)
  4 A&E (05): req 0, 0, 0, 1; rep 0, 0, 0, 3
- 3 CT chest/abdomen (CCHAB, "Chest and/or abdomen (CT)"), outpatient (03): req 10, 20, 30;
  rep 1, 2, 3
- 2 CT-guided liver biopsies (CBIOL, interventional), inpatient (01): req 1, 1; rep 1, 1
"""

import pytest

from tests.conftest import build, cell, read_tidy, write_submission
from tests.test_build_tables import test_record

XRAY = "Plain Radiography"
CT = "Computerized Axial Tomography"
CHEST_XRAY = "Chest (X-ray)"
CHEST_CT = "Chest and/or abdomen (CT)"
YTD = "2024-04/2024-04"


@pytest.fixture(scope="module")
def tidy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("more")
    rows = []
    gp = [(2, 0), (2, 0), (3, 1), (9, 1), (40, 2), (70, None)]
    rows += [test_record(4, q, r, PATIENT_SOURCE_SETTING="04") for q, r in gp]
    rows += [
        test_record(4, q, r, PATIENT_SOURCE_SETTING="05")
        for q, r in [(0, 0), (0, 0), (0, 0), (1, 3)]
    ]
    rows += [
        test_record(4, q, r, PATIENT_SOURCE_SETTING="03", IMAGING_CODE_NICIP="CCHAB")
        for q, r in [(10, 1), (20, 2), (30, 3)]
    ]
    rows += [
        test_record(4, 1, 1, PATIENT_SOURCE_SETTING="01", IMAGING_CODE_NICIP="CBIOL")
        for _ in range(2)
    ]
    for row in rows:
        row["SITE_CODE_IMAGING"] = "RCC01"
    path = write_submission(folder / "rcc.csv", rows)
    out = folder / "out"
    build([path], out, "--policy", "hes", "--period", "2024-04")
    return read_tidy(out / "did-2024-25-provisional-2024-04")


def england(tidy, table, modality, setting, measure, period=YTD):
    return cell(
        tidy,
        table=str(table),
        geography_level="england",
        modality=modality,
        source_setting=setting,
        period=period,
        measure=measure,
    )


def provider(tidy, table, modality, setting, measure, period=YTD):
    return cell(
        tidy,
        table=str(table),
        geography_level="provider",
        provider_code="RCC",
        modality=modality,
        source_setting=setting,
        period=period,
        measure=measure,
    )


def test_table_4_cancer_group_counts_all_and_gp_direct_access(tidy):
    assert england(tidy, 4, CHEST_XRAY, "All", "activity_count") == ("10", "")
    assert england(tidy, 4, CHEST_XRAY, "GP Direct Access", "activity_count") == ("6", "")
    assert england(tidy, 4, CHEST_CT, "All", "activity_count", "2024-04") == ("3", "")
    assert england(tidy, 4, CHEST_CT, "GP Direct Access", "activity_count") == ("0", "")
    # Below England, hes suppresses 1-7 and rounds 8+ to 5.
    assert provider(tidy, 4, CHEST_XRAY, "All", "activity_count") == ("10", "")
    assert provider(tidy, 4, CHEST_XRAY, "GP Direct Access", "activity_count") == ("", "c")


def test_table_5_and_6_cancer_group_medians(tidy):
    # All chest X-rays, req: 0 0 0 1 2 2 3 9 40 70 -> (2 + 2) / 2 = 2.
    assert england(tidy, 5, CHEST_XRAY, "All", "median_days_request_to_test") == ("2", "")
    # GP direct access: 2 2 3 9 40 70 -> (3 + 9) / 2 = 6, over 6 records: hes hides medians of 1-7.
    assert england(tidy, 5, CHEST_XRAY, "GP Direct Access", "median_days_request_to_test") == (
        "",
        "c",
    )
    # Report, all chest X-rays with a report date: 0 0 0 0 0 1 1 2 3 -> 0.
    assert england(tidy, 6, CHEST_XRAY, "All", "median_days_test_to_report") == ("0", "")


def test_table_9_bands_counts_and_percentages(tidy):
    # X-ray, all settings: 0-7: 0 0 0 1 2 2 3 = 7; 8-31: 9 = 1; 32-62: 40 = 1; >62: 70 = 1.
    expected = {
        "0_to_7": ("7", "70"),
        "8_to_31": ("1", "10"),
        "32_to_62": ("1", "10"),
        "over_62": ("1", "10"),
    }
    for band, (count, percent) in expected.items():
        assert england(tidy, 9, XRAY, "All", f"count_days_{band}") == (count, "")
        assert england(tidy, 9, XRAY, "All", f"percent_days_{band}") == (percent, "")
    # GP direct access X-rays: 2 2 3 | 9 | 40 | 70 -> 50%, 16.7%, 16.7%, 16.7%.
    assert england(tidy, 9, XRAY, "GP Direct Access", "percent_days_0_to_7") == ("50", "")
    assert england(tidy, 9, XRAY, "GP Direct Access", "percent_days_8_to_31") == ("16.7", "")
    # A setting with no tests: counts 0, percentages not applicable.
    assert england(tidy, 9, XRAY, "Day case", "count_days_0_to_7") == ("0", "")
    assert england(tidy, 9, XRAY, "Day case", "percent_days_0_to_7") == ("", "z")


def test_table_10_reports_same_day_and_next_day(tidy):
    group = "A&E, Inpatients & Day Cases"
    # X-ray A&E: rep 0 0 0 3 -> same day 3/4 = 75%, by next day 75%.
    assert england(tidy, 10, XRAY, group, "percent_reported_same_day") == ("75", "")
    assert england(tidy, 10, XRAY, group, "percent_reported_by_next_day") == ("75", "")
    outpatients = "Outpatients & GP Direct Access"
    # X-ray GP: rep 0 0 1 1 2 and one not known -> known 5, same day 40%, next day 80%.
    assert england(tidy, 10, XRAY, outpatients, "count_report_time_known") == ("5", "")
    assert england(tidy, 10, XRAY, outpatients, "count_report_time_not_known") == ("1", "")
    assert england(tidy, 10, XRAY, outpatients, "activity_count") == ("6", "")
    assert england(tidy, 10, XRAY, outpatients, "percent_reported_same_day") == ("40", "")
    assert england(tidy, 10, XRAY, outpatients, "percent_reported_by_next_day") == ("80", "")
    # The provider's denominator (5) is suppressed under hes, so its percentages are too.
    assert provider(tidy, 10, XRAY, outpatients, "count_report_time_known") == ("", "c")
    assert provider(tidy, 10, XRAY, outpatients, "percent_reported_same_day") == ("", "c")


def test_table_11_source_settings_and_total(tidy):
    assert england(tidy, 11, XRAY, "GP Direct Access", "activity_count") == ("6", "")
    assert england(tidy, 11, XRAY, "A&E", "activity_count") == ("4", "")
    assert england(tidy, 11, XRAY, "Inpatient", "activity_count") == ("0", "")
    assert england(tidy, 11, XRAY, "All", "activity_count") == ("10", "")
    assert england(tidy, 11, CT, "All", "activity_count") == ("5", "")
    assert provider(tidy, 11, CT, "Outpatient", "activity_count") == ("", "c")


def test_table_12_interventional_only(tidy):
    assert england(tidy, 12, CT, "All", "activity_count", "2024-04") == ("2", "")
    modalities = tidy.filter(tidy["table"] == "12")["modality"].unique().to_list()
    assert modalities == [CT]
