"""Tables 1-3 from small submission files, checked against figures computed by hand.

The scenario (financial year 2024-25, published to June 2024):

Plain Radiography (XCHES) unless said otherwise; test on the 10th of the month.
- RAA (London, Y56). April: 4 tests, request-to-test days 1, 2, 3, 10 (median 2.5),
  test-to-report days 0, 1, 1, 5 (median 1). May: 2 tests, days 4 and 6. June: nothing
  submitted at all. Year to date: 6 tests, days 1 2 3 4 6 10, median 3.5.
- RBB (South West, Y58). April: 13 tests of 5 days, but one is resubmitted later as
  an MRI (MBRAI) test, so April is 12 X-ray + 1 MRI. May: 3 MRI tests only (X-ray May is
  a submitted zero). June: 8 X-ray tests with no request date and a received date 7
  days before the test (median 7 from the received date).
- NT4, an independent provider with a site in each region: April, 3 tests in London,
  1 in the South West: one row per region.
- A later resubmission of RAA's first April record with an invalid test date is
  rejected and leaves the accepted original in place.
"""

from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import build, cell, read_tidy, record, write_submission

XRAY = "Plain Radiography"
MRI = "Magnetic Resonance Imaging"
YTD = "2024-04/2024-06"


def test_record(month: int, request_days: int | None, report_days: int | None, **fields):
    test_date = date(2024, month, 10)
    values = {"DIAGNOSTIC_TEST_DATE": test_date.isoformat()}
    if request_days is None:
        values["DIAGNOSTIC_TEST_REQUEST_DATE"] = ""
        values["DIAG_TEST_REQUEST_REC_DATE"] = ""
    else:
        request = (test_date - timedelta(days=request_days)).isoformat()
        values["DIAGNOSTIC_TEST_REQUEST_DATE"] = request
        values["DIAG_TEST_REQUEST_REC_DATE"] = request
    values["SERVICE_REPORT_DATE"] = (
        "" if report_days is None else (test_date + timedelta(days=report_days)).isoformat()
    )
    return record(**(values | fields))


test_record.__test__ = False  # a factory, not a test


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> tuple[list[Path], Path]:
    folder = tmp_path_factory.mktemp("submissions")
    raa = [
        test_record(4, d, r, SITE_CODE_IMAGING=site)
        for d, r, site in [(1, 0, "RAA01"), (2, 1, "RAA02"), (3, 1, "RAA01"), (10, 5, "RAA01")]
    ] + [test_record(5, d, 2, SITE_CODE_IMAGING="RAA01") for d in (4, 6)]
    nt4 = [test_record(4, 2, 1, SITE_CODE_IMAGING="NT4L1") for _ in range(3)]
    nt4 += [test_record(4, 2, 1, SITE_CODE_IMAGING="NT4S1")]
    rbb_april = [test_record(4, 5, 1, SITE_CODE_IMAGING="RBB01") for _ in range(13)]
    rbb = rbb_april + [
        test_record(5, 20, 3, SITE_CODE_IMAGING="RBB01", IMAGING_CODE_NICIP="MBRAI")
        for _ in range(3)
    ]
    june = []
    for _ in range(8):
        row = test_record(6, None, 2, SITE_CODE_IMAGING="RBB01")
        row["DIAG_TEST_REQUEST_REC_DATE"] = "2024-06-03"
        june.append(row)
    rbb += june
    resubmitted_as_mri = rbb_april[0] | {"IMAGING_CODE_NICIP": "MBRAI"}
    rejected_resubmission = raa[0] | {"DIAGNOSTIC_TEST_DATE": "2024-04-31"}
    files = [
        write_submission(folder / "raa-nt4.csv", raa + nt4),
        write_submission(folder / "rbb.csv", rbb, header=False),
        write_submission(folder / "resubmission.csv", [resubmitted_as_mri, rejected_resubmission]),
    ]
    manifest = folder / "submissions.csv"
    manifest.write_text(
        "file,submission_date\nraa-nt4.csv,2024-07-15\nrbb.csv,2024-07-15\n"
        "resubmission.csv,2024-07-20\n"
    )
    return files, manifest


@pytest.fixture(scope="module")
def did_tidy(submissions, tmp_path_factory):
    files, manifest = submissions
    out = tmp_path_factory.mktemp("out-did")
    build(files, out, "--submissions", manifest, "--period", "2024-06")
    return read_tidy(out / "did-2024-25-provisional-2024-06")


@pytest.fixture(scope="module")
def hes_tidy(submissions, tmp_path_factory):
    files, manifest = submissions
    out = tmp_path_factory.mktemp("out-hes")
    build(files, out, "--submissions", manifest, "--period", "2024-06", "--policy", "hes")
    return read_tidy(out / "did-2024-25-provisional-2024-06")


def count(tidy, level, modality, period, region="", provider=""):
    return cell(
        tidy,
        table="1",
        geography_level=level,
        region_code=region,
        provider_code=provider,
        modality=modality,
        period=period,
        measure="activity_count",
    )


def median(tidy, table, provider, region, modality, period):
    measure = "median_days_request_to_test" if table == "2" else "median_days_test_to_report"
    return cell(
        tidy,
        table=table,
        geography_level="provider",
        region_code=region,
        provider_code=provider,
        modality=modality,
        period=period,
        measure=measure,
    )


