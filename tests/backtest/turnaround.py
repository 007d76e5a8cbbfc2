"""Back test of table 13: records that reproduce NHS England's published 2023-24 report
turnaround bands (`did-2023-24-table13_report_turnaround_bands.csv`), and the
comparison of our build's table 13 with them, provider cell by provider cell.

For each published provider row (region, org code, modality, broad setting, quarter),
n records, k of them with a report date (`plan_row`):

- Total cases v (a count rounded to 5): n in [v - 2, v + 2] and at least 3; `*`: 2
  records (suppressed by the `did` policy, as by NHS England); 0 or empty: none;
- NHS England's rule (`Policy.min_cases_for_proportion`, 7): the share not known is
  shown only when n >= 7, the time bands only when k >= 7. So a row whose proportions
  are all empty takes n <= 6 (v is 5), a row with the share not known shown and the
  bands empty takes k <= 6 (the most not known the share allows), a row with the bands
  shown k >= 7 (the fewest not known);
- each published proportion p (to 3 decimal places, of the row's n): a whole number
  of records c with c / n within half a thousandth of p, a half rounded either way
  (NHS England publishes 51 / 80 = 0.6375 as 0.637: `Generated.halves` keeps such
  cells, and `compare` takes our other rounding of the same half for them). The bands
  are cumulative (same day <= by next day <= by 7 days <= by 14 days) and, with those
  reported after more than 28 days and those not known, fit in n. The first n of the
  range that admits such counts is taken; a row none admits is `infeasible`.

Records are valid (INPUT.md), tested on the 10th of the quarter's first month in A&E
(05) or outpatients (03), one site per provider-region and one NICIP code per modality.
Report days by band: 0 (same day), 1 (next day), 5 (by 7 days), 10 (by 14 days), 20
(known, not more than 28 days), 40 (more than 28), none (not known).

    python -m tests.backtest.turnaround --out DIR                  # every provider
    python -m tests.backtest.turnaround --out DIR --providers NT4,RP6

generate, build (`did`, final, March 2024) and compare, and print the cells compared
and agreeing; exit 1 unless every one agrees. Every provider (159) is 47,078,524
records in 24 files: 9 minutes in all on two busy cores, 2.3 GB at the peak, 5.5 GB
on disk; all 51,656 published provider cells agree, 6 of them a half NHS England
rounds down and we round up.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from publish.codes import MODALITIES  # noqa: E402
from publish.disclosure.policy import MIN_CASES_FOR_PROPORTION  # noqa: E402
from tests.backtest.inputs import (  # noqa: E402
    GROUP_COLUMNS,
    Generated,
    build,
    imaging_code,
    site_code,
    write_imaging_codes,
    write_sites,
    write_submissions,
)

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
NOT_KNOWN, OVER_28 = "Not known", "> 28 days"
# Report days of a record in each band (not cumulative), None: no report date.
BAND_DAYS = {
    "Same day": 0,
    "By next day": 1,
    "By 7 days": 5,
    "By 14 days": 10,
    "known": 20,
    OVER_28: 40,
    NOT_KNOWN: None,
}
MODALITY_OF = {name.lower(): name for name in MODALITIES}
ROW_KEY = ("region_code", "org_code", "modality", "setting_group", "quarter")
ALL_PROVIDERS = "all"


def round3(value: float) -> float:
    """Half up to 3 decimal places (as a spreadsheet shows a proportion)."""
    return math.floor(value * 1000 + 0.5 + 1e-9) / 1000


def is_half(count: int, n: int) -> bool:
    """count / n lies half way between two thousandths."""
    return (count * 2000) % n == 0 and (count * 2000 // n) % 2 == 1


def share_counts(share: float, n: int) -> list[int]:
    """The whole counts c of n with c / n = share at 3 decimal places, a half rounded
    either way; those rounded half up first."""
    centre = share * n
    fits = [
        c
        for c in range(max(0, math.floor(centre) - 1), min(n, math.ceil(centre) + 1) + 1)
        if abs(c * 1000 - share * 1000 * n) <= n / 2 + 1e-6
    ]
    return sorted(fits, key=lambda c: (abs(round3(c / n) - share) > 1e-9, c))


@dataclass
class RowPlan:
    """A row's records: n in all, the cumulative band counts, those after more than 28
    days and those not known; `halves`: bands whose count is a half of a thousandth."""

    n: int
    counts: dict[str, int]
    halves: dict[str, float] = field(default_factory=dict)

    def report_days(self) -> list[tuple[int | None, int]]:
        """(report days, records) of the row's n records."""
        days: list[tuple[int | None, int]] = []
        previous = 0
        for band in CUMULATIVE:
            days.append((BAND_DAYS[band], self.counts[band] - previous))
            previous = self.counts[band]
        over, unknown = self.counts[OVER_28], self.counts[NOT_KNOWN]
        days += [(BAND_DAYS[OVER_28], over), (None, unknown)]
        days.append((BAND_DAYS["known"], self.n - previous - over - unknown))
        return [(d, c) for d, c in days if c > 0]


