"""Synthetic DID submissions: realistic record-level files in the INPUT.md format.

Volumes, waits and source-setting mix follow NHS England's published 2023-24 DID
tables, through a compact profile shipped with the package
(`reference_data/synth_profile.csv`, made by `benchmarks/make_synth_profile.py`): one
row per published provider cell (region, provider, modality, month) with its count,
its two median waits and its provider's source-setting mix. A requested month takes the
profile of the same calendar month.

Files: `<provider>-<region>-<YYYY-MM>.csv` (header, the 18 INPUT.md columns, UTF-8,
LF), sorted by test date, plus `submissions.csv` (submitted on the 15th of the next
month). With `file_format="xml"` the same records are written as NHS England's XML
message, `<provider>-<region>-<YYYY-MM>.xml` (one `DIDSRecord` per record), so that the
two ingest paths can be compared record for record. Months with no published data for a provider have no file, as in the tables.

Every record is valid except a known, small share (about 0.5%) made to break exactly
one rejection rule each (`INVALID_RULES`: DIDS001, 006, 012, 021, 034, 048, 057, 059,
068, 071), so that validation, the quarantine and the data-quality report have
something to find; `SynthResult.invalid_records` says how many of each. Some optional
items are missing as in real extracts: request date (about 3%, the received date
given), received date, report date (about 2%, including reports not issued by the
submission date), referrer, postcode. Waits naturally give a few warnings (DIDS028,
DIDS062).

Generation is vectorised (numpy and polars) by region and month; the random stream of
each (seed, month, region) is fixed, so the same arguments give byte-identical files.
"""

import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl

from publish.codes import (
    ETHNIC_CATEGORIES,
    MODALITIES,
    REGIONS,
    SOURCE_SETTINGS,
    SUBMISSION_COLUMNS,
)
from publish.resources import REFERENCE_DATA_DIR

PROFILE_PATH = REFERENCE_DATA_DIR / "synth_profile.csv"
DEFAULT_SITES = REFERENCE_DATA_DIR / "sites.csv"
DEFAULT_IMAGING_CODES = REFERENCE_DATA_DIR / "imaging_codes.csv"

SCALES = ("demo", "national")
FILE_FORMATS = ("csv", "xml")
_GENERATORS = 4  # region-months drawn side by side, at most (and at most the cores)
DEMO_DIVISOR = 300
SUBMISSION_DAY = 15  # files are submitted on the 15th of the month after the tests

SETTING_CODES = tuple(SOURCE_SETTINGS)  # "01" ... "07"
SETTING_COLUMNS = tuple(f"setting_{code}" for code in SETTING_CODES)

# Share of all records made invalid on purpose, and the rules they break, one each.
INVALID_SHARE = 0.005
INVALID_RULES = (
    "DIDS001",  # NHS number fails the modulus-11 check
    "DIDS006",  # birth date after the test date
    "DIDS012",  # ethnic category not in the code list
    "DIDS021",  # source setting not 01-07
    "DIDS034",  # request date after the test date
    "DIDS048",  # report date before the test date
    "DIDS057",  # NICIP code not in the imaging-code reference
    "DIDS059",  # SNOMED CT code not in the imaging-code reference
    "DIDS068",  # site code of valid format not in the site reference
    "DIDS071",  # the same (site, accession number) twice in one file: both rejected
)
UNKNOWN_NICIP_CODES = ("XZZQ", "CQZZX", "UZQ9", "MQQZ")
UNKNOWN_SNOMED_CODE_BASE = 999_000_000_000  # + a small number: 12 digits, not a real code

# Missing optional dates, as shares of records (INPUT.md: required where known).
MISSING_REQUEST_SHARE = 0.03  # received date given
MISSING_RECEIVED_SHARE = 0.015
MISSING_BOTH_REQUEST_DATES_SHARE = 0.003
MISSING_REPORT_SHARE = 0.01  # plus reports not issued by the submission date

# Waits: log-logistic, scaled so that the median is the profile's median; the shape
# gives the tail (about 1% of requests more than a year before the test).
REQUEST_TO_TEST_SHAPE = 2.0
TEST_TO_REPORT_SHAPE = 2.0
LONGEST_REQUEST_TO_TEST_DAYS = 3 * 365
# Who waits less: records are ranked within their cell on this bias plus noise, so the
# cell's median is kept while A&E and inpatients get the shortest waits.
REQUEST_WAIT_BIAS = {"01": -1.0, "02": 0.0, "03": 0.8, "04": 0.5, "05": -1.5, "06": 0.3, "07": 0.3}
REPORT_WAIT_BIAS = {"01": -0.8, "02": 0.0, "03": 0.5, "04": 0.5, "05": -1.2, "06": 0.0, "07": 0.0}

# Share of a modality's records with a code of each cancer test group, and with an
# interventional code; the rest go to the other codes of the modality.
CANCER_TEST_GROUP_SHARES = {
    "Plain Radiography": {"Chest (X-ray)": 0.33},
    "Computerized Axial Tomography": {"Chest and/or abdomen (CT)": 0.38},
    "Magnetic Resonance Imaging": {"Brain (MRI)": 0.22},
    "Diagnostic Ultrasonography": {
        "Abdomen and/or pelvis (Ultrasound)": 0.28,
        "Kidney or Bladder (Ultrasound)": 0.06,
    },
}
INTERVENTIONAL_SHARES = {
    "Fluoroscopy": 0.35,
    "Computerized Axial Tomography": 0.02,
    "Diagnostic Ultrasonography": 0.03,
    "Plain Radiography": 0.004,
    "Magnetic Resonance Imaging": 0.003,
}
NICIP_WEIGHT, SNOMED_WEIGHT, GENERIC_CODE_WEIGHT = 1.5, 1.0, 0.15
BOTH_CODES_SHARE = 0.35  # of records whose code has an equivalent in the other system
LOWER_CASE_NICIP_SHARE = 0.01  # NICIP is case-insensitive; some systems send lower case

SITE_WEIGHTS = (0.6, 0.3, 0.1)  # main site, second, third
WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.45, 0.35)  # Monday ... Sunday

