"""Derive the synthetic-data profile and the default site reference from shared data.

Run once, by a developer with the shared folder, to (re)write
`publish/reference_data/synth_profile.csv` and `publish/reference_data/sites.csv`; the
package itself never reads the published tables (users install it without them):

    python benchmarks/make_synth_profile.py [--shared DIR] [--out FILE] [--sites-out FILE]

One profile row per published provider cell of table 1 (region, provider, modality,
month) that is not empty:

- `activity_count`: the published count; a suppressed cell (`*`, a count of 1 or 2) is
  resolved to 1 or 2, alternately by a hash of the cell key so the choice is stable.
  Empty cells (no data submitted) have no row.
- `median_days_request_to_test`, `median_days_test_to_report`: tables 2 and 3; where
  the cell's median is not published (suppressed, or not submitted), the provider's
  median of its published monthly medians for the modality, else the region's, else
  England's for that month.
- `setting_01` ... `setting_07`: the provider's yearly source-setting mix for the
  modality from table 11, in percent of its total (1 decimal; `*` counted as 1.5),
  empty when 0; England's mix for the modality where the provider has no table 11 row.
  The same on every month of the cell.

`sites.csv` gives every provider-region of the published tables its sites (names
exactly as published): a trust 1 site, 2 above 250,000 tests a year, 3 above 500,000
(`RYJ01`, `RYJ02`, ...); a provider published in several regions one site per region,
two where it did more than 40,000 tests there (`NT2Y56A`, `NT2Y56B`), so every site
belongs to exactly one region. Then the open English trusts of `reference/nhs_trusts.csv`
missing from the tables (one site each), and the sites of NHS England's DIDS test
fixtures that are meant to be known (`RR801`, `RR864`: Leeds; `NEF10`, `NEF12`: Korus
Health per the fixtures' expected output; their Cornish surgeries put NEF in the South
West). `NTG15` is left out on purpose: in `00006_dids_dq_scenarios` it sits among the
site-code error cases (missing, `!@#$%^`, `RR8`) as the well-formed unknown site
(`DIDS068`).
"""

import argparse
import sys
import zlib
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout, installed or not

from publish.codes import MODALITIES, REGIONS, SOURCE_SETTINGS  # noqa: E402

DEFAULT_SHARED = ROOT.parent / "shared"
DEFAULT_OUT = ROOT / "publish" / "reference_data" / "synth_profile.csv"
DEFAULT_SITES_OUT = ROOT / "publish" / "reference_data" / "sites.csv"

KEY = ["region_code", "provider_code", "modality"]
SETTING_COLUMNS = [f"setting_{code}" for code in SOURCE_SETTINGS]
LABEL_TO_SETTING_COLUMN = {label: f"setting_{code}" for code, label in SOURCE_SETTINGS.items()}


def read_table(published: Path, name: str) -> pl.DataFrame:
    frame = pl.read_csv(published / f"did-2023-24-{name}.csv", infer_schema=False)
    return frame.rename({"org_code": "provider_code", "value_as_published": "value"})


def resolve_suppressed_count(region: str, provider: str, modality: str, month: str) -> int:
    """A published `*` is a count of 1 or 2: pick one, stably, from the cell key."""
    return 1 + zlib.crc32(f"{region}|{provider}|{modality}|{month}".encode()) % 2


def monthly_counts(published: Path) -> pl.DataFrame:
    table1 = read_table(published, "table1_activity_count").filter(pl.col("provider_code") != "-")
    table1 = table1.filter(pl.col("value").is_not_null() & (pl.col("value") != "."))
    suppressed = [
        resolve_suppressed_count(*key) for key in table1.select(*KEY, "month").iter_rows()
    ]
    return table1.with_columns(
        pl.when(pl.col("value") == "*")
        .then(pl.Series(suppressed, dtype=pl.Int64))
        .otherwise(pl.col("value").cast(pl.Int64, strict=False))
        .alias("activity_count")
    ).select(*KEY, "month", "activity_count")