def band_counts(n: int, shares: dict[str, float], not_known: int) -> dict[str, int] | None:
    """Whole counts per shown band (cumulative bands as published) that give each share
    at 3 decimal places over n, with `not_known` records not known, or None."""
    counts: dict[str, int] = {}
    for band, share in shares.items():
        fits = share_counts(share, n)
        if not fits:
            return None
        counts[band] = fits[0]
    # a band not published takes the count of the band before it (no record between)
    low = 0
    for band in CUMULATIVE:
        if counts.setdefault(band, low) < low:
            return None
        low = counts[band]
    counts.setdefault(OVER_28, 0)
    if counts["By 14 days"] + counts[OVER_28] + not_known > n:
        return None
    return counts | {NOT_KNOWN: not_known}


def plan_row(
    total: str, shares: dict[str, float | None], min_cases: int = MIN_CASES_FOR_PROPORTION
) -> RowPlan | None:
    """The records of one published row (module docstring), None when no n and k of
    the total's range give what is published."""
    if total == "*":
        return RowPlan(2, dict.fromkeys(CUMULATIVE, 2) | {OVER_28: 0, NOT_KNOWN: 0})
    v = int(total)
    not_known_share = shares.get(NOT_KNOWN)
    bands = {b: s for b, s in shares.items() if b != NOT_KNOWN and s is not None}
    for n in range(max(3, v - 2), v + 3):
        if not_known_share is None:
            if n >= min_cases:
                continue  # the share not known would be shown
            options = [0]
        elif n < min_cases:
            continue
        else:  # bands shown: the most known records; not shown: the fewest
            options = sorted(share_counts(not_known_share, n), reverse=not bands)
        for not_known in options:
            known = n - not_known
            if bands:
                counts = None if known < min_cases else band_counts(n, bands, not_known)
            elif known < min_cases:  # the bands hidden: every known record the same day
                counts = dict.fromkeys(CUMULATIVE, known) | {OVER_28: 0, NOT_KNOWN: not_known}
            else:
                counts = None
            if counts is None:
                continue
            halves = {
                band: counts[band] / n
                for band in (*bands, NOT_KNOWN)
                if shares.get(band) is not None and is_half(counts[band], n)
            }
            return RowPlan(n, counts, halves)
    return None


@dataclass
class TurnaroundResult(Generated):
    # (row key..., band) -> the exact share of a cell whose count is a half
    halves: dict[tuple, float] = field(default_factory=dict)


def read_published(published_dir: Path, providers: list[str] | None) -> pl.DataFrame:
    """The published provider cells (every provider when `providers` is None)."""
    table = pl.read_csv(published_dir / PUBLISHED_FILE, infer_schema=False).with_columns(
        pl.col("value_as_published").fill_null(""), pl.col("org_code").fill_null("")
    )
    table = table.filter(pl.col("org_code") != "")
    if providers is not None:
        table = table.filter(pl.col("org_code").is_in(providers))
    return table


def generate(out_dir: Path, published_dir: Path, providers: list[str] | None) -> TurnaroundResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    published = read_published(published_dir, providers)
    rows = published.group_by(*ROW_KEY, maintain_order=True).agg(
        pl.col("band"), pl.col("value_as_published")
    )
    codes = {name: f"TT{i:02d}" for i, name in enumerate(MODALITIES)}
    groups: list[tuple] = []
    infeasible: list[tuple] = []
    halves: dict[tuple, float] = {}
    for row in rows.iter_rows(named=True):
        values = dict(zip(row["band"], row["value_as_published"], strict=True))
        total = values.get("Total cases", "")
        if total in ("", "0", "-"):
            continue
        shares = {
            band: (float(text) if text != "" else None)
            for band, text in values.items()
            if band != "Total cases"
        }
        plan = plan_row(total, shares)
        key = tuple(row[c] for c in ROW_KEY)
        if plan is None:
            infeasible.append(key)
            continue
        halves |= {(*key, band): share for band, share in plan.halves.items()}
        month = QUARTERS[row["quarter"]][:7]
        test_day = date(int(month[:4]), int(month[5:]), 10)
        fixed = (
            site_code(row["org_code"], row["region_code"]),
            SETTING_CODE[row["setting_group"]],
            codes[MODALITY_OF[row["modality"].lower()]],
            test_day.isoformat(),
            (test_day - timedelta(days=1)).isoformat(),
        )
        for days, count in plan.report_days():
            report = None if days is None else (test_day + timedelta(days=days)).isoformat()
            groups.append((*fixed, report, count))
    frame = pl.DataFrame(
        groups,
        schema={**dict.fromkeys(GROUP_COLUMNS, pl.Utf8), "count": pl.Int64},
        orient="row",
    )
    submissions = write_submissions(out_dir / "submissions", frame, "T13")
    providers_rows = published.unique(
        ["region_code", "org_code"], keep="first", maintain_order=True
    )
    sites = write_sites(out_dir / "sites.csv", providers_rows)
    imaging_codes = write_imaging_codes(
        out_dir / "imaging_codes.csv",
        [imaging_code(code, name, name) for name, code in codes.items()],
    )
    return TurnaroundResult(
        submissions, sites, imaging_codes, int(frame["count"].sum()), infeasible, halves
    )