def test_counts_rounded_to_five_and_small_counts_suppressed_under_did(did_tidy):
    assert count(did_tidy, "provider", XRAY, "2024-04", "Y56", "RAA") == ("5", "")  # 4
    assert count(did_tidy, "provider", XRAY, "2024-05", "Y56", "RAA") == ("", "c")  # 2
    assert count(did_tidy, "provider", XRAY, YTD, "Y56", "RAA") == ("5", "")  # 6


def test_provider_month_with_no_submission_is_x(did_tidy):
    assert count(did_tidy, "provider", XRAY, "2024-06", "Y56", "RAA") == ("", "x")


def test_submitted_zero_is_published_as_zero(did_tidy):
    assert count(did_tidy, "provider", XRAY, "2024-05", "Y58", "RBB") == ("0", "")
    assert median(did_tidy, "2", "RBB", "Y58", XRAY, "2024-05") == ("", "z")


def test_resubmission_replaces_the_earlier_record_and_is_counted_once(did_tidy):
    # 13 April X-rays, one resubmitted as MRI: 12 X-ray (-> 10), 1 MRI (-> c).
    assert count(did_tidy, "provider", XRAY, "2024-04", "Y58", "RBB") == ("10", "")
    assert count(did_tidy, "provider", MRI, "2024-04", "Y58", "RBB") == ("", "c")


def test_rejected_resubmission_keeps_the_accepted_original(did_tidy):
    # RAA April stays at 4 records (published 5), with its median of 2.5 from 4 records.
    assert median(did_tidy, "2", "RAA", "Y56", XRAY, "2024-04") == ("2.5", "")


def test_provider_with_sites_in_two_regions_has_a_row_per_region(did_tidy):
    assert count(did_tidy, "provider", XRAY, "2024-04", "Y56", "NT4") == ("5", "")  # 3
    assert count(did_tidy, "provider", XRAY, "2024-04", "Y58", "NT4") == ("", "c")  # 1
    names = did_tidy.filter(did_tidy["provider_code"] == "NT4")["region_code"].unique()
    assert sorted(names.to_list()) == ["Y56", "Y58"]


def test_medians_even_count_gives_half_day_and_year_is_median_of_records(did_tidy):
    assert median(did_tidy, "2", "RAA", "Y56", XRAY, "2024-04") == ("2.5", "")
    assert median(did_tidy, "3", "RAA", "Y56", XRAY, "2024-04") == ("1", "")
    # Year: days 1 2 3 4 6 10 -> 3.5; a median of monthly medians (2.5, 5) would be 3.75.
    assert median(did_tidy, "2", "RAA", "Y56", XRAY, YTD) == ("3.5", "")
    # May has 2 records: a median over fewer than 3 records is suppressed.
    assert median(did_tidy, "2", "RAA", "Y56", XRAY, "2024-05") == ("", "c")


def test_request_to_test_uses_received_date_when_request_date_missing(did_tidy):
    assert median(did_tidy, "2", "RBB", "Y58", XRAY, "2024-06") == ("7", "")


def test_england_rounded_never_suppressed_under_did(did_tidy):
    # April X-ray: RAA 4 + RBB 12 + NT4 4 = 20; May: RAA 2 + RBB 0 = 2 -> rounds to 0.
    assert count(did_tidy, "england", XRAY, "2024-04") == ("20", "")
    assert count(did_tidy, "england", XRAY, "2024-05") == ("0", "")
    # Year: 4 + 2 + 12 + 8 + 4 = 30; MRI April: 1, shown (rounded to 0), not suppressed.
    assert count(did_tidy, "england", XRAY, YTD) == ("30", "")
    assert count(did_tidy, "england", MRI, "2024-04") == ("0", "")


def test_region_rows_sum_providers(did_tidy):
    # London April X-ray: RAA 4 + NT4 3 = 7 -> 5.
    assert count(did_tidy, "region", XRAY, "2024-04", "Y56") == ("5", "")


def test_hes_suppresses_one_to_seven_below_england_and_leaves_england_unrounded(hes_tidy):
    assert count(hes_tidy, "provider", XRAY, "2024-04", "Y56", "RAA") == ("", "c")  # 4
    assert count(hes_tidy, "provider", XRAY, "2024-06", "Y58", "RBB") == ("10", "")  # 8
    assert count(hes_tidy, "region", XRAY, "2024-04", "Y56") == ("", "c")  # 7
    assert count(hes_tidy, "england", XRAY, "2024-05") == ("2", "")
    assert count(hes_tidy, "england", XRAY, YTD) == ("30", "")
    # Medians over 1-7 records are suppressed; RBB June has 8.
    assert median(hes_tidy, "2", "RAA", "Y56", XRAY, YTD) == ("", "c")
    assert median(hes_tidy, "2", "RBB", "Y58", XRAY, "2024-06") == ("7", "")


def test_tidy_csv_has_the_contract_columns_and_publication_order(did_tidy):
    assert did_tidy.columns == [
        "table",
        "geography_level",
        "region_code",
        "region_name",
        "provider_code",
        "provider_name",
        "modality",
        "source_setting",
        "period",
        "measure",
        "value",
        "marker",
    ]
    table1 = did_tidy.filter(did_tidy["table"] == "1")
    levels = table1["geography_level"].to_list()
    assert levels[0] == "england" and levels.index("provider") > levels.index("region")
    periods = table1.filter(table1["geography_level"] == "england")["period"].to_list()[:4]
    assert periods == ["2024-04", "2024-05", "2024-06", YTD]
