"""Tables 7a, 7b and 8 (by commissioner) on a small input, against figures by hand.

RCC (South West), Plain Radiography chest X-rays (XCHES: cancer test group "Chest
(X-ray)"), published to May 2024 under `hes` (England exact; below England 1-7
suppressed, 8 and over rounded to 5: every commissioner figure here is 0 or a multiple
of 10). Practices (tests/data/practices.csv): B86001 in sub-ICB 15F; Y00001 in 00L
until 30 April 2024, in 15F from 1 May 2024 (it moved: its tests follow the test date).

Ten tests in each group ("req" days request to test, "rep" days test to report):
- A: B86001, April, GP direct access: req 7 (band 0-7, its upper edge), rep 7 (7 days);
- B: B86001, April, outpatient, no request date, received 8 days before (req 8, band
  8-14: the other side of the edge, from the received date), rep 8 (8-14);
- C: Y00001, April (00L), req 28 (15-31), rep 0 (0 days);
- D: Y00001, May (15F), req 366 (366 and over), no report date (time not known);
- E: practice Z99999, not in the reference (Unknown), req 365 (187-365), rep 63
  (63 and over);
- F: no practice code (Unknown), no request or received date (time not known),
  rep 62 (43-62).
"""

from datetime import date, timedelta

import pytest

from tests.conftest import TEST_DATA, build, cell, read_tidy, record, write_submission

YTD = "2024-04/2024-05"
XRAY, CHEST_XRAY = "Plain Radiography", "Chest (X-ray)"
TEST_PRACTICES = TEST_DATA / "practices.csv"


def chest_xray(month, request, report, practice, setting="03", received_only=False):
    test_date = date(2024, month, 10)
    requested = "" if request is None else (test_date - timedelta(days=request)).isoformat()
    return record(
        DIAGNOSTIC_TEST_DATE=test_date.isoformat(),
        DIAGNOSTIC_TEST_REQUEST_DATE="" if received_only else requested,
        DIAG_TEST_REQUEST_REC_DATE=requested,
        SERVICE_REPORT_DATE=""
        if report is None
        else (test_date + timedelta(days=report)).isoformat(),
        PRACTICE_CODE=practice,
        PATIENT_SOURCE_SETTING=setting,
        SITE_CODE_IMAGING="RCC01",
    )


GROUPS = {
    "A": dict(month=4, request=7, report=7, practice="B86001", setting="04"),
    "B": dict(month=4, request=8, report=8, practice="B86001", received_only=True),
    "C": dict(month=4, request=28, report=0, practice="Y00001"),
    "D": dict(month=5, request=366, report=None, practice="Y00001"),
    "E": dict(month=4, request=365, report=63, practice="Z99999"),
    "F": dict(month=4, request=None, report=62, practice=""),
}


def publish(folder, policy):
    rows = [chest_xray(**group) for group in GROUPS.values() for _ in range(10)]
    path = write_submission(folder / "rcc.csv", rows)
    out = folder / "out"
    build([path], out, "--policy", policy, "--period", "2024-05", "--practices", TEST_PRACTICES)
    return read_tidy(out / "did-2024-25-provisional-2024-05")


@pytest.fixture(scope="module")
def tidy(tmp_path_factory):
    return publish(tmp_path_factory.mktemp("commissioners"), "hes")


def figure(tidy, table, level, code, measure, row=XRAY, setting="All"):
    return cell(
        tidy,
        table=table,
        geography_level=level,
        provider_code=code,
        modality=row,
        source_setting=setting,
        period=YTD,
        measure=measure,
    )[0]


def test_table_7a_bands_edges_received_date_and_not_known(tidy):
    england = {
        "count_days_0_to_7": "10",  # A: 7 days
        "count_days_8_to_14": "10",  # B: 8 days, from the received date
        "count_days_15_to_31": "10",  # C
        "count_days_32_to_42": "0",
        "count_days_187_to_365": "10",  # E: 365
        "count_days_366_and_over": "10",  # D: 366
        "count_time_not_known": "10",  # F
        "activity_count": "60",
    }
    for measure, value in england.items():
        assert figure(tidy, "7a", "england", "", measure) == value, measure


