"""Back test, part 1: submissions that reproduce NHS England's published 2023-24 tables.

From the published DID tables 1, 2, 3 and 11 (`did-2023-24-*.csv`) this writes
record-level submission files whose valid records give, under the `did` policy, exactly
the published figures of every provider cell:

- table 1: for each provider-region-modality-month cell a record count n that rounds
  to the published value (n in [v-2, v+2], n >= 3; n = 1 or 2 where it is `*`; no
  records where it is empty);
- tables 2 and 3: the records' days from request to test and from test to report are
  placed around the published median by rank, so that the median of the dated records
  is the published one exactly: with k dated records in day order, the values at
  positions floor((k+1)/2) and floor(k/2)+1 (1-based) are floor(M) and ceil(M), those
  before are in [0, floor(M)] and those after at least ceil(M). An x.5 median needs an
  even k, so one record of an odd cell is left without the dates (k = n - 1; n >= 4).
  A published empty median with records gives k = 0 (no request and received dates, or
  no report date);
- table 11: the records of a provider-region-modality are given source settings over
  the year so that each setting's annual count rounds to its published value, the
  monthly counts n being chosen within their ranges so that their sum N also rounds to
  the published Total (a small integer feasibility problem, solved per row; a row with
  no solution is reported in `GenerationResult.infeasible`, with the ranges, and its
  table 1-3 cells are still met exactly).

Records are otherwise valid (INPUT.md): NHS numbers with a modulus-11 check digit,
request <= received <= test <= report, tests dated in their month, one site per
provider-region (`sites.csv` written here, names exactly as published) and one NICIP
code per modality (`imaging_codes.csv`). One file per provider-region-month, and a
submissions manifest with dates in the month after the tests (later where a report was
issued later, so that DIDS066 does not apply to valid records).

Validation then has to do its job for the numbers to match:

- invalid records (each made to break one DIDS rule: `INVALID_RULES`) are added to each
  file; `expected_rejections.csv` lists every record validation must reject, by file
  and row number, with the rule it was made to break;
- resubmissions: some valid records first arrive in their month's file in a wrong
  version (another modality of the provider-region, or a test in the month before), and
  their right version follows in a later-dated `*_resubmission.csv` file with the same
  site and accession number; the wrong version must not count. The resubmission files
  also hold invalid versions of other valid records, which must be rejected and leave
  the earlier accepted record in place.

Vectorised (numpy, polars) per provider-region; the random stream of each provider-
region is fixed by (seed, provider, region), so a subset of providers gets the same
records as in the full year.

    python -m tests.backtest.generate --out DIR [--providers NT4,RR8] [--format parquet]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from publish.codes import REGIONS, SOURCE_SETTINGS, SUBMISSION_COLUMNS  # noqa: E402

DEFAULT_PUBLISHED = ROOT / "tests" / "data" / "published"
FINANCIAL_YEAR = "2023-24"
MONTHS: tuple[str, ...] = tuple(f"2023-{m:02d}" for m in range(4, 13)) + tuple(
    f"2024-{m:02d}" for m in range(1, 4)
)
PERIOD = MONTHS[-1]
YEAR_TO_DATE = f"{MONTHS[0]}/{MONTHS[-1]}"
PUBLISHED_FILES = {
    "1": "did-2023-24-table1_activity_count.csv",
    "2": "did-2023-24-table2_median_days_request_to_test.csv",
    "3": "did-2023-24-table3_median_days_test_to_report.csv",
    "11": "did-2023-24-table11_activity_by_source_setting.csv",
}
PUBLISHED_TOTAL = "Total"

# One NICIP code per modality (the back test's own imaging-code reference).
MODALITY_CODES: dict[str, str] = {
    "Computerized Axial Tomography": "BTCT",
    "Diagnostic Ultrasonography": "BTUS",
    "Fluoroscopy": "BTFL",
    "Magnetic Resonance Imaging": "BTMR",
    "Medical Photography": "BTMP",
    "Nuclear Medicine Procedure": "BTNM",
    "Plain Radiography": "BTXR",
    "Positron Emission Tomography": "BTPT",
    "Single Photon Emission Computerized Tomography": "BTSP",
}
SETTING_CODE_OF = {label: code for code, label in SOURCE_SETTINGS.items()}
SETTING_CODES = tuple(SOURCE_SETTINGS)  # "01" ... "07"

# Invalid records: each is a copy of a valid record of its file, with a fresh accession
# number, changed to break the rule named (it may break others too, as said).
INVALID_RULES: tuple[str, ...] = (
    "DIDS001",  # NHS number fails the modulus-11 check
    "DIDS002",  # NHS number of 9 digits (and DIDS001)
    "DIDS003",  # NHS number status not 01-08
    "DIDS005",  # birth date not a valid date
    "DIDS006",  # birth date after the test date
    "DIDS009",  # birth date on or before 1900-01-01
    "DIDS012",  # ethnic category not in the code list
    "DIDS014",  # gender not in the code list
    "DIDS020",  # source setting missing
    "DIDS021",  # source setting not 01-07
    "DIDS026",  # request date not a valid date
    "DIDS027",  # request date after the received date
    "DIDS031",  # request date before 1970 (and warning DIDS028)
    "DIDS034",  # request date after the test date (and DIDS035)
    "DIDS036",  # received date not a valid date
    "DIDS041",  # received date before 1970 (and warning DIDS038)
    "DIDS043",  # received date after the test date
    "DIDS045",  # test date not a valid date
    "DIDS048",  # report date before the test date (and DIDS035)
    "DIDS050",  # test date missing
    "DIDS051",  # test date after the submission date
    "DIDS055",  # test date more than 6 months before the submission month
    "DIDS056",  # no imaging code
    "DIDS057",  # NICIP code not in the reference
    "DIDS059",  # SNOMED code not in the reference
    "DIDS061",  # report date not a valid date
    "DIDS066",  # report date after the submission date
    "DIDS067",  # site code missing
    "DIDS068",  # site code of valid format, not in the reference
    "DIDS069",  # site code not 5-12 letters and digits
    "DIDS070",  # accession number missing
    "DIDS071",  # the same (site, accession number) twice in the file: both rejected
    "DIDS072",  # accession number longer than 20 characters
    "DIDS073",  # no patient-identifying item at all
)
# Invalid versions of valid records in the resubmission files (rejected; the original
# stays): rules that leave the site and accession number as they are.
BAD_RESUBMISSION_RULES = ("DIDS045", "DIDS021", "DIDS057", "DIDS034", "DIDS001")

INVALID_SHARE = 0.002  # of a file's valid records, at least MIN_INVALID_PER_FILE
MIN_INVALID_PER_FILE = 2
RESUBMITTED_SHARE = 0.001  # of a file's valid records, at least 1 where the file has 4+
BAD_RESUBMISSION_SHARE = 0.0005
RECEIVED_ONLY_SHARE = 0.05  # dated records with a received date but no request date
BAD_REFERRER_SHARE = 0.003  # warning DIDS023 only: the record counts
LOWER_CASE_CODE_SHARE = 0.01  # NICIP codes are case-insensitive
PADDED_SETTING_SHARE = 0.01  # values are trimmed: " 03 "
HEADERLESS_FILE_EVERY = 7  # every 7th file (by a hash of its name) has no header row

POSTCODES = ("LS1 4AP", "M13 9WL", "B15 2TH", "SW17 0QT", "NE1 4LP", "BS2 8HW", "CB2 0QQ")
PRACTICES = ("B86001", "P84010", "M85063", "H81070", "A85006", "L81004", "D81002")
ETHNIC = tuple("ABCDEFGHJKLMNPRSZ") + ("99",)
GENDERS = ("1", "2", "9", "0")


# ---------------------------------------------------------------------------- reading


def read_published(published_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(cells, table11): provider rows of tables 1-3 joined per cell, and of table 11.

    Values stay text as published: "" no data, "*" suppressed, else a number.
    """
    keys = ["region_code", "org_code", "provider_name", "modality", "month"]

    def provider_rows(table: str) -> pl.DataFrame:
        frame = pl.read_csv(published_dir / PUBLISHED_FILES[table], infer_schema=False)
        return frame.filter(pl.col("org_code") != "-").with_columns(
            pl.col("value_as_published").fill_null("").str.strip_chars()
        )

    cells = (
        provider_rows("1")
        .select(*keys, pl.col("value_as_published").alias("count"))
        .join(
            provider_rows("2").select(*keys, pl.col("value_as_published").alias("median2")),
            on=keys,
            how="left",
        )
        .join(
            provider_rows("3").select(*keys, pl.col("value_as_published").alias("median3")),
            on=keys,
            how="left",
        )
        .with_columns(pl.col("median2", "median3").fill_null(""))
    )
    table11 = provider_rows("11").select(
        "region_code", "org_code", "modality", "source_setting", "value_as_published"
    )
    return cells, table11


