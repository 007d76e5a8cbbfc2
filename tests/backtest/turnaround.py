"""Back test of table 13: records that reproduce NHS England's published 2023-24 report
turnaround bands (`did-2023-24-table13_report_turnaround_bands.csv`), and the
comparison of our build's table 13 with them, provider cell by provider cell.

For each published provider row (region, org code, modality, broad setting, quarter):

- Total cases v (a count rounded to 5): n records, n in [v - 2, v + 2] and at least 3;
  `*`: 2 records (suppressed by the `did` policy, as by NHS England); 0: none;
- each published proportion p (to 3 decimal places, of the row's total cases): a whole
  number of records c with c / n = p at 3 decimal places; the bands are cumulative
  (same day <= by next day <= by 7 days <= by 14 days) and, with those reported after
  more than 28 days and those with no report date, fit in n. The n of the range is the
  first that admits such counts; a row none admits is reported (`infeasible`);
- a proportion published empty (NHS England leaves them empty for small totals) leaves
  its band free: its records are reported the same day.

Records are valid (INPUT.md), tested on the 10th of the quarter's first month in A&E
(05) or outpatients (03), one site per provider-region and one NICIP code per modality.
Report days by band: 0 (same day), 1 (next day), 5 (by 7 days), 10 (by 14 days), 20
(known, not more than 28 days), 40 (more than 28), none (not known).

    python -m tests.backtest.turnaround --out DIR --providers NT4,RP6
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from publish.codes import MODALITIES, REGIONS, SUBMISSION_COLUMNS  # noqa: E402

PUBLISHED_FILE = "did-2023-24-table13_report_turnaround_bands.csv"
PERIOD = "2024-03"
QUARTERS = {
    "2023-24 Q1": "2023-04/2023-06",
    "2023-24 Q2": "2023-07/2023-09",
    "2023-24 Q3": "2023-10/2023-12",
    "2023-24 Q4": "2024-01/2024-03",
}
SETTING_CODE = {"A&E / Admitted": "05", "OP / GP direct access": "03"}
# Published band -> our measure.
MEASURE_OF = {
    "Same day": "percent_reported_same_day",
    "By next day": "percent_reported_by_next_day",
    "By 7 days": "percent_reported_by_7_days",
    "By 14 days": "percent_reported_by_14_days",
    "> 28 days": "percent_reported_over_28_days",
    "Not known": "percent_report_time_not_known",
    "Total cases": "activity_count",
}
CUMULATIVE = ("Same day", "By next day", "By 7 days", "By 14 days")
# Report days of a record in each band (not cumulative), None: no report date.
BAND_DAYS = {
    "Same day": 0,
    "By next day": 1,
    "By 7 days": 5,
    "By 14 days": 10,
    "known": 20,
    "> 28 days": 40,
    "Not known": None,
}
MODALITY_OF = {name.lower(): name for name in MODALITIES}


def round3(value: float) -> float:
    """Half up to 3 decimal places (as a spreadsheet shows a proportion)."""
    return math.floor(value * 1000 + 0.5 + 1e-9) / 1000


def band_counts(n: int, shares: dict[str, float | None]) -> dict[str, int] | None:
    """Whole counts per band (cumulative bands as published) that give each published
    share at 3 decimal places over n, or None."""
    counts: dict[str, int] = {}
    for band, share in shares.items():
        if share is None:
            continue
        fits = [
            c
            for c in range(max(0, math.floor(share * n) - 1), math.ceil(share * n) + 2)
            if c <= n and abs(round3(c / n) - share) < 1e-9
        ]
        if not fits:
            return None
        counts[band] = fits[0]
    # a free cumulative band takes the count of the band before it (no record between)
    low = 0
    for band in CUMULATIVE:
        if band in counts:
            if counts[band] < low:
                return None
        else:
            counts[band] = low
        low = counts[band]
    counts.setdefault("> 28 days", 0)
    counts.setdefault("Not known", 0)
    if counts["By 14 days"] + counts["> 28 days"] + counts["Not known"] > n:
        return None
    return counts


def row_records(n: int, counts: dict[str, int]) -> list[int | None]:
    """The report days of a row's n records."""
    days: list[int | None] = []
    previous = 0
    for band in CUMULATIVE:
        days += [BAND_DAYS[band]] * (counts[band] - previous)
        previous = counts[band]
    days += [BAND_DAYS["> 28 days"]] * counts["> 28 days"]
    days += [BAND_DAYS["Not known"]] * counts["Not known"]
    days += [BAND_DAYS["known"]] * (n - len(days))
    return days


@dataclass
class TurnaroundResult:
    submissions: Path
    sites: Path
    imaging_codes: Path
    records: int
    infeasible: list[tuple] = field(default_factory=list)


def read_published(published_dir: Path, providers: list[str]) -> pl.DataFrame:
    table = pl.read_csv(published_dir / PUBLISHED_FILE, infer_schema=False)
    return table.filter(pl.col("org_code").is_in(providers)).with_columns(
        pl.col("value_as_published").fill_null("")
    )