GENDER_SHARES = {"1": 0.452, "2": 0.543, "9": 0.003, "0": 0.002}
ETHNIC_SHARES = dict(
    zip(
        ETHNIC_CATEGORIES,
        # A B C D E F G H J K L M N P R S Z 99
        (70, 1, 5, 0.5, 0.4, 0.5, 0.7, 3, 2, 1, 2, 1, 2, 0.8, 0.6, 2, 6, 4),
        strict=True,
    )
)
NHS_NUMBER_STATUS_SHARES = {"01": 0.97, "02": 0.015, "03": 0.01, "04": 0.003, "05": 0.002}

POSTCODE_AREAS = {
    "Y56": ("E", "EC", "N", "NW", "SE", "SW", "W", "BR", "CR", "EN", "HA", "IG", "RM", "UB"),
    "Y58": ("BS", "BA", "EX", "PL", "TQ", "TR", "TA", "GL", "SN", "BH", "DT"),
    "Y59": ("BN", "CT", "GU", "ME", "MK", "OX", "PO", "RG", "RH", "SL", "SO", "TN", "HP"),
    "Y60": ("B", "CV", "DE", "DY", "LE", "NG", "NN", "ST", "WS", "WV", "WR", "HR", "LN"),
    "Y61": ("CB", "CM", "CO", "IP", "LU", "NR", "PE", "SG", "SS", "AL"),
    "Y62": ("BB", "BL", "CA", "CH", "CW", "FY", "L", "LA", "M", "OL", "PR", "SK", "WA", "WN"),
    "Y63": ("BD", "DH", "DL", "DN", "HD", "HG", "HU", "HX", "LS", "NE", "S", "SR", "TS", "YO"),
}
POSTCODE_UNIT_LETTERS = tuple("ABDEFGHJLNPQRSTUWXYZ")
# First letter of GP practice codes around each region (J81002, F85678, Y00522 ...).
PRACTICE_LETTERS = {
    "Y56": "EFH",
    "Y58": "LJ",
    "Y59": "GHJK",
    "Y60": "CM",
    "Y61": "DF",
    "Y62": "NP",
    "Y63": "ABC",
}
PRACTICES_PER_PROVIDER = 250
GPS_PER_PRACTICE = 6
POSTCODES_PER_REGION = 40_000
NURSE_REFERRER_SHARE = 0.04
MISSING_REFERRER_SHARE = 0.03
MISSING_POSTCODE_SHARE = 0.003


@dataclass
class SynthResult:
    """What `generate_submissions` wrote."""

    files: list[Path]
    submissions_path: Path
    records_written: int
    # Intended DIDS rule -> records made to break it (each breaks that rule only).
    invalid_records: dict[str, int] = field(default_factory=dict)
    # Provider-regions of the profile left out because the site reference has no site.
    skipped_provider_regions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def invalid_total(self) -> int:
        return sum(self.invalid_records.values())


def generate_submissions(
    out_dir: Path,
    months: Sequence[str],
    scale: str = "demo",
    seed: int = 0,
    sites_path: Path | None = None,
    imaging_codes_path: Path | None = None,
    file_format: str = "csv",
) -> SynthResult:
    """Write one submission CSV per provider, region and month, and `submissions.csv`.

    `months` are "YYYY-MM"; `scale` "national" gives the published volumes (about four
    million records a month), "demo" about 1/300 of them with every published cell
    kept (small cells shrink by a square root, so some land on 1-2 and some on 3-7).
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, not {scale!r}")
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format must be one of {', '.join(FILE_FORMATS)}")
    write_grouped = write_grouped_xml if file_format == "xml" else write_grouped_csv
    month_starts = [parse_month(month) for month in dict.fromkeys(months)]
    if not month_starts:
        raise ValueError("no months to generate")
    sites = read_sites(sites_path or DEFAULT_SITES)
    codes = read_imaging_codes(imaging_codes_path or DEFAULT_IMAGING_CODES)
    profile, skipped = read_profile(sites)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    known_sites = set(sites["site_code"])
    region_months = []  # (month start, the month's code pool, region, its profile cells)
    for month_start in month_starts:
        month_profile = profile.filter(pl.col("calendar_month") == month_start.month)
        pool = CodePool.of(imaging_codes_valid_in(codes, month_start))
        for region_code in sorted(month_profile["region_code"].unique()):
            cells = month_profile.filter(pl.col("region_code") == region_code)
            region_months.append((month_start, pool, region_code, cells))

    def write_region_month(
        month_start: date, pool: CodePool, region_code: str, cells: pl.DataFrame
    ) -> tuple[list[tuple[str, int]], str, dict[str, int]]:
        """One region's month drawn (from its own generator) and written."""
        submitted = next_month(month_start).replace(day=SUBMISSION_DAY)
        rng = np.random.default_rng(
            [seed, month_start.year, month_start.month, list(REGIONS).index(region_code)]
        )
        records, broken = generate_region_month(
            rng, cells, sites, pool, known_sites, month_start, submitted, scale
        )
        if file_format == "xml":
            records = records.with_columns(pl.col("file_name").str.replace(r"\.csv$", ".xml"))
        return write_grouped(records, "file_name", out_dir), submitted.isoformat(), broken

    # Each region's month has its own generator and its own files, so they are drawn
    # side by side (polars and the writes let go of Python's lock): the same files as
    # one after another; a national month in two thirds of the time on two cores (6.6
    # against 9.2 s), the demo's small frames gain less (2.3 against 2.7 s).
    files: list[Path] = []
    submission_dates: list[tuple[str, str]] = []
    records_written = 0
    invalid_records = dict.fromkeys(INVALID_RULES, 0)
    with ThreadPoolExecutor(max_workers=min(_GENERATORS, os.cpu_count() or 1)) as workers:
        for written, submitted, broken in workers.map(
            lambda task: write_region_month(*task), region_months
        ):
            for rule, count in broken.items():
                invalid_records[rule] += count
            for file_name, rows in written:
                files.append(out_dir / file_name)
                submission_dates.append((file_name, submitted))
                records_written += rows

    submissions_path = out_dir / "submissions.csv"
    pl.DataFrame(
        sorted(submission_dates), schema=["file", "submission_date"], orient="row"
    ).write_csv(submissions_path, line_terminator="\n")
    return SynthResult(
        files=sorted(files),
        submissions_path=submissions_path,
        records_written=records_written,
        invalid_records={rule: n for rule, n in invalid_records.items() if n},
        skipped_provider_regions=skipped,
    )