# --------------------------------------------------------------------------- planning


def count_range(text: str) -> tuple[int, int]:
    """Record counts that publish as `text` under the did policy."""
    if text == "":
        return 0, 0
    if text == "*":
        return 1, 2
    value = int(float(text))
    if value == 0:
        return 0, 0
    return max(value - 2, 3), value + 2


def median_value(text: str) -> float | None:
    """NaN for "*" (suppressed), None for "" (no median), else the number."""
    if text == "":
        return None
    if text == "*":
        return math.nan
    return float(text)


def dated_records(n: int, median: float | None) -> int:
    """How many of a cell's n records carry the dates the median needs."""
    if n == 0 or median is None:
        return 0
    if math.isnan(median):
        return min(n, 2)  # 1-2 records: the median is suppressed
    if median % 1:
        return n - n % 2  # an x.5 median is the mean of two middle values
    return n


@dataclass
class Issue:
    """A published cell the generated records cannot reproduce, and why."""

    table: str
    region_code: str
    org_code: str
    modality: str
    key: str  # month, or source setting for table 11
    reason: str


@dataclass
class Plan:
    cells: pl.DataFrame  # one row per provider-region-modality-month with n, k2, k3
    settings: pl.DataFrame  # prm, setting code, annual count
    issues: list[Issue] = field(default_factory=list)


def rng_for(seed: int, *parts: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32("|".join(parts).encode())])


def adjust_to_total(
    values: list[int], lows: list[int], highs: list[int], target: int, rng, avoid: list[bool]
) -> list[int]:
    """Move values within [low, high] until they sum to target (as near as possible).

    Entries with avoid=True are moved last (an x.5-median cell prefers an even count).
    """
    values = list(values)
    order = sorted(rng.permutation(len(values)).tolist(), key=lambda i: avoid[i])
    delta = target - sum(values)
    while delta:
        moved = False
        for i in order:
            if delta > 0 and values[i] < highs[i]:
                step = min(delta, highs[i] - values[i], 1 if avoid[i] else delta)
                values[i] += step
                delta -= step
                moved = True
            elif delta < 0 and values[i] > lows[i]:
                step = min(-delta, values[i] - lows[i], 1 if avoid[i] else -delta)
                values[i] -= step
                delta += step
                moved = True
            if not delta:
                break
        if not moved:
            break
    return values


