"""Baseline for the benchmark: tables 1-3 in plain pandas from the same record store.

What an analyst would write by hand: load the derived records of the store (accepted,
provider and modality looked up, waits in days), group by provider, modality and month,
count and take medians, and the same for the year, the region and England. No
resubmission handling, no disclosure control and no tidy output: the comparison
flatters pandas.
Not part of the package (pandas is not a dependency of did-publish).
"""

import sys
from pathlib import Path

import pandas as pd

COLUMNS = [
    "region_code",
    "provider_code",
    "modality",
    "test_month",
    "days_request_to_test",
    "days_test_to_report",
]


def tables_1_to_3(store: Path) -> pd.DataFrame:
    # The Parquet files only: each has its SHA-256 seal beside it (store.seal).
    batches = sorted(str(path) for path in (store / "derived").glob("*.parquet"))
    records = pd.concat(
        (pd.read_parquet(path, columns=COLUMNS, engine="pyarrow") for path in batches),
        ignore_index=True,
    )
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