def generate(out_dir: Path, published_dir: Path, providers: list[str]) -> TurnaroundResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    published = read_published(published_dir, providers)
    rows = published.group_by(
        "region_code",
        "org_code",
        "provider_name",
        "modality",
        "setting_group",
        "quarter",
        maintain_order=True,
    ).agg(pl.col("band"), pl.col("value_as_published"))
    codes = {name: f"TT{i:02d}" for i, name in enumerate(MODALITIES)}
    records: list[list[str]] = []
    infeasible = []
    for row in rows.iter_rows(named=True):
        values = dict(zip(row["band"], row["value_as_published"], strict=True))
        total = values.get("Total cases", "")
        if total in ("", "0", "-"):
            continue
        if total == "*":
            n_range, shares = [2], {}
        else:
            v = int(total)
            n_range = [n for n in range(v - 2, v + 3) if n >= 3]
            shares = {
                band: (float(text) if text != "" else None)
                for band, text in values.items()
                if band != "Total cases"
            }
        chosen = None
        for n in n_range:
            counts = band_counts(n, shares) if shares else {b: n for b in CUMULATIVE}
            if counts is not None:
                chosen = (n, counts | {k: 0 for k in ("> 28 days", "Not known") if k not in counts})
                break
        if chosen is None:
            infeasible.append(
                (row["org_code"], row["modality"], row["setting_group"], row["quarter"])
            )
            continue
        n, counts = chosen
        month = QUARTERS[row["quarter"]][:7]
        test_day = date(int(month[:4]), int(month[5:]), 10)
        site = f"{row['org_code']}{row['region_code']}"
        nicip = codes[MODALITY_OF[row["modality"].lower()]]
        for days in row_records(n, counts):
            number = len(records) + 1
            report = "" if days is None else (test_day + timedelta(days=days)).isoformat()
            values_of = {
                "NHS_NUMBER": "",
                "NHS_NUMBER_STATUS_IND": "",
                "PERSON_BIRTH_DATE": "1960-05-17",
                "ETHNIC_CATEGORY": "A",
                "PERSON_GENDER_CODE": "2",
                "POSTCODE": "LS1 4AP",
                "PRACTICE_CODE": "B86001",
                "PATIENT_SOURCE_SETTING": SETTING_CODE[row["setting_group"]],
                "REFERRER": "",
                "REFERRING_ORG_CODE": "",
                "DIAGNOSTIC_TEST_REQUEST_DATE": (test_day - timedelta(days=1)).isoformat(),
                "DIAG_TEST_REQUEST_REC_DATE": (test_day - timedelta(days=1)).isoformat(),
                "DIAGNOSTIC_TEST_DATE": test_day.isoformat(),
                "IMAGING_CODE_NICIP": nicip,
                "IMAGING_CODE_SNOMED": "",
                "SERVICE_REPORT_DATE": report,
                "SITE_CODE_IMAGING": site,
                "RADIOLOGICAL_ACCESSION_NUM": f"T13{number:09d}",
            }
            records.append([values_of[c] for c in SUBMISSION_COLUMNS])
    submissions = out_dir / "submissions.csv"
    with submissions.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SUBMISSION_COLUMNS)
        writer.writerows(records)
    sites = out_dir / "sites.csv"
    site_rows = published.select("region_code", "org_code", "provider_name").unique(
        ["region_code", "org_code"], keep="first", maintain_order=True
    )
    with sites.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            ["site_code", "provider_code", "provider_name", "region_code", "region_name"]
        )
        for region, org, name in site_rows.iter_rows():
            writer.writerow([f"{org}{region}", org, name, region, REGIONS[region]])
    imaging_codes = out_dir / "imaging_codes.csv"
    with imaging_codes.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            [
                "code_system",
                "code",
                "description",
                "modality",
                "body_region",
                "interventional",
                "cancer_test_group",
                "valid_from",
                "valid_to",
            ]
        )
        for name, code in codes.items():
            writer.writerow(["NICIP", code, name, name, "", "N", "", "2010-01-01", ""])
    return TurnaroundResult(submissions, sites, imaging_codes, len(records), infeasible)


@dataclass
class Comparison:
    cells: int
    agree: int
    mismatches: pl.DataFrame


def compare(published_dir: Path, providers: list[str], tidy_csv: Path) -> Comparison:
    """Every published provider cell of table 13 against ours: a count equal as
    published (`*` is our `c`), a proportion equal at 3 decimal places (empty: ours
    empty too)."""
    published = read_published(published_dir, providers).with_columns(
        pl.col("quarter").replace_strict(QUARTERS).alias("period"),
        pl.col("band").replace_strict(MEASURE_OF).alias("measure"),
    )
    ours = (
        pl.read_csv(tidy_csv, infer_schema=False)
        .filter((pl.col("table") == "13") & (pl.col("geography_level") == "provider"))
        .with_columns(pl.all().fill_null(""))
        .with_columns(pl.col("modality").str.to_lowercase())
    )
    joined = (
        published.with_columns(pl.col("modality").str.to_lowercase())
        .join(
            ours.select(
                "region_code",
                pl.col("provider_code").alias("org_code"),
                "modality",
                pl.col("source_setting").alias("setting_group"),
                "period",
                "measure",
                pl.col("value").alias("our_value"),
                pl.col("marker").alias("our_marker"),
            ),
            on=["region_code", "org_code", "modality", "setting_group", "period", "measure"],
            how="left",
        )
        .with_columns(pl.col("our_value").fill_null(""), pl.col("our_marker").fill_null("missing"))
    )

    def agrees(row: dict) -> bool:
        text, value, marker = row["value_as_published"], row["our_value"], row["our_marker"]
        if row["measure"] == "activity_count":
            if text == "*":
                return marker == "c"
            return (
                value == (text or "0") and marker in ("", "missing")
                if text in ("", "0")
                else value == text
            )
        if text == "":
            return value == ""
        return value != "" and abs(round3(float(value) / 100) - float(text)) < 1e-9

    flags = [agrees(row) for row in joined.iter_rows(named=True)]
    joined = joined.with_columns(pl.Series("agrees", flags))
    return Comparison(joined.height, int(sum(flags)), joined.filter(~pl.col("agrees")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--providers", required=True)
    parser.add_argument("--published", type=Path, default=ROOT / "tests" / "data" / "published")
    args = parser.parse_args(argv)
    result = generate(args.out, args.published, args.providers.split(","))
    print(f"{result.records} records; {len(result.infeasible)} rows infeasible")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