def plan_year(
    cells: pl.DataFrame, table11: pl.DataFrame, seed: int, providers: set[str] | None = None
) -> Plan:
    """Record counts per cell and source-setting counts per row, exact by construction."""
    if providers is not None:
        cells = cells.filter(pl.col("org_code").is_in(sorted(providers)))
        table11 = table11.filter(pl.col("org_code").is_in(sorted(providers)))
    settings11: dict[tuple[str, str, str], dict[str, str]] = {}
    for region, org, modality, setting, value in table11.iter_rows():
        settings11.setdefault((region, org, modality), {})[setting] = value
    month_order = {m: i for i, m in enumerate(MONTHS)}
    cells = cells.sort(
        "region_code",
        "org_code",
        pl.col("modality"),
        pl.col("month").replace_strict(month_order, return_dtype=pl.Int32),
    )
    issues: list[Issue] = []
    cell_rows: list[dict] = []
    setting_rows: list[dict] = []
    groups = cells.partition_by(["region_code", "org_code", "modality"], maintain_order=True)
    for prm, group in enumerate(groups):
        region, org, modality = group["region_code"][0], group["org_code"][0], group["modality"][0]
        rng = rng_for(seed, "plan", region, org, modality)
        rows = group.to_dicts()
        lows, highs, prefs, halves = [], [], [], []
        for row in rows:
            low, high = count_range(row["count"])
            m2, m3 = median_value(row["median2"]), median_value(row["median3"])
            half = any(m is not None and not math.isnan(m) and m % 1 for m in (m2, m3))
            has_median = any(m is not None and not math.isnan(m) for m in (m2, m3))
            if high == 0 and (m2 is not None or m3 is not None):
                issues.append(
                    Issue("2/3", region, org, modality, row["month"], "median without records")
                )
            if row["count"] == "*" and has_median:
                issues.append(
                    Issue("2/3", region, org, modality, row["month"], "median of 1-2 records")
                )
            if half and row["count"] not in ("", "*"):
                low = max(low, 4)
            choices = list(range(low, high + 1))
            if half and any(c % 2 == 0 for c in choices):
                choices = [c for c in choices if c % 2 == 0]
            lows.append(low)
            highs.append(high)
            prefs.append(int(rng.choice(choices)))
            halves.append(bool(half))
        # Table 11: the year's total N and its split over the source settings.
        published = settings11.get((region, org, modality), {})
        setting_ranges = [
            count_range(published[label]) if label in published else (0, 10**12)
            for label in SOURCE_SETTINGS.values()
        ]
        total_range = count_range(published.get(PUBLISHED_TOTAL, "")) if published else None
        month_low, month_high = sum(lows), sum(highs)
        settings_low = sum(r[0] for r in setting_ranges)
        settings_high = sum(r[1] for r in setting_ranges)
        total_low, total_high = total_range if total_range else (0, 10**12)
        low = max(month_low, total_low, settings_low)
        high = min(month_high, total_high, settings_high)
        wanted = sum(prefs)
        if low <= high:
            total = min(max(wanted, low), high)
        else:
            # Tables 1-3 come first: N within the months' ranges, as near to table 11 as
            # it can be.
            near = min(max(wanted, max(total_low, settings_low)), min(total_high, settings_high))
            total = min(max(near, month_low), month_high)
            issues.append(
                Issue(
                    "11",
                    region,
                    org,
                    modality,
                    "*",
                    f"no annual count fits: table 1 months allow {month_low}-{month_high}, "
                    f"table 11 Total {total_low}-{total_high}, "
                    f"its settings sum to {settings_low}-{settings_high}",
                )
            )
        counts = adjust_to_total(prefs, lows, highs, total, rng, halves)
        setting_prefs = [int(rng.integers(lo, min(hi, lo + 4) + 1)) for lo, hi in setting_ranges]
        split = adjust_to_total(
            setting_prefs,
            [r[0] for r in setting_ranges],
            [r[1] for r in setting_ranges],
            sum(counts),
            rng,
            [False] * len(setting_ranges),
        )
        if sum(split) != sum(counts):  # infeasible row: the remainder on the largest setting
            largest = int(np.argmax(split))
            split[largest] += sum(counts) - sum(split)
        for row, n in zip(rows, counts, strict=True):
            m2, m3 = median_value(row["median2"]), median_value(row["median3"])
            cell_rows.append(
                {
                    "prm": prm,
                    "region_code": region,
                    "org_code": org,
                    "provider_name": row["provider_name"],
                    "modality": modality,
                    "month": row["month"],
                    "n": n,
                    "k2": dated_records(n, m2),
                    "k3": dated_records(n, m3),
                    "median2": math.nan if m2 is None else m2,
                    "median3": math.nan if m3 is None else m3,
                }
            )
        for code, count in zip(SETTING_CODES, split, strict=True):
            setting_rows.append({"prm": prm, "setting": code, "count": count})
    cell_schema = {
        "prm": pl.Int64,
        "region_code": pl.Utf8,
        "org_code": pl.Utf8,
        "provider_name": pl.Utf8,
        "modality": pl.Utf8,
        "month": pl.Utf8,
        "n": pl.Int64,
        "k2": pl.Int64,
        "k3": pl.Int64,
        "median2": pl.Float64,
        "median3": pl.Float64,
    }
    return Plan(
        pl.DataFrame(cell_rows, schema=cell_schema),
        pl.DataFrame(setting_rows, schema={"prm": pl.Int64, "setting": pl.Utf8, "count": pl.Int64}),
        issues,
    )