def test_table_7a_commissioners_follow_the_practice_at_the_test_date(tidy):
    # 15F: A, B and D (Y00001 in May); 00L: C (Y00001 in April); Unknown: E and F
    assert figure(tidy, "7a", "commissioner", "15F", "activity_count") == "30"
    assert figure(tidy, "7a", "commissioner", "15F", "count_days_366_and_over") == "10"
    assert figure(tidy, "7a", "commissioner", "00L", "activity_count") == "10"
    assert figure(tidy, "7a", "commissioner", "00L", "count_days_15_to_31") == "10"
    assert figure(tidy, "7a", "commissioner", "Unknown", "activity_count") == "20"
    assert figure(tidy, "7a", "commissioner", "Unknown", "count_time_not_known") == "10"
    assert figure(tidy, "7a", "commissioner", "Unknown", "count_days_187_to_365") == "10"
    named = tidy.filter((tidy["table"] == "7a") & (tidy["provider_code"] == "00L")).row(
        0, named=True
    )
    assert named["region_code"] == "Y63"
    assert named["provider_name"] == "NHS North East and North Cumbria ICB - 00L"
    assert named["geography_level"] == "commissioner"


def test_table_7b_report_bands(tidy):
    england = {
        "count_days_0": "10",  # C
        "count_days_1": "0",
        "count_days_7": "10",  # A
        "count_days_8_to_14": "10",  # B
        "count_days_43_to_62": "10",  # F: 62
        "count_days_63_and_over": "10",  # E: 63
        "count_time_not_known": "10",  # D
        "activity_count": "60",
    }
    for measure, value in england.items():
        assert figure(tidy, "7b", "england", "", measure) == value, measure
    assert figure(tidy, "7b", "commissioner", "15F", "count_time_not_known") == "10"
    assert figure(tidy, "7b", "commissioner", "00L", "count_days_0") == "10"


def test_table_8_cancer_test_all_and_gp_direct_access(tidy):
    assert figure(tidy, "8", "england", "", "activity_count", CHEST_XRAY) == "60"
    assert figure(tidy, "8", "england", "", "count_days_0_to_7", CHEST_XRAY) == "10"
    gp = "GP Direct Access"
    assert figure(tidy, "8", "england", "", "activity_count", CHEST_XRAY, gp) == "10"
    assert figure(tidy, "8", "england", "", "count_days_0_to_7", CHEST_XRAY, gp) == "10"
    assert figure(tidy, "8", "commissioner", "15F", "activity_count", CHEST_XRAY, gp) == "10"
    assert figure(tidy, "8", "commissioner", "00L", "activity_count", CHEST_XRAY, gp) == "0"
    # only the three cancer tests of table 8, and the four modalities of 7a
    assert set(tidy.filter(tidy["table"] == "8")["modality"]) == {CHEST_XRAY}


def test_strict_protects_the_commissioner_tables_and_its_audit_passes(tmp_path):
    tidy = publish(tmp_path, "strict")  # the build stops if its audit fails
    rows = tidy.filter((tidy["table"] == "7a") & (tidy["geography_level"] == "commissioner"))
    unknown = rows.filter(rows["provider_code"] == "Unknown")
    shown = {r["measure"]: r["value"] for r in unknown.iter_rows(named=True) if not r["marker"]}
    assert shown.get("activity_count") == "20"
    bands = [int(v) for m, v in shown.items() if m != "activity_count"]
    assert len(shown) < 11 or sum(bands) == 20  # bands add up to the total when all shown


def test_a_practice_in_two_sub_icbs_on_one_date_is_refused_with_its_row(tmp_path):
    practices = tmp_path / "practices.csv"
    lines = TEST_PRACTICES.read_text().splitlines()
    # Y00001's second period now starts on a day the first still covers
    practices.write_text("\n".join([*lines[:3], lines[3].replace("2024-05-01", "2024-04-30")]))
    path = write_submission(tmp_path / "rcc.csv", [chest_xray(**GROUPS["A"])])
    result = build([path], tmp_path / "out", "--practices", practices, expect=2)
    assert "practices.csv: row(s) 3, field valid_from" in result.output
    assert "two sub-ICB locations at once" in result.output


def test_a_practice_reference_without_a_column_is_refused(tmp_path):
    practices = tmp_path / "practices.csv"
    practices.write_text("practice_code,sub_icb_code,region_code\nB86001,15F,Y63\n")
    path = write_submission(tmp_path / "rcc.csv", [chest_xray(**GROUPS["A"])])
    result = build([path], tmp_path / "out", "--practices", practices, expect=2)
    assert "practices.csv: row 1 (the header), missing column(s) sub_icb_name" in result.output
