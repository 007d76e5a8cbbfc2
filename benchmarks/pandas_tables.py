"""Baseline for the benchmark: tables 1-3 in plain pandas from the same store.

What an analyst would write by hand: load the derived records, group by provider,
modality and month, count and take medians, and the same for the year and for England.
No disclosure control and no tidy output: the comparison flatters the baseline.
Not part of the package (pandas is not a dependency of did-publish).
"""

import sys
import time

import duckdb
import pandas as pd

COLUMNS = (
    "region_code, provider_code, modality, test_month, days_request_to_test, days_test_to_report"
)


def tables_1_to_3(records: pd.DataFrame) -> pd.DataFrame:
    keys = ["region_code", "provider_code", "modality"]
    pieces = []
    for level_keys in (keys, ["region_code", "modality"], ["modality"]):
        for period_keys in (["test_month"], []):
            grouped = records.groupby(level_keys + period_keys, sort=True)
            pieces.append(
                grouped.agg(
                    activity_count=("modality", "size"),
                    median_days_request_to_test=("days_request_to_test", "median"),
                    median_days_test_to_report=("days_test_to_report", "median"),
                ).reset_index()
            )
    return pd.concat(pieces, ignore_index=True)


def main(store: str) -> None:
    started = time.perf_counter()
    con = duckdb.connect(store, read_only=True)
    records = con.sql(f"SELECT {COLUMNS} FROM activity_records").df()
    loaded = time.perf_counter()
    cells = tables_1_to_3(records)
    done = time.perf_counter()
    print(
        f"pandas: {len(records)} records loaded in {loaded - started:.1f} s, "
        f"{len(cells)} cells in {done - loaded:.1f} s"
    )


if __name__ == "__main__":
    main(sys.argv[1])