# ---------------------------------------------------------------------------- records


def site_code(org: str, region: str) -> str:
    return f"{org}{region}B"


def month_start(month: str) -> np.datetime64:
    return np.datetime64(f"{month}-01", "D")


def waits_around_median(
    rank: np.ndarray, dated: np.ndarray, median: np.ndarray, tail: np.ndarray, rng
) -> np.ndarray:
    """Days for each record so that the median over a cell's k dated records is `median`.

    rank: 0-based position of the record in its cell; the records with rank < k are
    the dated ones. Positions a = (k+1)//2 - 1 and b = k//2 get floor(M) and ceil(M);
    lower ranks a value in [0, floor(M)], higher ranks ceil(M) plus a random tail.
    """
    k = dated
    lo = np.floor(np.nan_to_num(median)).astype(np.int64)
    hi = np.ceil(np.nan_to_num(median)).astype(np.int64)
    a = (k + 1) // 2 - 1
    b = k // 2
    below = lo - np.floor(rng.random(rank.size) * (lo + 1)).astype(np.int64)
    tail_days = np.minimum(rng.exponential(1.0, rank.size), 6.0) * tail
    above = hi + np.floor(tail_days).astype(np.int64)
    days = np.where(rank < a, below, np.where(rank > b, above, np.where(rank == a, lo, hi)))
    # a suppressed median ("*"): any small waits
    suppressed = np.isnan(median)
    return np.where(suppressed, rng.integers(0, 15, rank.size), days)


def nhs_numbers(size: int, rng) -> np.ndarray:
    """Valid 10-digit NHS numbers (modulus 11), as int64."""
    digits = rng.integers(0, 10, (size, 9))
    digits[:, 0] = rng.integers(4, 10, size)
    weights = np.arange(10, 1, -1)
    while True:
        check = (11 - (digits * weights).sum(axis=1) % 11) % 11
        bad = check == 10
        if not bad.any():
            break
        digits[bad, 8] = (digits[bad, 8] + 1) % 10
    base = (digits * (10 ** np.arange(8, -1, -1))).sum(axis=1)
    return base * 10 + check


def date_text(values: np.ndarray) -> pl.Series:
    """datetime64[D] (NaT = missing) -> "CCYY-MM-DD" or null."""
    return pl.Series(values.astype("datetime64[ms]")).cast(pl.Date).dt.strftime("%Y-%m-%d")


