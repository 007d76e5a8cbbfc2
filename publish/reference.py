"""Reference data: sites, imaging codes and GP practices (INPUT.md section 3).

Both are checked before any record is: a duplicate site, an unknown modality or two
validity periods of one code that overlap would make a lookup ambiguous and the tables
silently wrong, so they stop the build with the file, row and field named.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from publish.codes import CANCER_TEST_GROUPS, MODALITIES, REGIONS
from publish.db import frame, run
from publish.errors import InputError
from publish.resources import REFERENCE_DATA_DIR

SITE_COLUMNS = ("site_code", "provider_code", "provider_name", "region_code", "region_name")
# Optional columns of sites.csv (table 13: the provider's ICB and imaging network).
SITE_OPTIONAL_COLUMNS = ("icb_code", "icb_name", "network_name")
PRACTICE_COLUMNS = (
    "practice_code",
    "sub_icb_code",
    "sub_icb_name",
    "icb_code",
    "icb_name",
    "region_code",
    "valid_from",
    "valid_to",
)
IMAGING_CODE_COLUMNS = (
    "code_system",
    "code",
    "description",
    "modality",
    "body_region",
    "interventional",
    "cancer_test_group",
    "valid_from",
    "valid_to",
)
DEFAULT_SITES = REFERENCE_DATA_DIR / "sites.csv"
DEFAULT_IMAGING_CODES = REFERENCE_DATA_DIR / "imaging_codes.csv"
DEFAULT_PRACTICES = REFERENCE_DATA_DIR / "practices.csv"


@dataclass(frozen=True)
class ReferenceFiles:
    sites: Path = DEFAULT_SITES
    imaging_codes: Path = DEFAULT_IMAGING_CODES
    practices: Path = DEFAULT_PRACTICES


def read_reference_csv(
    path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> pl.DataFrame:
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such reference file") from None
    except Exception:  # polars raises several error types for unreadable CSV
        raise InputError(f"{path}: cannot be read as a UTF-8 CSV file with a header") from None
    frame = frame.rename({name: name.strip().lower() for name in frame.columns})
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise InputError(f"{path}: row 1 (the header), missing column(s) {', '.join(missing)}")
    frame = frame.with_columns(
        pl.lit(None, pl.Utf8).alias(name) for name in optional if name not in frame.columns
    )
    return frame.select(
        [
            pl.col(name).str.strip_chars().replace("", None).alias(name)
            for name in (*columns, *optional)
        ]
    )


def fail_on_rows(path: Path, frame: pl.DataFrame, bad: pl.Series, field: str, why: str) -> None:
    rows = [index + 1 for index, is_bad in enumerate(bad.to_list()) if is_bad]
    if rows:
        shown = ", ".join(str(row) for row in rows[:5]) + (" ..." if len(rows) > 5 else "")
        raise InputError(f"{path}: row(s) {shown}, field {field}: {why}")


# Optional columns of sites.csv: the period in which a site belongs to its provider.
SITE_PERIOD_COLUMNS = ("valid_from", "valid_to")


def load_sites(path: Path) -> pl.DataFrame:
    """The site reference, with each row's period (`valid_from`, `valid_to`: optional
    columns; a site may have several rows for disjoint periods, INPUT.md section 3)."""
    sites = read_reference_csv(
        path, SITE_COLUMNS, (*SITE_OPTIONAL_COLUMNS, *SITE_PERIOD_COLUMNS)
    ).with_columns(pl.col("site_code").str.to_uppercase())
    sites = parse_validity(path, sites)
    for name in ("site_code", "provider_code", "provider_name", "region_code"):
        fail_on_rows(path, sites, sites[name].is_null(), name, "missing")
    fail_on_rows(
        path,
        sites,
        sites["valid_to"].is_not_null() & (sites["valid_to"] < sites["valid_from"]),
        "valid_to",
        "before valid_from",
    )
    fail_on_rows(
        path,
        sites,
        overlapping_validity(sites, ("site_code",)),
        "site_code",
        "duplicate site: its periods overlap another row of the same site",
    )
    fail_on_rows(
        path,
        sites,
        ~sites["site_code"].str.contains(r"^[A-Z0-9]{5,12}$"),
        "site_code",
        "not 5-12 letters and digits",
    )
    return sites.with_columns(
        pl.col("region_name").fill_null(pl.col("region_code").replace_strict(REGIONS, default="")),
        # a record without a valid test date is mapped by its site's first row
        (pl.col("valid_from") == pl.col("valid_from").min().over("site_code")).alias(
            "first_period"
        ),
    )


def load_imaging_codes(path: Path) -> pl.DataFrame:
    codes = read_reference_csv(path, IMAGING_CODE_COLUMNS).with_columns(
        pl.col("code_system").str.to_uppercase(),
        pl.col("code").str.to_uppercase(),
        pl.col("interventional").str.to_uppercase().fill_null("N"),
    )
    fail_on_rows(
        path,
        codes,
        ~codes["code_system"].is_in(["NICIP", "SNOMED"]),
        "code_system",
        "not NICIP or SNOMED",
    )
    fail_on_rows(path, codes, codes["code"].is_null(), "code", "missing")
    fail_on_rows(
        path,
        codes,
        ~codes["modality"].is_in(list(MODALITIES)),
        "modality",
        "not a published modality",
    )
    fail_on_rows(
        path,
        codes,
        ~(
            codes["cancer_test_group"].is_null()
            | codes["cancer_test_group"].is_in(list(CANCER_TEST_GROUPS))
        ),
        "cancer_test_group",
        "not one of the five DID cancer test groups",
    )
    fail_on_rows(
        path, codes, ~codes["interventional"].is_in(["Y", "N"]), "interventional", "not Y or N"
    )
    for name in ("valid_from", "valid_to"):
        parsed = codes[name].str.to_date("%Y-%m-%d", strict=False)
        fail_on_rows(
            path, codes, parsed.is_null() & codes[name].is_not_null(), name, "not CCYY-MM-DD"
        )
    codes = codes.with_columns(
        pl.col("valid_from").str.to_date("%Y-%m-%d").fill_null(date(1900, 1, 1)),
        pl.col("valid_to").str.to_date("%Y-%m-%d"),
    )
    overlapping = overlapping_validity(codes)
    fail_on_rows(
        path, codes, overlapping, "valid_from", "validity overlaps another row of the same code"
    )
    return codes


def overlapping_validity(
    codes: pl.DataFrame, key: tuple[str, ...] = ("code_system", "code")
) -> pl.Series:
    """True for each row whose validity period overlaps an earlier row of the same key."""
    ordered = codes.with_row_index("position").sort(*key, "valid_from")
    previous_end = pl.col("valid_to").shift(1).over(*key)
    is_first = pl.col("position").cum_count().over(*key) == 1
    flagged = ordered.with_columns(
        (~is_first & (previous_end.is_null() | (previous_end >= pl.col("valid_from")))).alias("bad")
    ).sort("position")
    return flagged["bad"]


def published_provider_names(con: duckdb.DuckDBPyConnection, as_at: date | None) -> pl.DataFrame:
    """One name per (region, provider): a renamed provider is published under the name of
    its row valid at `as_at` (the end of the period), else of its latest row (INPUT.md
    section 3). No date: the latest row's. (Plain SQL, read on every engine; the choice
    in polars.)"""
    sites = frame(
        con, "SELECT region_code, provider_code, region_name, provider_name, valid_from FROM sites"
    )
    as_at = as_at or date(9999, 12, 31)
    return (
        sites.with_columns((pl.col("valid_from") <= as_at).alias("_started"))
        .sort("_started", "valid_from", "provider_name", "region_name")
        .group_by("region_code", "provider_code")
        .agg(pl.col("region_name").last(), pl.col("provider_name").last())
        .sort("region_code", "provider_code")
    )


def parse_validity(path: Path, frame: pl.DataFrame) -> pl.DataFrame:
    """valid_from (default 1900-01-01) and valid_to (open when empty) as dates; a value
    that is not CCYY-MM-DD stops the build with its row."""
    for name in ("valid_from", "valid_to"):
        parsed = frame[name].str.to_date("%Y-%m-%d", strict=False)
        fail_on_rows(
            path, frame, parsed.is_null() & frame[name].is_not_null(), name, "not CCYY-MM-DD"
        )
    return frame.with_columns(
        pl.col("valid_from").str.to_date("%Y-%m-%d").fill_null(date(1900, 1, 1)),
        pl.col("valid_to").str.to_date("%Y-%m-%d"),
    )


def load_practices(path: Path) -> pl.DataFrame:
    """GP practice -> sub-ICB location (the commissioner of tables 7 and 8), ICB and
    region, dated. A practice in two sub-ICBs on one date would make the commissioner of
    its records ambiguous: refused with the row."""
    practices = read_reference_csv(path, PRACTICE_COLUMNS).with_columns(
        pl.col("practice_code").str.to_uppercase(), pl.col("sub_icb_code").str.to_uppercase()
    )
    for name in ("practice_code", "sub_icb_code", "sub_icb_name", "region_code"):
        fail_on_rows(path, practices, practices[name].is_null(), name, "missing")
    fail_on_rows(
        path,
        practices,
        ~practices["region_code"].is_in(list(REGIONS)),
        "region_code",
        "not one of the seven commissioning regions",
    )
    practices = parse_validity(path, practices)
    fail_on_rows(
        path,
        practices,
        overlapping_validity(practices, ("practice_code",)),
        "valid_from",
        "the practice is in another row on the same date (two sub-ICB locations at once)",
    )
    named = practices.group_by("sub_icb_code").agg(
        pl.col("sub_icb_name").n_unique().alias("names"), pl.col("region_code").n_unique()
    )
    ambiguous = named.filter((pl.col("names") > 1) | (pl.col("region_code") > 1))
    fail_on_rows(
        path,
        practices,
        practices["sub_icb_code"].is_in(ambiguous["sub_icb_code"].to_list()),
        "sub_icb_code",
        "one sub-ICB location with two names or regions",
    )
    return practices


def load_reference_data(con: duckdb.DuckDBPyConnection, files: ReferenceFiles) -> None:
    """Create the `sites`, `imaging_codes` and `practices` tables the queries join to."""
    frames = {
        "sites": load_sites(files.sites),
        "imaging_codes": load_imaging_codes(files.imaging_codes),
        "practices": load_practices(files.practices),
    }
    for name, loaded in frames.items():
        con.register(f"{name}_frame", loaded)
        run(con, f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_frame")
        con.unregister(f"{name}_frame")
