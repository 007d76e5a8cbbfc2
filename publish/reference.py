"""Reference data: the site reference and the imaging-code reference (INPUT.md section 3).

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


@dataclass(frozen=True)
class ReferenceFiles:
    sites: Path = DEFAULT_SITES
    imaging_codes: Path = DEFAULT_IMAGING_CODES


def read_reference_csv(path: Path, columns: tuple[str, ...]) -> pl.DataFrame:
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such reference file") from None
    except Exception:  # polars raises several error types for unreadable CSV
        raise InputError(f"{path}: cannot be read as a UTF-8 CSV file with a header") from None
    frame = frame.rename({name: name.strip().lower() for name in frame.columns})
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    return frame.select(
        [pl.col(name).str.strip_chars().replace("", None).alias(name) for name in columns]
    )


def fail_on_rows(path: Path, frame: pl.DataFrame, bad: pl.Series, field: str, why: str) -> None:
    rows = [index + 1 for index, is_bad in enumerate(bad.to_list()) if is_bad]
    if rows:
        shown = ", ".join(str(row) for row in rows[:5]) + (" ..." if len(rows) > 5 else "")
        raise InputError(f"{path}: row(s) {shown}, field {field}: {why}")


# Optional columns of sites.csv: the period in which a site belongs to its provider.
SITE_PERIOD_COLUMNS = ("valid_from", "valid_to")
NO_START = date(1900, 1, 1)


def load_sites(path: Path) -> pl.DataFrame:
    """The site reference, with each row's period (`valid_from`, `valid_to`: optional
    columns; a site may have several rows for disjoint periods, INPUT.md section 3)."""
    sites = read_reference_csv(path, SITE_COLUMNS).with_columns(
        pl.col("site_code").str.to_uppercase()
    )
    periods = read_optional_columns(path, SITE_PERIOD_COLUMNS, sites.height)
    for name in SITE_PERIOD_COLUMNS:
        parsed = periods[name].str.to_date("%Y-%m-%d", strict=False)
        fail_on_rows(
            path, periods, parsed.is_null() & periods[name].is_not_null(), name, "not CCYY-MM-DD"
        )
    sites = pl.concat([sites, periods], how="horizontal").with_columns(
        pl.col("valid_from").str.to_date("%Y-%m-%d").fill_null(NO_START),
        pl.col("valid_to").str.to_date("%Y-%m-%d"),
    )
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
        pl.col("region_name").fill_null(pl.col("region_code").replace_strict(REGIONS, default=""))
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


def read_optional_columns(path: Path, columns: tuple[str, ...], height: int) -> pl.DataFrame:
    """The optional columns of a reference file as text (null where absent or empty)."""
    header = pl.read_csv(path, infer_schema=False, n_rows=0, encoding="utf8").columns
    present = {name.strip().lower(): name for name in header}
    wanted = [present[c] for c in columns if c in present]
    frame = (
        pl.read_csv(path, infer_schema=False, columns=wanted, encoding="utf8")
        if wanted
        else pl.DataFrame()
    )
    return pl.DataFrame(
        {
            c: (
                frame[present[c]].str.strip_chars().replace("", None)
                if c in present
                else pl.Series(c, [None] * height, dtype=pl.Utf8)
            )
            for c in columns
        }
    )


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


def load_reference_data(con: duckdb.DuckDBPyConnection, files: ReferenceFiles) -> None:
    """Create the `sites` and `imaging_codes` tables the queries join to."""
    sites = load_sites(files.sites)
    codes = load_imaging_codes(files.imaging_codes)
    con.register("sites_frame", sites)
    con.register("imaging_codes_frame", codes)
    run(
        con,
        # first_period: a record without a valid test date is mapped by a site's first row
        "CREATE OR REPLACE TABLE sites AS SELECT *, row_number() OVER (PARTITION BY "
        "site_code ORDER BY valid_from) = 1 AS first_period FROM sites_frame",
    )
    run(con, "CREATE OR REPLACE TABLE imaging_codes AS SELECT * FROM imaging_codes_frame")
    con.unregister("sites_frame")
    con.unregister("imaging_codes_frame")