def provider_region_records(cells: pl.DataFrame, settings: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Every counted record of one provider-region, with its file's month."""
    cells = cells.filter(pl.col("n") > 0)
    region, org = cells["region_code"][0], cells["org_code"][0]
    rng = rng_for(seed, "records", region, org)
    n = cells["n"].to_numpy()
    total = int(n.sum())
    cell = np.repeat(np.arange(cells.height), n)
    first = np.repeat(np.cumsum(n) - n, n)
    rank = np.arange(total) - first
    starts = np.array([month_start(m) for m in cells["month"]])
    ends = np.array([month_start(m) + np.timedelta64(40, "D") for m in cells["month"]])
    ends = ends.astype("datetime64[M]").astype("datetime64[D]")
    month_days = (ends - starts).astype(np.int64)
    test = starts[cell] + rng.integers(0, month_days[cell]).astype("timedelta64[D]")

    k2 = cells["k2"].to_numpy()[cell]
    k3 = cells["k3"].to_numpy()[cell]
    m2 = cells["median2"].to_numpy()[cell]
    m3 = cells["median3"].to_numpy()[cell]
    d2 = waits_around_median(rank, k2, m2, np.clip(np.nan_to_num(m2) * 0.5, 1, 60), rng)
    # a different order of the cell's records for the second wait
    rank3 = (rank + n[cell] // 2) % n[cell]
    d3 = waits_around_median(rank3, k3, m3, np.clip(np.nan_to_num(m3) * 0.3, 0.6, 8), rng)
    dated2 = rank < k2
    dated3 = rank3 < k3
    received_only = dated2 & (rng.random(total) < RECEIVED_ONLY_SHARE)
    nat = np.datetime64("NaT", "D")
    request = np.where(dated2 & ~received_only, test - d2.astype("timedelta64[D]"), nat)
    gap = np.minimum(d2, rng.integers(0, 3, total)).astype("timedelta64[D]")
    received = np.where(
        dated2, np.where(received_only, test - d2.astype("timedelta64[D]"), request + gap), nat
    )
    report = np.where(dated3, test + d3.astype("timedelta64[D]"), nat)
    birth = test - rng.integers(0, 95 * 365, total).astype("timedelta64[D]")

    # Source settings: the row's annual counts, in random order over its records.
    setting = np.empty(total, dtype=object)
    prm = cells["prm"].to_numpy()[cell]
    for row in np.unique(prm):
        mine = np.flatnonzero(prm == row)
        split = settings.filter(pl.col("prm") == int(row))
        codes = np.repeat(split["setting"].to_numpy(), split["count"].to_numpy())
        setting[mine] = rng.permutation(codes)[: mine.size]
    setting = np.where(rng.random(total) < PADDED_SETTING_SHARE, " " + setting + " ", setting)

    code = np.array([MODALITY_CODES[m] for m in cells["modality"]])[cell]
    code = np.where(rng.random(total) < LOWER_CASE_CODE_SHARE, np.char.lower(code), code)
    referrer = np.char.add("G", rng.integers(1000000, 9999999, total).astype(str))
    roll = rng.random(total)
    referrer = np.where(roll < 0.03, "", np.where(roll > 1 - BAD_REFERRER_SHARE, "QQ1", referrer))
    return pl.DataFrame(
        {
            "NHS_NUMBER": nhs_numbers(total, rng).astype(str),
            "NHS_NUMBER_STATUS_IND": np.full(total, "01"),
            "PERSON_BIRTH_DATE": date_text(birth),
            "ETHNIC_CATEGORY": np.array(ETHNIC)[rng.integers(0, len(ETHNIC), total)],
            "PERSON_GENDER_CODE": np.array(GENDERS)[rng.integers(0, len(GENDERS), total)],
            "POSTCODE": np.array(POSTCODES)[rng.integers(0, len(POSTCODES), total)],
            "PRACTICE_CODE": np.array(PRACTICES)[rng.integers(0, len(PRACTICES), total)],
            "PATIENT_SOURCE_SETTING": setting.astype(str),
            "REFERRER": referrer,
            "REFERRING_ORG_CODE": np.array(PRACTICES)[rng.integers(0, len(PRACTICES), total)],
            "DIAGNOSTIC_TEST_REQUEST_DATE": date_text(request),
            "DIAG_TEST_REQUEST_REC_DATE": date_text(received),
            "DIAGNOSTIC_TEST_DATE": date_text(test),
            "IMAGING_CODE_NICIP": code,
            "IMAGING_CODE_SNOMED": np.full(total, None),
            "SERVICE_REPORT_DATE": date_text(report),
            "SITE_CODE_IMAGING": np.full(total, site_code(org, region)),
            "RADIOLOGICAL_ACCESSION_NUM": [f"A{i:09d}" for i in range(1, total + 1)],
            "file_month": cells["month"].to_numpy()[cell],
            "modality": cells["modality"].to_numpy()[cell],
        },
        schema_overrides={"IMAGING_CODE_SNOMED": pl.Utf8},
    ).with_columns(
        pl.lit("valid").alias("role"),
        pl.lit(None, pl.Utf8).alias("expected_rule"),
        pl.col(pl.Utf8).replace("", None),
    )


def shift_dates(frame: pl.DataFrame, days: pl.Expr) -> pl.DataFrame:
    """Move a record's dates by `days` days (the birth date too: a baby born on the day
    of the test must not end up born after it, DIDS006)."""
    names = (
        "PERSON_BIRTH_DATE",
        "DIAGNOSTIC_TEST_REQUEST_DATE",
        "DIAG_TEST_REQUEST_REC_DATE",
        "DIAGNOSTIC_TEST_DATE",
        "SERVICE_REPORT_DATE",
    )
    return frame.with_columns(
        (pl.col(name).str.to_date() + pl.duration(days=days)).dt.strftime("%Y-%m-%d")
        for name in names
    )


def resubmissions(
    records: pl.DataFrame, modalities: list[str], rng
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(kept, decoys, corrections) for one provider-region's records.

    A corrected record's right version moves to its month's resubmission file; a
    wrong version with the same site and accession number (another modality, or a test
    in the month before) takes its place in the month's own file.
    """
    picks: list[int] = []
    months = records["file_month"].to_numpy()
    for month in MONTHS:
        rows = np.flatnonzero(months == month)
        if rows.size < 4:
            continue
        wanted = max(1, round(RESUBMITTED_SHARE * rows.size))
        picks.extend(rng.choice(rows, size=min(wanted, rows.size // 4), replace=False).tolist())
    if not picks:
        empty = records.clear()
        return records, empty, empty
    chosen = records.with_row_index("position").filter(pl.col("position").is_in(picks))
    corrections = chosen.drop("position").with_columns(pl.lit("correction").alias("role"))
    other_modality = np.array(
        [
            rng.choice([m for m in modalities if m != own]) if len(modalities) > 1 else own
            for own in chosen["modality"]
        ]
    )
    change_month = (np.arange(chosen.height) % 2 == 1) | (len(modalities) == 1)
    change_month &= chosen["file_month"].to_numpy() != MONTHS[0]
    moved_back = -chosen["DIAGNOSTIC_TEST_DATE"].str.slice(8, 2).cast(pl.Int64) - rng.integers(
        0, 20, chosen.height
    )
    decoys = shift_dates(
        chosen.with_columns(pl.Series("back", np.where(change_month, moved_back, 0))),
        pl.col("back"),
    ).with_columns(
        pl.when(pl.Series(change_month))
        .then(pl.col("IMAGING_CODE_NICIP"))
        .otherwise(pl.Series([MODALITY_CODES[m] for m in other_modality]))
        .alias("IMAGING_CODE_NICIP"),
        pl.Series("PATIENT_SOURCE_SETTING", rng.choice(SETTING_CODES, chosen.height)),
        pl.lit("decoy").alias("role"),
    )
    decoys = decoys.drop("position", "back")
    # a record that cannot be moved (one modality, April) keeps its place
    unmoved = (~change_month) & (other_modality == chosen["modality"].to_numpy())
    keep_positions = set(range(records.height)) - set(
        np.array(chosen["position"])[~unmoved].tolist()
    )
    kept = records.with_row_index("position").filter(
        pl.col("position").is_in(sorted(keep_positions))
    )
    return (
        kept.drop("position"),
        decoys.filter(~pl.Series(unmoved)),
        corrections.filter(~pl.Series(unmoved)),
    )


def break_rules(frame: pl.DataFrame) -> pl.DataFrame:
    """Apply each row's `expected_rule` (needs `submission_date`, a Date)."""
    rule = pl.col("expected_rule")
    test = pl.col("DIAGNOSTIC_TEST_DATE").str.to_date(strict=False)

    def day(expr: pl.Expr) -> pl.Expr:
        return expr.dt.strftime("%Y-%m-%d")

    none = pl.lit(None, pl.Utf8)
    nhs = pl.col("NHS_NUMBER")
    wrong_check = nhs.str.slice(0, 9) + ((nhs.str.slice(9, 1).cast(pl.Int64) + 1) % 10).cast(
        pl.Utf8
    )
    sub_month = pl.col("submission_date").dt.truncate("1mo")
    changes: dict[str, dict[str, pl.Expr]] = {
        "DIDS001": {"NHS_NUMBER": wrong_check},
        "DIDS002": {"NHS_NUMBER": nhs.str.slice(0, 9)},
        "DIDS003": {"NHS_NUMBER_STATUS_IND": pl.lit("09")},
        "DIDS005": {"PERSON_BIRTH_DATE": pl.lit("1980-02-30")},
        "DIDS006": {"PERSON_BIRTH_DATE": day(test + pl.duration(days=10))},
        "DIDS009": {"PERSON_BIRTH_DATE": pl.lit("1899-12-31")},
        "DIDS012": {"ETHNIC_CATEGORY": pl.lit("Q")},
        "DIDS014": {"PERSON_GENDER_CODE": pl.lit("3")},
        "DIDS020": {"PATIENT_SOURCE_SETTING": none},
        "DIDS021": {"PATIENT_SOURCE_SETTING": pl.lit("08")},
        "DIDS026": {"DIAGNOSTIC_TEST_REQUEST_DATE": pl.lit("2023-13-01")},
        "DIDS027": {
            "DIAGNOSTIC_TEST_REQUEST_DATE": day(test - pl.duration(days=2)),
            "DIAG_TEST_REQUEST_REC_DATE": day(test - pl.duration(days=5)),
        },
        "DIDS031": {
            "DIAGNOSTIC_TEST_REQUEST_DATE": pl.lit("1969-12-31"),
            "DIAG_TEST_REQUEST_REC_DATE": none,
        },
        "DIDS034": {
            "DIAGNOSTIC_TEST_REQUEST_DATE": day(test + pl.duration(days=3)),
            "DIAG_TEST_REQUEST_REC_DATE": none,
        },
        "DIDS036": {"DIAG_TEST_REQUEST_REC_DATE": pl.lit("2023-02-29")},
        "DIDS041": {
            "DIAGNOSTIC_TEST_REQUEST_DATE": none,
            "DIAG_TEST_REQUEST_REC_DATE": pl.lit("1969-06-01"),
        },
        "DIDS043": {
            "DIAGNOSTIC_TEST_REQUEST_DATE": none,
            "DIAG_TEST_REQUEST_REC_DATE": day(test + pl.duration(days=1)),
        },
        "DIDS045": {"DIAGNOSTIC_TEST_DATE": pl.col("DIAGNOSTIC_TEST_DATE").str.slice(0, 8) + "32"},
        "DIDS048": {"SERVICE_REPORT_DATE": day(test - pl.duration(days=1))},
        "DIDS050": {"DIAGNOSTIC_TEST_DATE": none},
        "DIDS051": {
            "DIAGNOSTIC_TEST_DATE": day(pl.col("submission_date") + pl.duration(days=3)),
            "SERVICE_REPORT_DATE": none,
        },
        "DIDS055": {
            "DIAGNOSTIC_TEST_DATE": day(sub_month.dt.offset_by("-7mo")),
            "DIAGNOSTIC_TEST_REQUEST_DATE": none,
            "DIAG_TEST_REQUEST_REC_DATE": none,
            "SERVICE_REPORT_DATE": none,
        },
        "DIDS056": {"IMAGING_CODE_NICIP": none, "IMAGING_CODE_SNOMED": none},
        "DIDS057": {"IMAGING_CODE_NICIP": pl.lit("ZZQ99")},
        "DIDS059": {"IMAGING_CODE_NICIP": none, "IMAGING_CODE_SNOMED": pl.lit("999999999999")},
        "DIDS061": {"SERVICE_REPORT_DATE": pl.lit("2023-04-31")},
        "DIDS066": {"SERVICE_REPORT_DATE": day(pl.col("submission_date") + pl.duration(days=4))},
        "DIDS067": {"SITE_CODE_IMAGING": none},
        "DIDS068": {"SITE_CODE_IMAGING": pl.lit("ZZ999")},
        "DIDS069": {"SITE_CODE_IMAGING": pl.lit("R-1")},
        "DIDS070": {"RADIOLOGICAL_ACCESSION_NUM": none},
        "DIDS072": {"RADIOLOGICAL_ACCESSION_NUM": pl.lit("L" * 21)},
        "DIDS073": {
            name: none
            for name in (
                "NHS_NUMBER",
                "PERSON_BIRTH_DATE",
                "ETHNIC_CATEGORY",
                "PERSON_GENDER_CODE",
                "POSTCODE",
                "PRACTICE_CODE",
            )
        },
    }
    columns = []
    for name in SUBMISSION_COLUMNS:
        expr = pl.col(name)
        for code, changed in changes.items():
            if name in changed:
                expr = pl.when(rule == code).then(changed[name]).otherwise(expr)
        columns.append(expr.alias(name))
    return frame.with_columns(columns)


def invalid_copies(valid: pl.DataFrame, count: int, rules: list[str], prefix: str, rng):
    """`count` copies of random valid records, fresh accession numbers, one rule each.

    DIDS071 copies come in pairs with the same accession number.
    """
    rows = rng.integers(0, valid.height, count)
    copies = valid[rows.tolist()].with_columns(
        pl.Series("expected_rule", rules[:count], pl.Utf8),
        pl.Series("RADIOLOGICAL_ACCESSION_NUM", [f"{prefix}{i:06d}" for i in range(count)]),
        pl.lit("invalid").alias("role"),
    )
    twins = copies.filter(pl.col("expected_rule") == "DIDS071")
    return pl.concat([copies, twins])


# ----------------------------------------------------------------------------- writing


@dataclass
class GenerationResult:
    out_dir: Path
    submissions_dir: Path
    submissions_manifest: Path
    sites: Path
    imaging_codes: Path
    expected_rejections: Path
    providers: list[str]
    files: int = 0
    counted_records: int = 0  # the records that should count: sum of the planned n
    records_written: int = 0
    invalid_records: int = 0
    decoys: int = 0
    bad_resubmissions: int = 0
    issues: list[Issue] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict:
        return {
            "providers": len(self.providers),
            "files": self.files,
            "counted_records": self.counted_records,
            "records_written": self.records_written,
            "invalid_records": self.invalid_records,
            "resubmitted_records (wrong earlier version)": self.decoys,
            "rejected_resubmissions": self.bad_resubmissions,
            "infeasible_cells": len(self.issues),
            "seconds": round(self.seconds, 1),
        }


def write_reference(plan: Plan, out_dir: Path) -> tuple[Path, Path]:
    pairs = (
        plan.cells.select("org_code", "provider_name", "region_code")
        .unique()
        .sort("region_code", "org_code")
    )
    sites = pairs.select(
        pl.struct("org_code", "region_code")
        .map_elements(lambda r: site_code(r["org_code"], r["region_code"]), pl.Utf8)
        .alias("site_code"),
        pl.col("org_code").alias("provider_code"),
        "provider_name",
        "region_code",
        pl.col("region_code").replace_strict(REGIONS).alias("region_name"),
    )
    sites_path = out_dir / "sites.csv"
    sites.write_csv(sites_path)
    codes = pl.DataFrame(
        {
            "code_system": ["NICIP"] * len(MODALITY_CODES),
            "code": list(MODALITY_CODES.values()),
            "description": [f"Back test {m}" for m in MODALITY_CODES],
            "modality": list(MODALITY_CODES),
            "body_region": [""] * len(MODALITY_CODES),
            "interventional": ["N"] * len(MODALITY_CODES),
            "cancer_test_group": [""] * len(MODALITY_CODES),
            "valid_from": ["2010-01-01"] * len(MODALITY_CODES),
            "valid_to": [""] * len(MODALITY_CODES),
        }
    )
    codes_path = out_dir / "imaging_codes.csv"
    codes.write_csv(codes_path)
    return sites_path, codes_path


def next_month_start(month: str) -> date:
    year, number = (int(p) for p in month.split("-"))
    return date(year + number // 12, number % 12 + 1, 1)


def write_file(frame: pl.DataFrame, path: Path, fmt: str, rng) -> pl.DataFrame:
    """Write the records in random order; return (source_file, row_number, rule) of
    the records made invalid."""
    order = rng.permutation(frame.height)
    shuffled = frame[order.tolist()].with_row_index("row_number", offset=1)
    if fmt == "parquet":
        shuffled.select(SUBMISSION_COLUMNS).write_parquet(path)
    else:
        header = zlib.crc32(path.name.encode()) % HEADERLESS_FILE_EVERY != 0
        shuffled.select(SUBMISSION_COLUMNS).write_csv(
            path, include_header=header, null_value="", line_terminator="\n"
        )
    return shuffled.filter(pl.col("expected_rule").is_not_null()).select(
        pl.lit(path.name).alias("source_file"),
        pl.col("row_number").cast(pl.Int64),
        pl.col("expected_rule").alias("rule_code"),
    )


def generate(
    out_dir: Path,
    published_dir: Path = DEFAULT_PUBLISHED,
    providers: list[str] | None = None,
    seed: int = 2324,
    fmt: str = "csv",
    log=None,
) -> GenerationResult:
    """Write the back test's submissions, manifest and reference data to `out_dir`."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    submissions_dir = out_dir / "submissions"
    submissions_dir.mkdir(parents=True, exist_ok=True)
    cells, table11 = read_published(Path(published_dir))
    plan = plan_year(cells, table11, seed, set(providers) if providers else None)
    if plan.cells.is_empty():
        raise ValueError(f"no published provider rows for {providers}")
    sites_path, codes_path = write_reference(plan, out_dir)
    result = GenerationResult(
        out_dir=out_dir,
        submissions_dir=submissions_dir,
        submissions_manifest=out_dir / "submissions.csv",
        sites=sites_path,
        imaging_codes=codes_path,
        expected_rejections=out_dir / "expected_rejections.csv",
        providers=sorted(plan.cells["org_code"].unique().to_list()),
        counted_records=int(plan.cells["n"].sum()),
        issues=plan.issues,
    )
    manifest_rows: list[tuple[str, str]] = []
    rejections: list[pl.DataFrame] = []
    suffix = "parquet" if fmt == "parquet" else "csv"
    rule_cycle = 0
    pairs = plan.cells.select("region_code", "org_code").unique(maintain_order=True)
    for region, org in pairs.iter_rows():
        mine = plan.cells.filter((pl.col("region_code") == region) & (pl.col("org_code") == org))
        if mine["n"].sum() == 0:
            continue
        rng = rng_for(seed, "files", region, org)
        records = provider_region_records(
            mine, plan.settings.filter(pl.col("prm").is_in(mine["prm"].unique().to_list())), seed
        )
        modalities = mine.filter(pl.col("n") > 0)["modality"].unique().sort().to_list()
        kept, decoys, corrections = resubmissions(records, modalities, rng)
        result.decoys += decoys.height
        originals = pl.concat([kept, decoys])
        for month in MONTHS:
            valid = originals.filter(pl.col("file_month") == month)
            if valid.is_empty():
                continue
            stem = f"{org}_{region}_{month}"
            latest = valid.select(
                pl.max_horizontal(
                    pl.col("SERVICE_REPORT_DATE").str.to_date().max(),
                    pl.col("DIAGNOSTIC_TEST_DATE").str.to_date().max(),
                )
            ).item()
            submitted = max(next_month_start(month).replace(day=int(rng.integers(1, 16))), latest)
            count = max(MIN_INVALID_PER_FILE, round(INVALID_SHARE * valid.height))
            rules = [INVALID_RULES[(rule_cycle + i) % len(INVALID_RULES)] for i in range(count)]
            rule_cycle += count
            invalid = break_rules(
                invalid_copies(valid, count, rules, f"X{month[2:4]}{month[5:]}", rng).with_columns(
                    pl.lit(submitted).alias("submission_date")
                )
            ).drop("submission_date")
            result.invalid_records += invalid.height
            path = submissions_dir / f"{stem}.{suffix}"
            rejections.append(write_file(pl.concat([valid, invalid]), path, fmt, rng))
            manifest_rows.append((path.name, submitted.isoformat()))
            result.records_written += valid.height + invalid.height
            result.files += 1
            # the resubmission file: right versions, and invalid versions of others
            right = corrections.filter(pl.col("file_month") == month)
            if right.is_empty():
                continue
            wanted = max(1, round(BAD_RESUBMISSION_SHARE * valid.height))
            others = kept.filter(pl.col("file_month") == month)
            bad = others[rng.choice(others.height, min(wanted, others.height), replace=False)]
            bad_rules = [
                BAD_RESUBMISSION_RULES[(rule_cycle + i) % len(BAD_RESUBMISSION_RULES)]
                for i in range(bad.height)
            ]
            bad = bad.with_columns(
                pl.Series("expected_rule", bad_rules, pl.Utf8), pl.lit("bad").alias("role")
            )
            latest = right.select(pl.col("SERVICE_REPORT_DATE").str.to_date().max()).item()
            resubmitted = submitted.fromordinal(submitted.toordinal() + int(rng.integers(7, 36)))
            if latest is not None:
                resubmitted = max(resubmitted, latest)
            bad = break_rules(bad.with_columns(pl.lit(resubmitted).alias("submission_date")))
            result.bad_resubmissions += bad.height
            path = submissions_dir / f"{stem}_resubmission.{suffix}"
            rejections.append(
                write_file(pl.concat([right, bad.drop("submission_date")]), path, fmt, rng)
            )
            manifest_rows.append((path.name, resubmitted.isoformat()))
            result.records_written += right.height + bad.height
            result.files += 1
        if log:
            log(f"{org} {region}: {records.height} records")
    pl.DataFrame(manifest_rows, schema=["file", "submission_date"], orient="row").write_csv(
        result.submissions_manifest
    )
    pl.concat(rejections).write_csv(result.expected_rejections)
    issues = pl.DataFrame(
        [vars(issue) for issue in plan.issues],
        schema={
            "table": pl.Utf8,
            "region_code": pl.Utf8,
            "org_code": pl.Utf8,
            "modality": pl.Utf8,
            "key": pl.Utf8,
            "reason": pl.Utf8,
        },
    )
    issues.write_csv(out_dir / "infeasible.csv")
    result.seconds = time.perf_counter() - started
    (out_dir / "generation.json").write_text(json.dumps(result.summary(), indent=2) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--published", type=Path, default=DEFAULT_PUBLISHED)
    parser.add_argument("--providers", help="comma-separated org codes (default: all)")
    parser.add_argument("--seed", type=int, default=2324)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    args = parser.parse_args(argv)
    providers = args.providers.split(",") if args.providers else None
    result = generate(args.out, args.published, providers, args.seed, args.format, log=print)
    print(json.dumps(result.summary(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