def write_grouped_csv(
    records: pl.DataFrame, file_column: str, out_dir: Path
) -> list[tuple[str, int]]:
    """Write each run of rows with one `file_column` value as its own CSV file.

    The rows are serialised once and cut at line ends: much faster than a writer call
    per file when files are many and small. Returns (file name, rows) per file.
    """
    body = records.drop(file_column).write_csv(
        None, include_header=False, line_terminator="\n", date_format="%Y-%m-%d"
    )
    header = (",".join(c for c in records.columns if c != file_column) + "\n").encode()
    content = body.encode()
    line_ends = np.flatnonzero(np.frombuffer(content, dtype=np.uint8) == ord("\n")) + 1
    names = records[file_column]
    starts = np.flatnonzero(np.concatenate([[True], (names[1:] != names[:-1]).to_numpy()]))
    ends = np.append(starts[1:], records.height)
    line_starts = np.concatenate([[0], line_ends])
    written = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        (out_dir / names[start]).write_bytes(
            header + content[line_starts[start] : line_starts[end]]
        )
        written.append((names[start], end - start))
    return written


def write_grouped_xml(
    records: pl.DataFrame, file_column: str, out_dir: Path
) -> list[tuple[str, int]]:
    """Each run of rows with one `file_column` value as a DIDS-v1-0 XML file, one
    `DIDSRecord` with one `ImagingActivity` per row; a missing value has no element."""
    from publish.ingest.xml_reader import ADDRESS, ITEMS, NAMESPACE, POSTCODE

    def escaped(column: str) -> pl.Expr:
        return (
            pl.col(column)
            .str.replace_all("&", "&amp;", literal=True)
            .str.replace_all("<", "&lt;", literal=True)
            .str.replace_all(">", "&gt;", literal=True)
            .str.replace_all('"', "&quot;", literal=True)
        )

    def element(tag: str, column: str, attribute: str | None) -> pl.Expr:
        if attribute is None:
            text = pl.concat_str(pl.lit(f"<{tag}>"), escaped(column), pl.lit(f"</{tag}>"))
        else:
            text = pl.concat_str(pl.lit(f'<{tag} {attribute}="'), escaped(column), pl.lit('" />'))
        return pl.when(pl.col(column).fill_null("") != "").then(text).otherwise(pl.lit(""))

    def group(name: str, extra: pl.Expr | None = None) -> pl.Expr:
        parts = [
            element(tag, column, attribute) for tag, (column, attribute) in ITEMS[name].items()
        ]
        if extra is not None:  # the address sits before the GP practice, as in the schema
            parts.insert(len(parts) - 1, extra)
        return pl.concat_str([pl.lit(f"<{name}>"), *parts, pl.lit(f"</{name}>")])

    records = records.with_columns(  # as write_grouped_csv writes them
        pl.col(name).dt.to_string("%Y-%m-%d") if dtype == pl.Date else pl.col(name).cast(pl.Utf8)
        for name, dtype in records.schema.items()
        if name != file_column
    )
    postcode = (
        pl.when(pl.col("POSTCODE").fill_null("") != "")
        .then(
            pl.concat_str(
                pl.lit(f"<{ADDRESS}><{POSTCODE}>"),
                escaped("POSTCODE"),
                pl.lit(f"</{POSTCODE}></{ADDRESS}>"),
            )
        )
        .otherwise(pl.lit(""))
    )
    lines = records.select(
        pl.col(file_column),
        pl.concat_str(
            pl.lit("<DIDSRecord>"),
            group("PersonalAndDemographics", postcode),
            group("Referrals"),
            group("ImagingActivity"),
            pl.lit("</DIDSRecord>\n"),
        ).alias("xml"),
    )
    header = (f'<?xml version="1.0" encoding="utf-8"?>\n<DIDS xmlns="{NAMESPACE}">\n').encode()
    footer = b"</DIDS>\n"
    written = []
    names = lines[file_column]
    starts = np.flatnonzero(np.concatenate([[True], (names[1:] != names[:-1]).to_numpy()]))
    ends = np.append(starts[1:], lines.height)
    texts = lines["xml"]
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        body = "".join(texts.slice(start, end - start).to_list()).encode()
        (out_dir / names[start]).write_bytes(header + body + footer)
        written.append((names[start], end - start))
    return written


def parse_month(month: str) -> date:
    try:
        year, number = month.split("-")
        if len(year) != 4 or len(number) != 2:
            raise ValueError
        return date(int(year), int(number), 1)
    except ValueError:
        raise ValueError(f"month must be YYYY-MM, not {month!r}") from None


def next_month(month_start: date) -> date:
    return (month_start + timedelta(days=32)).replace(day=1)


def read_sites(path: Path) -> pl.DataFrame:
    sites = pl.read_csv(path, infer_schema=False).select(
        pl.col("site_code").str.strip_chars().str.to_uppercase(),
        pl.col("provider_code").str.strip_chars(),
        pl.col("region_code").str.strip_chars(),
    )
    return sites.sort("region_code", "provider_code", "site_code")


def read_imaging_codes(path: Path) -> pl.DataFrame:
    codes = pl.read_csv(path, infer_schema=False)
    return codes.select(
        pl.col("code_system").str.strip_chars().str.to_uppercase(),
        pl.col("code").str.strip_chars(),
        pl.col("modality").str.strip_chars(),
        pl.col("body_region").str.strip_chars().fill_null(""),
        (pl.col("interventional").str.strip_chars().str.to_uppercase() == "Y")
        .fill_null(False)
        .alias("interventional"),
        pl.col("cancer_test_group").str.strip_chars().fill_null(""),
        pl.col("valid_from").str.strip_chars().str.to_date("%Y-%m-%d"),
        pl.col("valid_to").str.strip_chars().str.to_date("%Y-%m-%d"),
    )


