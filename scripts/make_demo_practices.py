"""Write the shipped default `publish/reference_data/practices.csv` (INPUT.md section 3),
and the optional ICB and imaging network columns of the shipped `sites.csv`.

The national practice-to-sub-ICB lookup (ODS) is not shipped; this default covers the
synthetic data (`did-publish synth`, the demo), whose records carry each provider's GP
practices (`publish.demo.synth.provider_people`). Each region's providers are grouped three
at a time into a synthetic sub-ICB location (their "home"), and three sub-ICBs into an
ICB. Of a provider's practices, 70% are in its home sub-ICB, 25% in the next one (a
neighbour), and the last 5% are not in the reference at all (their patients'
commissioner is `Unknown`, as for a practice ODS does not know). The first practice of
the first provider of each region moves to the neighbouring sub-ICB on 1 October 2024
(two dated rows), so that the demo shows a practice that moved during the year.

Each NHS trust's ICB is its home sub-ICB's, and its imaging network a synthetic one
shared by the trusts of two neighbouring ICBs; an independent-sector provider (code N...)
has neither, as in NHS England's table 13.

Run from a checkout: `python scripts/make_demo_practices.py` (deterministic: the same
file every time).
"""

import csv

import polars as pl

from publish.codes import REGIONS
from publish.demo.synth import PRACTICES_PER_PROVIDER, provider_people
from publish.resources import REFERENCE_DATA_DIR

HOME_SHARE, NEIGHBOUR_SHARE = 0.70, 0.25
PROVIDERS_PER_SUB_ICB = 3
SUB_ICBS_PER_ICB = 3
MOVE_DATE = "2024-10-01"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXY"
COLUMNS = (
    "practice_code",
    "sub_icb_code",
    "sub_icb_name",
    "icb_code",
    "icb_name",
    "region_code",
    "valid_from",
    "valid_to",
)


def main() -> None:
    sites = pl.read_csv(REFERENCE_DATA_DIR / "sites.csv", infer_schema=False)
    providers = (
        sites.select("region_code", "provider_code").unique().sort("region_code", "provider_code")
    )
    rows: list[tuple[str, ...]] = []
    details: dict[tuple[str, str], tuple[str, str, str]] = {}
    seen: set[str] = set()
    home_count = round(PRACTICES_PER_PROVIDER * HOME_SHARE)
    neighbour_count = round(PRACTICES_PER_PROVIDER * NEIGHBOUR_SHARE)
    for region_index, region_code in enumerate(sorted(REGIONS), start=1):
        codes = providers.filter(pl.col("region_code") == region_code)["provider_code"].to_list()
        n_sub_icbs = max(2, -(-len(codes) // PROVIDERS_PER_SUB_ICB))

        def sub_icb(k: int, region: int = region_index) -> tuple[str, str, str, str]:
            code = f"{region}{k // len(LETTERS)}{LETTERS[k % len(LETTERS)]}"
            icb_code = f"Q{region}{LETTERS[(k // SUB_ICBS_PER_ICB) % len(LETTERS)]}"
            return code, f"Synthetic sub-ICB {code}", icb_code, f"Synthetic ICB {icb_code}"

        for j, provider_code in enumerate(codes):
            home = j // PROVIDERS_PER_SUB_ICB
            if not provider_code.startswith("N"):
                _, _, icb_code, icb_name = sub_icb(home)
                network = (
                    f"Synthetic imaging network {region_index}{home // (2 * SUB_ICBS_PER_ICB) + 1}"
                )
                details[(region_code, provider_code)] = (icb_code, icb_name, network)
            neighbour = (home + 1) % n_sub_icbs
            practices = provider_people(provider_code, region_code)["practice"].to_list()
            for i, practice in enumerate(practices[: home_count + neighbour_count]):
                if practice in seen:
                    continue
                seen.add(practice)
                where = sub_icb(home if i < home_count else neighbour)
                if j == 0 and i == 0:  # moves to the neighbour during the year
                    moved = sub_icb(neighbour)
                    rows.append((practice, *where, region_code, "2010-01-01", "2024-09-30"))
                    rows.append((practice, *moved, region_code, MOVE_DATE, ""))
                else:
                    rows.append((practice, *where, region_code, "2010-01-01", ""))
            seen.update(practices[home_count + neighbour_count :])  # not in the reference
    rows.sort()
    path = REFERENCE_DATA_DIR / "practices.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    print(f"wrote {path}: {len(rows)} rows")
    write_site_details(sites, details)


def write_site_details(
    sites: pl.DataFrame, details: dict[tuple[str, str], tuple[str, str, str]]
) -> None:
    """sites.csv with its optional columns icb_code, icb_name, network_name filled in
    (its other columns and rows as they are)."""
    keys = list(zip(sites["region_code"], sites["provider_code"], strict=True))
    filled = sites.with_columns(
        pl.Series(name, [details.get(key, ("", "", ""))[i] for key in keys], pl.Utf8)
        for i, name in enumerate(("icb_code", "icb_name", "network_name"))
    )
    path = REFERENCE_DATA_DIR / "sites.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(filled.columns)
        writer.writerows(filled.fill_null("").iter_rows())
    print(f"wrote {path}: ICB and imaging network of {len(details)} providers")


if __name__ == "__main__":
    main()