def filled_medians(published: Path, table_name: str, measure: str) -> pl.DataFrame:
    """Each cell's published median, else the provider's, region's or England's."""
    table = read_table(published, table_name).with_columns(
        pl.col("value").cast(pl.Float64, strict=False).alias(measure)
    )
    england = table.filter(pl.col("provider_code") == "-").select(
        "modality", "month", pl.col(measure).alias("england")
    )
    cells = table.filter(pl.col("provider_code") != "-").select(*KEY, "month", measure)
    provider = cells.group_by(KEY).agg(pl.col(measure).median().alias("provider"))
    region = cells.group_by("region_code", "modality").agg(pl.col(measure).median().alias("region"))
    return (
        cells.join(provider, on=KEY, how="left")
        .join(region, on=["region_code", "modality"], how="left")
        .join(england, on=["modality", "month"], how="left")
        .select(
            *KEY,
            "month",
            pl.coalesce(measure, "provider", "region", "england", pl.lit(0.0))
            .round(1)
            .alias(measure),
        )
    )


def setting_mix(published: Path) -> pl.DataFrame:
    """Percent of each provider's (else England's) yearly activity by source setting."""
    table11 = read_table(published, "table11_activity_by_source_setting").filter(
        pl.col("source_setting") != "Total"
    )
    table11 = table11.with_columns(
        pl.when(pl.col("value") == "*")
        .then(1.5)
        .otherwise(pl.col("value").cast(pl.Float64, strict=False).fill_null(0.0))
        .alias("count"),
        pl.col("source_setting").replace_strict(LABEL_TO_SETTING_COLUMN).alias("setting"),
    )
    wide = table11.pivot(
        on="setting", index=KEY, values="count", aggregate_function="sum"
    ).fill_null(0.0)
    for column in SETTING_COLUMNS:
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(0.0).alias(column))
    total = pl.sum_horizontal(SETTING_COLUMNS)
    wide = wide.filter(total > 0).with_columns(
        [(pl.col(column) * 100 / total).round(1).alias(column) for column in SETTING_COLUMNS]
    )
    return wide.select(*KEY, *SETTING_COLUMNS)


def build_profile(published: Path) -> pl.DataFrame:
    counts = monthly_counts(published)
    request_to_test = filled_medians(
        published, "table2_median_days_request_to_test", "median_days_request_to_test"
    )
    test_to_report = filled_medians(
        published, "table3_median_days_test_to_report", "median_days_test_to_report"
    )
    mix = setting_mix(published)
    england_mix = mix.filter(pl.col("provider_code") == "-").drop("region_code", "provider_code")
    provider_mix = mix.filter(pl.col("provider_code") != "-")
    profile = (
        counts.join(request_to_test, on=[*KEY, "month"], how="left")
        .join(test_to_report, on=[*KEY, "month"], how="left")
        .join(provider_mix, on=KEY, how="left")
        .join(england_mix, on="modality", how="left", suffix="_england")
    )
    profile = profile.with_columns(
        [
            pl.when(pl.col("setting_01").is_null())
            .then(pl.col(f"{column}_england"))
            .otherwise(pl.col(column))
            .alias(column)
            for column in SETTING_COLUMNS
        ]
    )
    modality_order = pl.Enum(list(MODALITIES))
    return (
        profile.with_columns(pl.col("modality").cast(modality_order))
        .sort("region_code", "provider_code", "modality", "month")
        .with_columns(pl.col("modality").cast(pl.String))
        .select(
            *KEY,
            "month",
            "activity_count",
            "median_days_request_to_test",
            "median_days_test_to_report",
            *[pl.when(pl.col(c) > 0).then(pl.col(c)).alias(c) for c in SETTING_COLUMNS],
        )
        .with_columns(
            [
                compact_decimal(column)
                for column in (
                    "median_days_request_to_test",
                    "median_days_test_to_report",
                    *SETTING_COLUMNS,
                )
            ]
        )
    )


def compact_decimal(column: str) -> pl.Expr:
    """`7.5` stays, `17.0` becomes `17`: keeps the shipped file small."""
    return pl.col(column).round(1).cast(pl.String).str.replace(r"\.0$", "").alias(column)


