"""Synthetic DID submissions: realistic record-level files in the INPUT.md format.

Volumes, waits and source-setting mix follow NHS England's published 2023-24 DID
tables, through a compact profile shipped with the package
(`reference_data/synth_profile.csv`, made by `benchmarks/make_synth_profile.py`): one
row per published provider cell (region, provider, modality, month) with its count,
its two median waits and its provider's source-setting mix. A requested month takes the
profile of the same calendar month.

Every record is valid except a known, small share (about 0.5%) made to break one DIDS
rule each, so that validation, the quarantine and the data-quality report have
something to find; `SynthResult.invalid_records` says how many of each.

Generation is vectorised (numpy and polars) by region and month; the random stream of
each (seed, month, region) is fixed, so the same arguments give byte-identical files.
"""

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
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
MISSING_REPORT_SHARE = 0.012  # plus reports not issued by the submission date

# Waits: log-logistic, scaled so that the median is the profile's median; the shape
# gives the tail (about 1% of requests more than a year before the test).
REQUEST_TO_TEST_SHAPE = 2.0
TEST_TO_REPORT_SHAPE = 1.5
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
CONSULTANTS_PER_PROVIDER = 400


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
) -> SynthResult:
    """Write one submission CSV per provider, region and month, and `submissions.csv`.

    `months` are "YYYY-MM"; `scale` "national" gives the published volumes (about four
    million records a month), "demo" about 1/300 of them with every published cell
    kept (small cells shrink by a square root, so some land on 1-2 and some on 3-7).
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, not {scale!r}")
    month_starts = [parse_month(month) for month in dict.fromkeys(months)]
    if not month_starts:
        raise ValueError("no months to generate")
    sites = read_sites(sites_path or DEFAULT_SITES)
    codes = read_imaging_codes(imaging_codes_path or DEFAULT_IMAGING_CODES)
    profile, skipped = read_profile(sites)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    submission_dates: list[tuple[str, str]] = []
    records_written = 0
    invalid_records = dict.fromkeys(INVALID_RULES, 0)
    known_sites = set(sites["site_code"])
    for month_start in month_starts:
        submitted = next_month(month_start).replace(day=SUBMISSION_DAY)
        month_profile = profile.filter(pl.col("calendar_month") == month_start.month)
        month_codes = imaging_codes_valid_in(codes, month_start)
        for region_code in sorted(month_profile["region_code"].unique()):
            cells = month_profile.filter(pl.col("region_code") == region_code)
            rng = np.random.default_rng(
                [seed, month_start.year, month_start.month, list(REGIONS).index(region_code)]
            )
            records = generate_region_month(
                rng, cells, sites, month_codes, known_sites, month_start, submitted, scale
            )
            for rule, count in records.group_by("intended_rule").len().iter_rows():
                if rule is not None:
                    invalid_records[rule] += count
            for (file_name,), submission in records.partition_by(
                "file_name", maintain_order=True, as_dict=True
            ).items():
                path = out_dir / file_name
                submission.select(SUBMISSION_COLUMNS).write_csv(path, line_terminator="\n")
                files.append(path)
                submission_dates.append((file_name, submitted.isoformat()))
                records_written += submission.height

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
    """A uniform for each record, in the order of `key` within its cell (stratified)."""
    order = np.lexsort((key, cell))
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


def choice(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    values = np.array(list(shares))
    weights = np.array(list(shares.values()), dtype=np.float64)
    return values[rng.choice(len(values), size=n, p=weights / weights.sum())]


def stable_number(text: str) -> int:
    return zlib.crc32(text.encode())


@dataclass(frozen=True)
class CodeTable:
    """The imaging codes of one modality, with how often each is picked."""

    system: np.ndarray  # "NICIP" / "SNOMED"
    code: np.ndarray
    probability: np.ndarray
    partners: np.ndarray  # (codes x most partners) indices into this table, -1 padded
    partner_count: np.ndarray


def code_tables(codes: pl.DataFrame) -> dict[str, CodeTable]:
    tables = {}
    for modality in MODALITIES:
        rows = codes.filter(pl.col("modality") == modality)
        if rows.height == 0:
            continue
        cancer = rows["cancer_test_group"].to_numpy()
        interventional = rows["interventional"].to_numpy()
        system = rows["code_system"].to_numpy()
        weight = np.where(system == "NICIP", NICIP_WEIGHT, SNOMED_WEIGHT)
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
        key = [
            (m, b, i, c)
            for m, b, i, c in rows.select(
                "modality", "body_region", "interventional", "cancer_test_group"
            ).iter_rows()
        ]
        partner_lists = [
            [j for j in range(rows.height) if key[j] == key[i] and system[j] != system[i]]
            for i in range(rows.height)
        ]
        width = max(1, max(len(p) for p in partner_lists))
        partners = np.full((rows.height, width), -1)
        for i, found in enumerate(partner_lists):
            partners[i, : len(found)] = found
        tables[modality] = CodeTable(
            system=system,
            code=rows["code"].to_numpy(),
            probability=probability,
            partners=partners,
            partner_count=np.array([len(p) for p in partner_lists]),
        )
    return tables


def pick_imaging_codes(
    rng: np.random.Generator, modality: np.ndarray, tables: dict[str, CodeTable]
) -> tuple[np.ndarray, np.ndarray]:
    """NICIP and SNOMED columns: one code, or two equivalent ones (same modality, body
    region, interventional flag and cancer test group) for about a third of records."""
    n = len(modality)
    nicip = np.full(n, None, dtype=object)
    snomed = np.full(n, None, dtype=object)
    for name in MODALITIES:
        rows = np.flatnonzero(modality == name)
        if rows.size == 0:
            continue
        if name not in tables:
            raise ValueError(f"the imaging-code reference has no code valid for {name}")
        table = tables[name]
        picked = rng.choice(len(table.code), size=rows.size, p=table.probability)
        partner_count = table.partner_count[picked]
        slot = np.floor(rng.random(rows.size) * np.maximum(partner_count, 1)).astype(np.int64)
        partner = np.where(
            (rng.random(rows.size) < BOTH_CODES_SHARE) & (partner_count > 0),
            table.partners[picked, slot],
            -1,
        )
        for index in (picked, partner):
            given = index >= 0
            system = table.system[index[given]]
            code = table.code[index[given]]
            nicip[rows[given][system == "NICIP"]] = code[system == "NICIP"]
            snomed[rows[given][system == "SNOMED"]] = code[system == "SNOMED"]
    has_nicip = np.not_equal(nicip, None)
    lower = has_nicip & (rng.random(n) < LOWER_CASE_NICIP_SHARE)
    nicip[lower] = np.char.lower(nicip[lower].astype(str)).astype(object)
    return nicip, snomed


def generate_region_month(
    rng: np.random.Generator,
    cells: pl.DataFrame,
    sites: pl.DataFrame,
    codes: pl.DataFrame,
    known_sites: set[str],
    month_start: date,
    submitted: date,
    scale: str,
) -> pl.DataFrame:
    """Every record of one region's providers for one month, with its file name."""
    region_code = cells["region_code"][0]
    cells = cells.sort("provider_code", "modality")
    providers = cells["provider_code"].unique(maintain_order=True).to_list()
    provider_index = {code: i for i, code in enumerate(providers)}
    cell_provider = np.array([provider_index[p] for p in cells["provider_code"]])
    cell_count = scaled_counts(cells["activity_count"].to_numpy(), scale)

    # Records per provider: the cells' counts, plus about 0.5% made invalid on purpose,
    # each a copy of a random record of the same provider before it is broken.
    cell = np.repeat(np.arange(cells.height), cell_count)
    per_provider = np.bincount(cell_provider[cell], minlength=len(providers))
    invalid_per_provider = rng.binomial(per_provider, INVALID_SHARE)
    provider_start = np.concatenate([[0], np.cumsum(per_provider)[:-1]])
    invalid_provider = np.repeat(np.arange(len(providers)), invalid_per_provider)
    template = provider_start[invalid_provider] + np.floor(
        rng.random(invalid_provider.size) * per_provider[invalid_provider]
    ).astype(np.int64)
    cell = np.concatenate([cell, cell[template]])
    provider = cell_provider[cell]
    n = cell.size
    intended_rule = np.full(n, None, dtype=object)
    intended_rule[n - template.size :] = np.array(INVALID_RULES, dtype=object)[
        rng.integers(0, len(INVALID_RULES), template.size)
    ]

    # Site: one of the provider's sites in this region, the first the busiest.
    provider_sites = [
        sites.filter((pl.col("region_code") == region_code) & (pl.col("provider_code") == p))[
            "site_code"
        ].to_list()[: len(SITE_WEIGHTS)]
        for p in providers
    ]
    site_shares = np.zeros((len(providers), len(SITE_WEIGHTS)))
    for i, provider_site_codes in enumerate(provider_sites):
        site_shares[i, : len(provider_site_codes)] = SITE_WEIGHTS[: len(provider_site_codes)]
    site_names = np.array(
        [codes_ + codes_[:1] * (len(SITE_WEIGHTS) - len(codes_)) for codes_ in provider_sites]
    )
    site = site_names[provider, choose_within_groups(provider, site_shares, rng.random(n))]

    # Source setting from the provider's mix for the modality.
    setting_index = choose_within_groups(
        cell, cells.select(SETTING_COLUMNS).to_numpy(), rng.random(n)
    )
    setting = np.array(SETTING_CODES)[setting_index]

    # Test date: a day of the month, fewer at weekends.
    days_in_month = (next_month(month_start) - month_start).days
    day_weights = np.array(
        [WEEKDAY_WEIGHTS[(month_start + timedelta(days=d)).weekday()] for d in range(days_in_month)]
    )
    test = np.datetime64(month_start, "D") + rng.choice(
        days_in_month, size=n, p=day_weights / day_weights.sum()
    )

    # Waits with the cell's medians; A&E and inpatients wait least.
    request_bias = np.array([REQUEST_WAIT_BIAS[code] for code in SETTING_CODES])[setting_index]
    report_bias = np.array([REPORT_WAIT_BIAS[code] for code in SETTING_CODES])[setting_index]
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
    request = test - request_wait
    received_gap = np.where(
        rng.random(n) < 0.75, 0, np.floor(rng.random(n) * (request_wait + 1)).astype(np.int64)
    )
    received = request + np.minimum(received_gap, request_wait)
    report = test + report_wait
    missing = rng.random(n)
    no_request = missing < MISSING_REQUEST_SHARE + MISSING_BOTH_REQUEST_DATES_SHARE
    no_received = (missing >= MISSING_REQUEST_SHARE) & (
        missing < MISSING_REQUEST_SHARE + MISSING_BOTH_REQUEST_DATES_SHARE + MISSING_RECEIVED_SHARE
    )
    # Not reported by the submission date, or not recorded.
    no_report = (report > np.datetime64(submitted, "D")) | (rng.random(n) < MISSING_REPORT_SHARE)

    # Patient: about 7% children, adults skewed to older ages.
    ages = np.where(rng.random(n) < 0.07, rng.random(n) * 16, 16 + 86 * rng.beta(1.7, 1.5, n))
    birth = test - (np.floor(ages * 365.25).astype(np.int64) + rng.integers(0, 365, n))
    birth = np.minimum(birth, test)

    nicip, snomed = pick_imaging_codes(rng, cells["modality"].to_numpy()[cell], code_tables(codes))
    provider_codes = np.array(providers)
    provider_seed = np.array([stable_number(f"{p}{region_code}") for p in providers])
    areas = np.array(POSTCODE_AREAS[region_code])
    unit_letters = np.array(POSTCODE_UNIT_LETTERS)
    practice_letters = np.array(list(PRACTICE_LETTERS[region_code]))
    practice_key = provider_seed[provider] % 100_000 * 1000 + rng.integers(
        0, PRACTICES_PER_PROVIDER, n
    )
    consultant_key = provider_seed[provider] % 1000 * 10_000 + rng.integers(
        0, CONSULTANTS_PER_PROVIDER, n
    )

    def digits(values: np.ndarray, width: int) -> pl.Expr:
        return pl.lit(pl.Series(values)).cast(pl.String).str.zfill(width)

    def letters(count: int) -> pl.Expr:
        return pl.lit(pl.Series(unit_letters[rng.integers(0, unit_letters.size, count)]))

    records = pl.DataFrame(
        {
            "provider_code": provider_codes[provider],
            "site": site,
            "test": test,
            "NHS_NUMBER": nhs_numbers(rng, n),
            "NHS_NUMBER_STATUS_IND": choice(rng, NHS_NUMBER_STATUS_SHARES, n),
            "PERSON_BIRTH_DATE": birth,
            "ETHNIC_CATEGORY": choice(rng, ETHNIC_SHARES, n),
            "PERSON_GENDER_CODE": choice(rng, GENDER_SHARES, n),
            "PATIENT_SOURCE_SETTING": setting,
            "request": request,
            "received": received,
            "report": report,
            "no_request": no_request,
            "no_received": no_received,
            "no_report": no_report,
            "IMAGING_CODE_NICIP": pl.Series(nicip, dtype=pl.String),
            "IMAGING_CODE_SNOMED": pl.Series(snomed, dtype=pl.String),
            "intended_rule": pl.Series(intended_rule, dtype=pl.String),
            "draw": rng.random(n),
        }
    )
    setting_column = pl.col("PATIENT_SOURCE_SETTING")
    records = records.with_columns(
        pl.when(pl.lit(pl.Series(rng.random(n) >= 0.003)))
        .then(
            pl.concat_str(
                pl.lit(pl.Series(areas[rng.integers(0, areas.size, n)])),
                digits(rng.integers(1, 21, n), 1),
                pl.lit(" "),
                digits(rng.integers(0, 10, n), 1),
                letters(n),
                letters(n),
            )
        )
        .alias("POSTCODE"),
        pl.concat_str(
            pl.lit(pl.Series(practice_letters[practice_key % practice_letters.size])),
            digits(81 + practice_key // 7 % 12, 2),
            digits(practice_key * 7919 // 13 % 1000, 3),
        ).alias("PRACTICE_CODE"),
    ).with_columns(
        pl.when(pl.lit(pl.Series(rng.random(n) < 0.03)))
        .then(None)
        .when(setting_column == "04")
        .then(pl.concat_str(pl.lit("G"), digits(rng.integers(0, 10**7, n), 7)))
        .when(pl.lit(pl.Series(rng.random(n) < 0.04)))
        .then(
            pl.concat_str(
                digits(rng.integers(0, 100, n), 2),
                letters(n),
                digits(rng.integers(0, 10**4, n), 4),
                letters(n),
            )
        )
        .otherwise(pl.concat_str(pl.lit("C"), digits(consultant_key * 2654435761 % 10**7, 7)))
        .alias("REFERRER"),
        pl.when(setting_column == "04")
        .then(pl.col("PRACTICE_CODE"))
        .when(setting_column == "07")
        .then(None)
        .otherwise(pl.col("provider_code"))
        .alias("REFERRING_ORG_CODE"),
    )

    # Accession numbers: one sequence per provider file, in test-date order.
    records = records.sort("provider_code", "test", "site", "draw")
    offsets = {p: int(rng.integers(0, 1_000_000)) for p in providers}
    records = records.with_columns(
        pl.concat_str(
            pl.col("provider_code"),
            pl.lit(month_start.strftime("%y%m")),
            (
                pl.col("provider_code").replace_strict(offsets, return_dtype=pl.Int64)
                + pl.int_range(pl.len()).over("provider_code")
            )
            .cast(pl.String)
            .str.zfill(7),
        ).alias("RADIOLOGICAL_ACCESSION_NUM"),
    )
    records = break_rules(rng, records, known_sites, codes)

    def date_unless(flag: str, column: str, name: str) -> pl.Expr:
        return pl.when(~pl.col(flag)).then(pl.col(column)).cast(pl.String).alias(name)

    file_name = pl.format(
        "{}-{}-{}.csv", "provider_code", pl.lit(region_code), pl.lit(month_start.strftime("%Y-%m"))
    )
    return records.with_columns(
        pl.col("NHS_NUMBER").cast(pl.String),
        pl.col("PERSON_BIRTH_DATE").cast(pl.String),
        date_unless("no_request", "request", "DIAGNOSTIC_TEST_REQUEST_DATE"),
        date_unless("no_received", "received", "DIAG_TEST_REQUEST_REC_DATE"),
        pl.col("test").cast(pl.String).alias("DIAGNOSTIC_TEST_DATE"),
        date_unless("no_report", "report", "SERVICE_REPORT_DATE"),
        pl.col("site").alias("SITE_CODE_IMAGING"),
        file_name.alias("file_name"),
    ).select("file_name", "intended_rule", *SUBMISSION_COLUMNS)


def break_rules(
    rng: np.random.Generator, records: pl.DataFrame, known_sites: set[str], codes: pl.DataFrame
) -> pl.DataFrame:
    """Make each record with an intended rule break that rule, and no other."""
    rule = pl.col("intended_rule")
    days = pl.Series(rng.integers(1, 8, records.height)).cast(pl.Duration("d"))
    wrong_digit = pl.Series(rng.integers(1, 10, records.height))
    known_codes = set(codes["code"].str.to_uppercase())
    unknown_nicip = [c for c in UNKNOWN_NICIP_CODES if c not in known_codes]
    unknown_snomed = pl.Series(UNKNOWN_SNOMED_CODE_BASE + rng.integers(0, 1000, records.height))
    unknown_site = (pl.col("provider_code") + pl.lit("ZZ9")).alias("unknown_site")
    records = records.with_columns(unknown_site)
    clashing = set(records["unknown_site"].unique()) & known_sites
    if clashing:
        raise ValueError(f"site codes meant to be unknown are in the site reference: {clashing}")
    report_before_test = pl.col("test") - days.clip(upper_bound=3)
    records = records.with_columns(
        # DIDS001: change the check digit.
        pl.when(rule == "DIDS001")
        .then(pl.col("NHS_NUMBER") // 10 * 10 + (pl.col("NHS_NUMBER") % 10 + wrong_digit) % 10)
        .otherwise(pl.col("NHS_NUMBER")),
        pl.when(rule == "DIDS006")
        .then(pl.col("test") + days)
        .otherwise(pl.col("PERSON_BIRTH_DATE"))
        .alias("PERSON_BIRTH_DATE"),
        pl.when(rule == "DIDS012").then(pl.lit("X")).otherwise(pl.col("ETHNIC_CATEGORY")),
        pl.when(rule == "DIDS021")
        .then(pl.lit("08"))
        .otherwise(pl.col("PATIENT_SOURCE_SETTING"))
        .alias("PATIENT_SOURCE_SETTING"),
        # DIDS034: requested after the test, no received date, reported on the request's
        # day (so neither DIDS027/043 nor DIDS035 applies). DIDS048: reported before the
        # test, requested no later than that (not DIDS035).
        pl.when(rule == "DIDS034")
        .then(pl.col("test") + days)
        .when(rule == "DIDS048")
        .then(pl.min_horizontal("request", report_before_test))
        .otherwise(pl.col("request"))
        .alias("request"),
        (pl.col("no_request") & ~rule.is_in(["DIDS034"])).alias("no_request"),
        (pl.col("no_received") | (rule == "DIDS034")).alias("no_received"),
        pl.when(rule == "DIDS034")
        .then(pl.col("test") + days)
        .when(rule == "DIDS048")
        .then(report_before_test)
        .otherwise(pl.col("report"))
        .alias("report"),
        (pl.col("no_report") & ~rule.is_in(["DIDS034", "DIDS048"])).alias("no_report"),
        pl.when(rule == "DIDS057")
        .then(pl.lit(unknown_nicip[0]))
        .when(rule == "DIDS059")
        .then(None)
        .otherwise(pl.col("IMAGING_CODE_NICIP"))
        .alias("IMAGING_CODE_NICIP"),
        pl.when(rule == "DIDS059")
        .then(unknown_snomed.cast(pl.String))
        .when(rule == "DIDS057")
        .then(None)
        .otherwise(pl.col("IMAGING_CODE_SNOMED"))
        .alias("IMAGING_CODE_SNOMED"),
        pl.when(rule == "DIDS068")
        .then(pl.col("unknown_site"))
        .otherwise(pl.col("site"))
        .alias("site"),
    )
    # DIDS071: the record is sent twice.
    duplicates = records.filter(rule == "DIDS071")
    return (
        pl.concat([records, duplicates])
        .sort("provider_code", "test", "RADIOLOGICAL_ACCESSION_NUM", maintain_order=True)
        .drop("unknown_site")
    )