def imaging_codes_valid_in(codes: pl.DataFrame, month_start: date) -> pl.DataFrame:
    """Codes valid on every day of the month, so any test date in it may use them."""
    month_end = next_month(month_start) - timedelta(days=1)
    return codes.filter(
        (pl.col("valid_from").is_null() | (pl.col("valid_from") <= month_start))
        & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= month_end))
    )


def read_profile(sites: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    profile = pl.read_csv(
        PROFILE_PATH,
        schema_overrides={"activity_count": pl.Int64}
        | dict.fromkeys(
            ("median_days_request_to_test", "median_days_test_to_report", *SETTING_COLUMNS),
            pl.Float64,
        ),
    ).with_columns(
        pl.col("month").str.slice(5, 2).cast(pl.Int8).alias("calendar_month"),
        *(pl.col(column).fill_null(0.0) for column in SETTING_COLUMNS),
    )
    with_sites = sites.select("region_code", "provider_code").unique()
    skipped = (
        profile.select("region_code", "provider_code")
        .unique()
        .join(with_sites, on=["region_code", "provider_code"], how="anti")
        .sort("region_code", "provider_code")
    )
    profile = profile.join(with_sites, on=["region_code", "provider_code"], how="semi")
    return profile, [tuple(row) for row in skipped.iter_rows()]


def scaled_counts(activity_count: np.ndarray, scale: str) -> np.ndarray:
    """Records to write for each profile cell: the published count, or the demo's."""
    if scale == "national":
        return activity_count.astype(np.int64)
    divided = np.rint(activity_count / DEMO_DIVISOR)
    shrunk = np.rint(np.sqrt(activity_count) / 5)
    return np.maximum(1, np.maximum(divided, shrunk)).astype(np.int64)


def choose_within_groups(group: np.ndarray, shares: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each record, an option index drawn from its group's row of `shares`.

    `shares` is (groups x options), rows summing to 1 (an all-zero row takes option 0).
    Thresholds `g + cumulative share` are increasing across all groups, so one
    searchsorted answers every record at once.
    """
    n_groups, n_options = shares.shape
    totals = shares.sum(axis=1, keepdims=True)
    normalised = np.where(totals > 0, shares / np.where(totals > 0, totals, 1), 0)
    normalised[:, 0] = np.where(totals[:, 0] > 0, normalised[:, 0], 1.0)
    cumulative = np.cumsum(normalised, axis=1)
    cumulative[:, -1] = 1.0
    thresholds = (np.arange(n_groups)[:, None] + cumulative).ravel()
    position = np.searchsorted(thresholds, group + u, side="right")
    return np.minimum(position - group * n_options, n_options - 1)


def rank_uniforms(rng: np.random.Generator, cell: np.ndarray, key: np.ndarray) -> np.ndarray:
    """A uniform for each record, in the order of `key` within its cell (stratified).

    Sorting `cell + squashed key` (the key mapped into (0, 1)) orders records by cell,
    then key, in one float argsort.
    """
    order = np.argsort(cell + 0.5 + np.arctan(key) / np.pi, kind="stable")
    sorted_cells = cell[order]
    cell_start = np.searchsorted(sorted_cells, sorted_cells, side="left")
    cell_size = np.searchsorted(sorted_cells, sorted_cells, side="right") - cell_start
    ranks = np.empty(len(cell), dtype=np.float64)
    ranks[order] = (np.arange(len(cell)) - cell_start + rng.random(len(cell))) / cell_size
    return ranks


def log_logistic_days(median: np.ndarray, u: np.ndarray, shape: float) -> np.ndarray:
    """Whole days whose median is `median` (x.5 allowed): floor of a log-logistic."""
    u = np.clip(u, 1e-9, 1 - 1e-9)
    return np.floor((median + 0.5) * (u / (1 - u)) ** (1 / shape)).astype(np.int64)


def nhs_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid 10-digit NHS numbers (modulus 11), all starting 9: never a real patient's."""
    digits = rng.integers(0, 10, size=(n, 9))
    digits[:, 0] = 9
    weights = np.arange(10, 1, -1)
    while True:
        check = (11 - digits @ weights % 11) % 11
        bad = check == 10  # no valid check digit: change the ninth digit and retry
        if not bad.any():
            break
        digits[bad, 8] = (digits[bad, 8] + 1) % 10
    return digits @ (10 ** np.arange(9, 0, -1)) + check


def choose(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    """Indices into `list(shares)`, drawn with the given shares."""
    weights = np.array(list(shares.values()), dtype=np.float64)
    return rng.choice(len(weights), size=n, p=weights / weights.sum())


def stable_number(text: str) -> int:
    return zlib.crc32(text.encode())


@dataclass(frozen=True)
class CodePool:
    """Every code string a record may carry, once: index 0 is no code."""

    strings: pl.Series
    codes: pl.DataFrame  # the month's valid codes; code i is at pool index 1 + i
    lower_case_offset: int  # code i in lower case is at 1 + lower_case_offset + i
    unknown_nicip: int
    unknown_snomed_first: int
    unknown_snomed_count: int

    @classmethod
    def of(cls, codes: pl.DataFrame) -> "CodePool":
        known = codes["code"].to_list()
        known_upper = {code.upper() for code in known}
        unknown_nicip = next(c for c in UNKNOWN_NICIP_CODES if c not in known_upper)
        unknown_snomed = [
            str(UNKNOWN_SNOMED_CODE_BASE + i)
            for i in range(100)
            if str(UNKNOWN_SNOMED_CODE_BASE + i) not in known_upper
        ]
        strings = [None, *known, *(code.lower() for code in known), unknown_nicip, *unknown_snomed]
        return cls(
            strings=pl.Series(strings, dtype=pl.String),
            codes=codes,
            lower_case_offset=len(known),
            unknown_nicip=1 + 2 * len(known),
            unknown_snomed_first=2 + 2 * len(known),
            unknown_snomed_count=len(unknown_snomed),
        )


@dataclass(frozen=True)
class CodeTable:
    """The imaging codes of one modality, with how often each is picked."""

    is_nicip: np.ndarray
    pool_index: np.ndarray
    probability: np.ndarray
    partners: np.ndarray  # (codes x most partners) indices into this table, -1 padded
    partner_count: np.ndarray


def code_tables(pool: CodePool) -> dict[str, CodeTable]:
    codes = pool.codes.with_row_index("pool_index", offset=1)
    tables = {}
    for modality in MODALITIES:
        rows = codes.filter(pl.col("modality") == modality)
        if rows.height == 0:
            continue
        cancer = rows["cancer_test_group"].to_numpy()
        interventional = rows["interventional"].to_numpy()
        is_nicip = rows["code_system"].to_numpy() == "NICIP"
        weight = np.where(is_nicip, NICIP_WEIGHT, SNOMED_WEIGHT)
        weight = weight * np.where(rows["body_region"].to_numpy() == "", GENERIC_CODE_WEIGHT, 1)
        code_class = np.where(cancer != "", cancer, np.where(interventional, "interventional", ""))
        class_shares = dict(CANCER_TEST_GROUP_SHARES.get(modality, {}))
        class_shares["interventional"] = INTERVENTIONAL_SHARES.get(modality, 0.0)
        class_shares = {name: share for name, share in class_shares.items() if name in code_class}
        class_shares[""] = max(0.0, 1 - sum(class_shares.values())) if "" in code_class else 0
        probability = np.zeros(rows.height)
        for name, share in class_shares.items():
            members = code_class == name
            probability[members] = share * weight[members] / weight[members].sum()
        probability /= probability.sum()
        key = list(rows.select("body_region", "interventional", "cancer_test_group").iter_rows())
        partner_lists = [
            [j for j in range(rows.height) if key[j] == key[i] and is_nicip[j] != is_nicip[i]]
            for i in range(rows.height)
        ]
        partners = np.full((rows.height, max(1, *map(len, partner_lists))), -1)
        for i, found in enumerate(partner_lists):
            partners[i, : len(found)] = found
        tables[modality] = CodeTable(
            is_nicip=is_nicip,
            pool_index=rows["pool_index"].to_numpy(),
            probability=probability,
            partners=partners,
            partner_count=np.array([len(found) for found in partner_lists]),
        )
    return tables


def pick_imaging_codes(
    rng: np.random.Generator, modality: np.ndarray, pool: CodePool
) -> tuple[np.ndarray, np.ndarray]:
    """Pool indices of the NICIP and SNOMED columns: one code, or two equivalent ones
    (same modality, body region, interventional flag and cancer test group)."""
    n = len(modality)
    nicip = np.zeros(n, dtype=np.int64)
    snomed = np.zeros(n, dtype=np.int64)
    tables = code_tables(pool)
    for modality_index, name in enumerate(MODALITIES):
        rows = np.flatnonzero(modality == modality_index)
        if rows.size == 0:
            continue
        if name not in tables:
            raise ValueError(f"the imaging-code reference has no code valid for {name}")
        table = tables[name]
        picked = rng.choice(len(table.pool_index), size=rows.size, p=table.probability)
        partner_count = table.partner_count[picked]
        slot = np.floor(rng.random(rows.size) * np.maximum(partner_count, 1)).astype(np.int64)
        partner = np.where(
            (rng.random(rows.size) < BOTH_CODES_SHARE) & (partner_count > 0),
            table.partners[picked, slot],
            -1,
        )
        for index in (picked, partner):
            given = index >= 0
            nicip_code = given & table.is_nicip[index]
            snomed_code = given & ~table.is_nicip[index]
            nicip[rows[nicip_code]] = table.pool_index[index[nicip_code]]
            snomed[rows[snomed_code]] = table.pool_index[index[snomed_code]]
    lower = (nicip > 0) & (rng.random(n) < LOWER_CASE_NICIP_SHARE)
    nicip[lower] += pool.lower_case_offset
    return nicip, snomed


def zero_padded(numbers: np.ndarray, width: int) -> pl.Expr:
    return pl.lit(pl.Series(numbers)).cast(pl.String).str.zfill(width)


def drawn_from(strings: Sequence[str], index: np.ndarray) -> pl.Expr:
    return pl.lit(pl.Series(list(strings)).gather(index))


@cache
def provider_people(provider_code: str, region_code: str) -> pl.DataFrame:
    """A provider's GP practices and referrers, the same in every month and file.

    Formats (INPUT.md, DIDS023): practice an6 (J81002); GP G + 7 digits; consultant
    C + 7 digits; nurse two digits, a letter, four digits, a letter. One row per
    practice, with its GPS_PER_PRACTICE GPs, and one of the provider's consultants and
    nurses.
    """
    rng = np.random.default_rng(stable_number(f"{provider_code}|{region_code}"))
    n = PRACTICES_PER_PROVIDER
    letters = PRACTICE_LETTERS[region_code]
    unit = POSTCODE_UNIT_LETTERS
    return pl.select(
        pl.concat_str(
            drawn_from(letters, rng.integers(0, len(letters), n)),
            zero_padded(rng.integers(81, 93, n), 2),
            zero_padded(rng.integers(0, 1000, n), 3),
        ).alias("practice"),
        *(
            pl.concat_str(pl.lit("G"), zero_padded(rng.integers(0, 10**7, n), 7)).alias(f"gp{i}")
            for i in range(GPS_PER_PRACTICE)
        ),
        pl.concat_str(pl.lit("C"), zero_padded(rng.integers(0, 10**7, n), 7)).alias("consultant"),
        pl.concat_str(
            zero_padded(rng.integers(0, 100, n), 2),
            drawn_from(unit, rng.integers(0, len(unit), n)),
            zero_padded(rng.integers(0, 10**4, n), 4),
            drawn_from(unit, rng.integers(0, len(unit), n)),
        ).alias("nurse"),
    )


@dataclass(frozen=True)
class RegionPeople:
    """Pools the records of a region's month draw from; index 0 of each is missing."""

    referrers: pl.Series  # None, GPs (practice by practice), consultants, nurses
    referring_orgs: pl.Series  # None, the providers, their practices
    postcodes: pl.Series  # None, the region's postcodes

    @property
    def first_consultant(self) -> int:
        return 1 + (len(self.referrers) - 1) // (GPS_PER_PRACTICE + 2) * GPS_PER_PRACTICE

    @property
    def first_nurse(self) -> int:
        return self.first_consultant + (len(self.referrers) - 1) // (GPS_PER_PRACTICE + 2)


@cache
def region_people(region_code: str, providers: tuple[str, ...]) -> RegionPeople:
    people = pl.concat([provider_people(code, region_code) for code in providers])
    gps = people.select(pl.concat_list(f"gp{i}" for i in range(GPS_PER_PRACTICE))).explode("gp0")
    none = pl.Series([None], dtype=pl.String)
    return RegionPeople(
        referrers=pl.concat([none, gps.to_series(), people["consultant"], people["nurse"]]),
        referring_orgs=pl.concat([none, pl.Series(providers), people["practice"]]),
        postcodes=pl.concat([none, postcode_pool(region_code)]),
    )


def postcode_pool(region_code: str) -> pl.Series:
    """Postcodes of the region's areas, e.g. LS9 7TF (at most 8 characters)."""
    rng = np.random.default_rng(stable_number(region_code))
    n = POSTCODES_PER_REGION
    areas = POSTCODE_AREAS[region_code]
    unit = POSTCODE_UNIT_LETTERS
    return pl.select(
        pl.concat_str(
            drawn_from(areas, rng.integers(0, len(areas), n)),
            pl.lit(pl.Series(rng.integers(1, 21, n))).cast(pl.String),
            pl.lit(" "),
            pl.lit(pl.Series(rng.integers(0, 10, n))).cast(pl.String),
            drawn_from(unit, rng.integers(0, len(unit), n)),
            drawn_from(unit, rng.integers(0, len(unit), n)),
        )
    ).to_series()


@dataclass
class RegionMonthDraw:
    """One region's month of records as they are drawn, one array per field, indexed by
    record (the file order comes last). The steps of `generate_region_month` fill and
    then adjust these; each step draws from the generator in a fixed order, so the same
    seed gives the same records."""

    cell: np.ndarray  # the profile cell (provider, modality) of each record
    provider: np.ndarray  # index into the region's providers
    rule: np.ndarray  # index into INVALID_RULES; -1 is a valid record
    site: np.ndarray = field(default_factory=lambda: np.empty(0))
    setting: np.ndarray = field(default_factory=lambda: np.empty(0))
    test: np.ndarray = field(default_factory=lambda: np.empty(0))
    request: np.ndarray = field(default_factory=lambda: np.empty(0))
    received: np.ndarray = field(default_factory=lambda: np.empty(0))
    report: np.ndarray = field(default_factory=lambda: np.empty(0))
    no_request: np.ndarray = field(default_factory=lambda: np.empty(0))
    no_received: np.ndarray = field(default_factory=lambda: np.empty(0))
    no_report: np.ndarray = field(default_factory=lambda: np.empty(0))
    birth: np.ndarray = field(default_factory=lambda: np.empty(0))
    nhs_number: np.ndarray = field(default_factory=lambda: np.empty(0))
    status: np.ndarray = field(default_factory=lambda: np.empty(0))
    ethnic: np.ndarray = field(default_factory=lambda: np.empty(0))
    gender: np.ndarray = field(default_factory=lambda: np.empty(0))
    nicip: np.ndarray = field(default_factory=lambda: np.empty(0))
    snomed: np.ndarray = field(default_factory=lambda: np.empty(0))
    referrer_setting: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def n(self) -> int:
        return self.cell.size

    def meant(self, code: str) -> np.ndarray:
        """The records meant to break rule `code`."""
        return self.rule == INVALID_RULES.index(code)


def draw_records_per_cell(
    rng: np.random.Generator,
    cells: pl.DataFrame,
    cell_provider: np.ndarray,
    providers: int,
    scale: str,
) -> RegionMonthDraw:
    """Records per provider: the cells' counts, plus about 0.5% to be made invalid, each
    a copy of a random record of the same provider."""
    cell_count = scaled_counts(cells["activity_count"].to_numpy(), scale)
    cell = np.repeat(np.arange(cells.height), cell_count)
    per_provider = np.bincount(cell_provider[cell], minlength=providers)
    invalid_per_provider = rng.binomial(per_provider, INVALID_SHARE)
    provider_start = np.concatenate([[0], np.cumsum(per_provider)[:-1]])
    invalid_provider = np.repeat(np.arange(providers), invalid_per_provider)
    template = provider_start[invalid_provider] + np.floor(
        rng.random(invalid_provider.size) * per_provider[invalid_provider]
    ).astype(np.int64)
    cell = np.concatenate([cell, cell[template]])
    n = cell.size
    rule = np.full(n, -1)
    rule[n - template.size :] = rng.integers(0, len(INVALID_RULES), template.size)
    return RegionMonthDraw(cell=cell, provider=cell_provider[cell], rule=rule)


def draw_sites(
    rng: np.random.Generator,
    draw: RegionMonthDraw,
    sites: pl.DataFrame,
    region_code: str,
    providers: list[str],
    known_sites: set[str],
) -> tuple[list[str], int]:
    """Each record's site: one of the provider's sites in this region, the first the
    busiest. Returns the site codes the records index, and where the codes meant to be
    unknown (DIDS068) start among them."""
    site_strings: list[str] = []
    site_shares = np.zeros((len(providers), len(SITE_WEIGHTS)))
    site_slots = np.zeros((len(providers), len(SITE_WEIGHTS)), dtype=np.int64)
    for i, code in enumerate(providers):
        own = sites.filter(
            (pl.col("region_code") == region_code) & (pl.col("provider_code") == code)
        )["site_code"].to_list()[: len(SITE_WEIGHTS)]
        site_shares[i, : len(own)] = SITE_WEIGHTS[: len(own)]
        site_slots[i] = len(site_strings) + np.minimum(np.arange(len(SITE_WEIGHTS)), len(own) - 1)
        site_strings.extend(own)
    unknown_site_first = len(site_strings)
    unknown_sites = [f"{code}ZZ9" for code in providers]  # DIDS068
    if clash := set(unknown_sites) & known_sites:
        raise ValueError(f"site codes meant to be unknown are in the site reference: {clash}")
    site_strings.extend(unknown_sites)
    draw.site = site_slots[
        draw.provider, choose_within_groups(draw.provider, site_shares, rng.random(draw.n))
    ]
    return site_strings, unknown_site_first


def draw_test_dates(rng: np.random.Generator, draw: RegionMonthDraw, month_start: date) -> None:
    """Test date: a day of the month, fewer at weekends."""
    days_in_month = (next_month(month_start) - month_start).days
    day_weights = np.array(
        [WEEKDAY_WEIGHTS[(month_start + timedelta(days=d)).weekday()] for d in range(days_in_month)]
    )
    draw.test = np.datetime64(month_start, "D") + rng.choice(
        days_in_month, size=draw.n, p=day_weights / day_weights.sum()
    )


def draw_waits(
    rng: np.random.Generator, draw: RegionMonthDraw, cells: pl.DataFrame, submitted: date
) -> None:
    """Request, received and report dates: waits with the cell's medians (A&E and
    inpatients wait least), some dates missing, reports after the submission date not
    yet made."""
    n, cell, test = draw.n, draw.cell, draw.test
    request_bias = np.array([REQUEST_WAIT_BIAS[code] for code in SETTING_CODES])[draw.setting]
    report_bias = np.array([REPORT_WAIT_BIAS[code] for code in SETTING_CODES])[draw.setting]
    u_request = rank_uniforms(rng, cell, request_bias + rng.standard_normal(n))
    u_report = rank_uniforms(rng, cell, report_bias + rng.standard_normal(n))
    request_wait = np.minimum(
        log_logistic_days(
            cells["median_days_request_to_test"].to_numpy()[cell], u_request, REQUEST_TO_TEST_SHAPE
        ),
        LONGEST_REQUEST_TO_TEST_DAYS,
    )
    report_wait = log_logistic_days(
        cells["median_days_test_to_report"].to_numpy()[cell], u_report, TEST_TO_REPORT_SHAPE
    )
    draw.request = test - request_wait
    received_gap = np.where(
        rng.random(n) < 0.75, 0, np.floor(rng.random(n) * (request_wait + 1)).astype(np.int64)
    )
    draw.received = draw.request + np.minimum(received_gap, request_wait)
    draw.report = test + report_wait
    missing = rng.random(n)
    draw.no_request = missing < MISSING_REQUEST_SHARE + MISSING_BOTH_REQUEST_DATES_SHARE
    draw.no_received = (missing >= MISSING_REQUEST_SHARE) & (
        missing < MISSING_REQUEST_SHARE + MISSING_BOTH_REQUEST_DATES_SHARE + MISSING_RECEIVED_SHARE
    )
    # Not reported by the submission date, or not recorded.
    draw.no_report = (draw.report > np.datetime64(submitted, "D")) | (
        rng.random(n) < MISSING_REPORT_SHARE
    )


def draw_patients(rng: np.random.Generator, draw: RegionMonthDraw) -> None:
    """Patient: about 7% children, adults skewed to older ages; NHS number, its status,
    ethnic category and gender."""
    n, test = draw.n, draw.test
    ages = np.where(rng.random(n) < 0.07, rng.random(n) * 16, 16 + 86 * rng.beta(1.7, 1.5, n))
    birth = test - (np.floor(ages * 365.25).astype(np.int64) + rng.integers(0, 365, n))
    draw.birth = np.minimum(birth, test)
    draw.nhs_number = nhs_numbers(rng, n)
    draw.status = choose(rng, NHS_NUMBER_STATUS_SHARES, n)
    draw.ethnic = choose(rng, ETHNIC_SHARES, n)
    draw.gender = choose(rng, GENDER_SHARES, n)


def break_one_rule_each(
    rng: np.random.Generator, draw: RegionMonthDraw, pool: CodePool, unknown_site_first: int
) -> None:
    """Break one rule in each record meant to be invalid (and no other rule)."""
    meant, test = draw.meant, draw.test
    shift = rng.integers(1, 8, draw.n)
    draw.nhs_number = np.where(
        meant("DIDS001"),
        draw.nhs_number // 10 * 10 + (draw.nhs_number % 10 + shift % 9 + 1) % 10,
        draw.nhs_number,
    )
    draw.birth = np.where(meant("DIDS006"), test + shift, draw.birth)
    draw.ethnic = np.where(meant("DIDS012"), len(ETHNIC_SHARES), draw.ethnic)  # "X"
    draw.setting = np.where(meant("DIDS021"), len(SETTING_CODES), draw.setting)  # "08"
    # DIDS034: requested after the test, no received date, reported on the day of the
    # request (so not DIDS027, DIDS043 or DIDS035). DIDS048: reported before the test
    # and requested no later than that (not DIDS035).
    report_before_test = test - np.minimum(shift, 3)
    draw.request = np.where(meant("DIDS034"), test + shift, draw.request)
    draw.request = np.where(
        meant("DIDS048"), np.minimum(draw.request, report_before_test), draw.request
    )
    draw.report = np.where(meant("DIDS034"), draw.request, draw.report)
    draw.report = np.where(meant("DIDS048"), report_before_test, draw.report)
    draw.no_request &= ~meant("DIDS034")
    draw.no_received |= meant("DIDS034")
    draw.no_report &= ~(meant("DIDS034") | meant("DIDS048"))
    draw.nicip = np.where(
        meant("DIDS057"), pool.unknown_nicip, np.where(meant("DIDS059"), 0, draw.nicip)
    )
    draw.snomed = np.where(
        meant("DIDS059"),
        pool.unknown_snomed_first + rng.integers(0, pool.unknown_snomed_count, draw.n),
        np.where(meant("DIDS057"), 0, draw.snomed),
    )
    draw.site = np.where(meant("DIDS068"), unknown_site_first + draw.provider, draw.site)


def file_order(
    rng: np.random.Generator, draw: RegionMonthDraw, providers: int
) -> tuple[np.ndarray, np.ndarray]:
    """File order: provider, test date, site; accession numbers follow it, one sequence
    per provider file; a DIDS071 record is sent twice, one after the other. Returns the
    order (record indexes, repeats included) and each record's accession sequence."""
    n, provider = draw.n, draw.provider
    order = np.lexsort((rng.random(n), draw.site, draw.test, provider))
    sorted_provider = provider[order]
    first_of_provider = np.searchsorted(sorted_provider, sorted_provider, side="left")
    offsets = rng.integers(0, 1_000_000, providers)
    sequence = np.empty(n, dtype=np.int64)
    sequence[order] = offsets[sorted_provider] + np.arange(n) - first_of_provider
    order = np.repeat(order, np.where(draw.meant("DIDS071")[order], 2, 1))
    return order, sequence


def draw_referrals(
    rng: np.random.Generator, draw: RegionMonthDraw, people: RegionPeople, providers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Practice, referrer, referring organisation and postcode of each record, as
    indexes into the region's pools (made once per region or provider, not per record)."""
    n, provider = draw.n, draw.provider
    practice = provider * PRACTICES_PER_PROVIDER + rng.integers(0, PRACTICES_PER_PROVIDER, n)
    by_gp = draw.referrer_setting == SETTING_CODES.index("04")
    referrer = np.where(
        by_gp,
        1 + practice * GPS_PER_PRACTICE + rng.integers(0, GPS_PER_PRACTICE, n),
        np.where(rng.random(n) < NURSE_REFERRER_SHARE, people.first_nurse, people.first_consultant)
        + provider * PRACTICES_PER_PROVIDER
        + rng.integers(0, PRACTICES_PER_PROVIDER, n),
    )
    referrer[rng.random(n) < MISSING_REFERRER_SHARE] = 0
    referring_org = np.where(
        by_gp,
        1 + providers + practice,
        np.where(draw.referrer_setting == SETTING_CODES.index("07"), 0, 1 + provider),
    )
    postcode = 1 + rng.integers(0, len(people.postcodes) - 1, n)
    postcode[rng.random(n) < MISSING_POSTCODE_SHARE] = 0
    return practice, referrer, referring_org, postcode


def generate_region_month(
    rng: np.random.Generator,
    cells: pl.DataFrame,
    sites: pl.DataFrame,
    pool: CodePool,
    known_sites: set[str],
    month_start: date,
    submitted: date,
    scale: str,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Every record of one region's providers for one month, with its file name, and
    the number of records made to break each rule."""
    region_code = cells["region_code"][0]
    cells = cells.sort("provider_code", "modality")
    providers = cells["provider_code"].unique(maintain_order=True).to_list()
    provider_index = {code: i for i, code in enumerate(providers)}
    cell_provider = np.array([provider_index[p] for p in cells["provider_code"]])
    cell_modality = np.array([MODALITIES.index(m) for m in cells["modality"]])

    draw = draw_records_per_cell(rng, cells, cell_provider, len(providers), scale)
    site_strings, unknown_site_first = draw_sites(
        rng, draw, sites, region_code, providers, known_sites
    )
    # Source setting from the provider's mix for the modality.
    draw.setting = choose_within_groups(
        draw.cell, cells.select(SETTING_COLUMNS).to_numpy(), rng.random(draw.n)
    )
    draw_test_dates(rng, draw, month_start)
    draw_waits(rng, draw, cells, submitted)
    draw_patients(rng, draw)
    draw.nicip, draw.snomed = pick_imaging_codes(rng, cell_modality[draw.cell], pool)
    draw.referrer_setting = draw.setting.copy()
    break_one_rule_each(rng, draw, pool, unknown_site_first)
    order, sequence = file_order(rng, draw, len(providers))
    people = region_people(region_code, tuple(providers))
    practice, referrer, referring_org, postcode = draw_referrals(rng, draw, people, len(providers))

    def dates(values: np.ndarray, absent: np.ndarray | None = None) -> pl.Series:
        if absent is not None:
            values = np.where(absent, np.datetime64("NaT"), values)
        return pl.Series(values[order])  # a date column: written as CCYY-MM-DD

    def pick(strings: Sequence[str | None], index: np.ndarray) -> pl.Series:
        return pl.Series(list(strings), dtype=pl.String).gather(index[order])

    month_label = month_start.strftime("%Y-%m")
    provider = draw.provider
    records = pl.DataFrame(
        {
            "file_name": pick(
                [f"{p}-{region_code}-{month_label}.csv" for p in providers], provider
            ),
            "NHS_NUMBER": draw.nhs_number[order],
            "NHS_NUMBER_STATUS_IND": pick(list(NHS_NUMBER_STATUS_SHARES), draw.status),
            "PERSON_BIRTH_DATE": dates(draw.birth),
            "ETHNIC_CATEGORY": pick([*ETHNIC_SHARES, "X"], draw.ethnic),
            "PERSON_GENDER_CODE": pick(list(GENDER_SHARES), draw.gender),
            "POSTCODE": people.postcodes.gather(postcode[order]),
            "PRACTICE_CODE": people.referring_orgs.gather(1 + len(providers) + practice[order]),
            "PATIENT_SOURCE_SETTING": pick([*SETTING_CODES, "08"], draw.setting),
            "REFERRER": people.referrers.gather(referrer[order]),
            "REFERRING_ORG_CODE": people.referring_orgs.gather(referring_org[order]),
            "DIAGNOSTIC_TEST_REQUEST_DATE": dates(draw.request, draw.no_request),
            "DIAG_TEST_REQUEST_REC_DATE": dates(draw.received, draw.no_received),
            "DIAGNOSTIC_TEST_DATE": dates(draw.test),
            "IMAGING_CODE_NICIP": pool.strings.gather(draw.nicip[order]),
            "IMAGING_CODE_SNOMED": pool.strings.gather(draw.snomed[order]),
            "SERVICE_REPORT_DATE": dates(draw.report, draw.no_report),
            "SITE_CODE_IMAGING": pick(site_strings, draw.site),
            "provider_code": pick(providers, provider),
            "sequence": sequence[order],
        }
    )
    records = records.with_columns(
        pl.concat_str(
            pl.col("provider_code"),
            pl.lit(month_start.strftime("%y%m")),
            pl.col("sequence").cast(pl.String).str.zfill(7),
        ).alias("RADIOLOGICAL_ACCESSION_NUM"),
    )
    broken = np.bincount(draw.rule[draw.rule >= 0], minlength=len(INVALID_RULES))
    broken[INVALID_RULES.index("DIDS071")] *= 2
    return (
        records.select("file_name", *SUBMISSION_COLUMNS),
        dict(zip(INVALID_RULES, broken.tolist(), strict=True)),
    )
