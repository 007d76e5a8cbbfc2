"""The median rule of PUBLICATION.md section 3, by hand, under did, hes and strict.

A median's records are its count cell's records, whether or not they carry the dates:
the count decides suppression before "no data". So a cell whose tests have no report
date is `c` when it has fewer records than the policy's median threshold (did: 1-2;
hes: 1-7; strict: 1 to k-1, k = 10) and `x` from the threshold on.

April 2024, no report date on any test of RCC (South West):
- "few": RCC has threshold - 1 Plain Radiography tests (XCHES); RAA (London) and RBB
  (South West) 20 X-ray and 20 CT tests each, reported the next day (so that strict's
  secondary suppression has partners and its audit passes). RCC's X-ray median of
  test to report is `c`, month and year to date.
- "enough": RCC alone, threshold CT tests (CCHAB), requested 3 days before: its median
  test to report is `x`; request to test is 3.
"""

import pytest

from tests.conftest import build, cell, read_tidy, write_submission
from tests.test_build_tables import test_record

YTD = "2024-04/2024-04"
THRESHOLD = {"did": 3, "hes": 8, "strict": 10}
XRAY, CT = "Plain Radiography", "Computerized Axial Tomography"


def published(tmp_path, rows, policy: str):
    path = write_submission(tmp_path / "april.csv", rows)
    build([path], tmp_path / "out", "--policy", policy, "--period", "2024-04")
    tidy = read_tidy(tmp_path / "out" / "did-2024-25-provisional-2024-04")

    def rcc(table: int, modality: str, measure: str, period: str):
        return cell(
            tidy,
            table=str(table),
            geography_level="provider",
            provider_code="RCC",
            modality=modality,
            source_setting="All",
            period=period,
            measure=measure,
        )

    return rcc


@pytest.mark.parametrize("policy", ["did", "hes", "strict"])
def test_median_of_too_few_records_without_dates_is_c(tmp_path, policy: str) -> None:
    rows = [
        test_record(4, 3, None, SITE_CODE_IMAGING="RCC01") for _ in range(THRESHOLD[policy] - 1)
    ]
    for site in ("RAA01", "RBB01"):
        rows += [test_record(4, 3, 1, SITE_CODE_IMAGING=site) for _ in range(20)]
        rows += [
            test_record(4, 3, 1, SITE_CODE_IMAGING=site, IMAGING_CODE_NICIP="CCHAB")
            for _ in range(20)
        ]
    rcc = published(tmp_path, rows, policy)
    for period in (YTD, "2024-04"):
        assert rcc(3, XRAY, "median_days_test_to_report", period) == ("", "c")
        assert rcc(2, XRAY, "median_days_request_to_test", period) == ("", "c")


@pytest.mark.parametrize("policy", ["did", "hes", "strict"])
def test_median_of_enough_records_without_dates_is_x(tmp_path, policy: str) -> None:
    rows = [
        test_record(4, 3, None, SITE_CODE_IMAGING="RCC01", IMAGING_CODE_NICIP="CCHAB")
        for _ in range(THRESHOLD[policy])
    ]
    rcc = published(tmp_path, rows, policy)
    for period in (YTD, "2024-04"):
        assert rcc(3, CT, "median_days_test_to_report", period) == ("", "x")
        assert rcc(2, CT, "median_days_request_to_test", period) == ("3", "")