@dataclass
class Comparison:
    cells: int
    agree: int
    mismatches: pl.DataFrame
    halves: int = 0  # agreeing proportions that are a half NHS England rounded down


def compare(
    published_dir: Path,
    providers: list[str] | None,
    tidy_csv: Path,
    halves: dict[tuple, float] | None = None,
) -> Comparison:
    """Every published provider cell of table 13 against ours: a count equal as
    published (`*` is our `c`), a proportion equal at 3 decimal places, or for a cell
    of `halves` the other rounding of the same half (empty: ours empty too)."""
    halves = halves or {}
    published = read_published(published_dir, providers).with_columns(
        pl.col("quarter").replace_strict(QUARTERS).alias("period"),
        pl.col("band").replace_strict(MEASURE_OF).alias("measure"),
        pl.col("modality").alias("published_modality"),
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

    def agrees(row: dict) -> tuple[bool, bool]:
        """(agrees, as the other rounding of a half)."""
        text, value, marker = row["value_as_published"], row["our_value"], row["our_marker"]
        if row["measure"] == "activity_count":
            if text == "*":
                return marker == "c", False
            if text in ("", "0", "-"):
                return value in ("", "0") and marker in ("", "missing"), False
            return value == text and marker == "", False
        if text == "":
            return value == "", False
        if value == "":
            return False, False
        ours = round3(float(value) / 100)
        if abs(ours - float(text)) < 1e-9:
            return True, False
        key = (
            *(row[c] for c in ROW_KEY[:2]),
            row["published_modality"],
            *(row[c] for c in ROW_KEY[3:]),
        )
        half = halves.get((*key, row["band"]))
        other = half is not None and abs(abs(ours - float(text)) - 0.001) < 1e-9
        return bool(other and abs(ours - half) < 0.0005 + 1e-9), other

    flags = [agrees(row) for row in joined.iter_rows(named=True)]
    joined = joined.with_columns(
        pl.Series("agrees", [f[0] for f in flags]), pl.Series("half", [f[1] for f in flags])
    )
    return Comparison(
        joined.height,
        int(joined["agrees"].sum()),
        joined.filter(~pl.col("agrees")),
        int((joined["agrees"] & joined["half"]).sum()),
    )


def summary(result: Comparison, generated: TurnaroundResult, providers: int) -> str:
    return (
        f"back test, table 13, {providers} providers: {generated.records:,} records, "
        f"{len(generated.infeasible)} rows infeasible; {result.cells:,} published provider "
        f"cells compared, {result.agree:,} agree ({result.halves} of them a proportion "
        f"half way between two thousandths, NHS England's rounding down and ours up), "
        f"{result.cells - result.agree} do not"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--providers",
        default=ALL_PROVIDERS,
        help="org codes, comma-separated, or 'all' (the default): every provider published",
    )
    parser.add_argument("--published", type=Path, default=ROOT / "tests" / "data" / "published")
    args = parser.parse_args(argv)
    providers = None if args.providers == ALL_PROVIDERS else args.providers.split(",")
    generated = generate(args.out / "generated", args.published, providers)
    print(f"{generated.records:,} records in {len(generated.submissions)} files", flush=True)
    tidy_csv = build(generated, args.out / "out", PERIOD)
    result = compare(args.published, providers, tidy_csv, generated.halves)
    count = read_published(args.published, providers)["org_code"].n_unique()
    print(summary(result, generated, count))
    if result.mismatches.height:
        print(result.mismatches.head(20))
    for key in generated.infeasible[:20]:
        print("infeasible:", key)
    return 0 if result.agree == result.cells and not generated.infeasible else 1


if __name__ == "__main__":
    raise SystemExit(main())