# Sites named in NHS England's DIDS fixtures (samples/nhse-dids-fixtures), which must
# validate: (site, provider code, provider name, region).
FIXTURE_SITES = (
    ("RR801", "RR8", None, "Y63"),
    ("RR864", "RR8", None, "Y63"),
    ("NEF10", "NEF", "KORUS HEALTH", "Y58"),
    ("NEF12", "NEF", "KORUS HEALTH", "Y58"),
)


def sites_for(provider: str, region: str, yearly_count: int, multi_region: bool) -> list[str]:
    if multi_region:
        return [f"{provider}{region}{letter}" for letter in "AB"[: 1 + (yearly_count > 40_000)]]
    count = 1 + (yearly_count > 250_000) + (yearly_count > 500_000)
    return [f"{provider}{number:02d}" for number in range(1, count + 1)]


def build_sites(shared: Path, profile: pl.DataFrame) -> pl.DataFrame:
    table1 = read_table(shared / "published", "table1_activity_count")
    providers = (
        table1.filter(pl.col("provider_code") != "-")
        .select("region_code", "provider_code", "provider_name")
        .unique()
        .join(
            profile.group_by("region_code", "provider_code").agg(
                pl.col("activity_count").sum().alias("yearly_count")
            ),
            on=["region_code", "provider_code"],
            how="left",
        )
        .with_columns(
            (pl.len().over("provider_code") > 1).alias("multi_region"),
            pl.col("yearly_count").fill_null(0),
        )
        .sort("region_code", "provider_code")
    )
    rows = []
    for region, provider, name, yearly_count, multi_region in providers.iter_rows():
        for site in sites_for(provider, region, yearly_count, multi_region):
            rows.append((site, provider, name, region))
    names = dict(providers.select("provider_code", "provider_name").iter_rows())
    rows = [row for row in rows if row[1] != "RR8"]  # Leeds gets the fixtures' site codes
    rows.append(("RR813", "RR8", names["RR8"], "Y63"))  # Leeds keeps three sites
    for site, provider, name, region in FIXTURE_SITES:
        rows.append((site, provider, name or names[provider], region))

    trusts = pl.read_csv(shared / "reference" / "nhs_trusts.csv", infer_schema=False)
    published_codes = set(providers["provider_code"]) | {row[1] for row in rows}
    for provider, name, region, _opened, closed in trusts.sort("provider_code").iter_rows():
        if provider in published_codes or closed or region not in REGIONS:
            continue
        rows.append((f"{provider}01", provider, name, region))

    sites = pl.DataFrame(
        rows, schema=["site_code", "provider_code", "provider_name", "region_code"], orient="row"
    ).with_columns(pl.col("region_code").replace_strict(REGIONS).alias("region_name"))
    duplicated = sites.filter(pl.col("site_code").is_duplicated())
    if duplicated.height:
        raise ValueError(f"duplicate site codes: {duplicated['site_code'].to_list()}")
    if not sites["site_code"].str.contains(r"^[A-Z0-9]{5,12}$").all():
        raise ValueError("a site code is not 5-12 letters and digits")
    return sites.sort("region_code", "provider_code", "site_code")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--sites-out", type=Path, default=DEFAULT_SITES_OUT)
    args = parser.parse_args()
    profile = build_profile(args.shared / "published")
    profile.write_csv(args.out, line_terminator="\n")
    size_kb = args.out.stat().st_size / 1024
    print(
        f"{args.out}: {profile.height} cells, "
        f"{profile.select(KEY[:2]).unique().height} provider-regions, "
        f"{profile['activity_count'].sum():,} records a year, {size_kb:.0f} KB"
    )
    sites = build_sites(args.shared, profile)
    sites.write_csv(args.sites_out, line_terminator="\n")
    print(
        f"{args.sites_out}: {sites.height} sites, "
        f"{sites.select('region_code', 'provider_code').unique().height} provider-regions"
    )


if __name__ == "__main__":
    main()
