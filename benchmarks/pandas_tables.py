"""Baseline for the benchmark: tables 1-3 in plain pandas from the same record store.

What an analyst would write by hand: load the validated records, keep the accepted
ones, look up provider and modality, group by provider, modality and month, count and
take medians, and the same for the year, the region and England. No resubmission
handling, no disclosure control and no tidy output: the comparison flatters pandas.
Not part of the package (pandas is not a dependency of did-publish).
"""

import sys
from pathlib import Path

import pandas as pd

from publish.reference import DEFAULT_IMAGING_CODES, DEFAULT_SITES

COLUMNS = [
    "site_code",
    "nicip_code",
    "snomed_code",
    "test_date",
    "request_date",
    "received_date",
    "report_date",
    "rejection_codes",
]


def tables_1_to_3(store: Path) -> pd.DataFrame:
    records = pd.read_parquet(store / "checked", columns=COLUMNS, engine="pyarrow")
    records = records[records["rejection_codes"].map(len) == 0]
    sites = pd.read_csv(DEFAULT_SITES, dtype=str)
    codes = pd.read_csv(DEFAULT_IMAGING_CODES, dtype=str)
    codes["code"] = codes["code"].str.upper()
    records["code"] = records["snomed_code"].fillna(records["nicip_code"])
    records = records.merge(sites, on="site_code").merge(
        codes.drop_duplicates("code")[["code", "modality"]], on="code"
    )
    test = pd.to_datetime(records["test_date"])
    request = pd.to_datetime(records["request_date"].fillna(records["received_date"]))
    records["test_month"] = test.dt.strftime("%Y-%m")
    records["days_request_to_test"] = (test - request).dt.days
    records["days_test_to_report"] = (pd.to_datetime(records["report_date"]) - test).dt.days
    pieces = []
    for level in (
        ["region_code", "provider_code", "modality"],
        ["region_code", "modality"],
        ["modality"],
    ):
        for period in (["test_month"], []):
            pieces.append(
                records.groupby(level + period)
                .agg(
                    activity_count=("modality", "size"),
                    median_days_request_to_test=("days_request_to_test", "median"),
                    median_days_test_to_report=("days_test_to_report", "median"),
                )
                .reset_index()
            )
    return pd.concat(pieces, ignore_index=True)


if __name__ == "__main__":
    cells = tables_1_to_3(Path(sys.argv[1]))
    print(f"pandas: {len(cells)} cells")
