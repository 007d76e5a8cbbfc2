"""Back test of tables 4, 5, 6 and 12: records that reproduce NHS England's published
2023-24 cancer test groups (counts, and both medians, for all source settings and GP
direct access) and interventional counts, and the comparison of our build with them,
provider cell by provider cell: every month, and the year of the counts (a year
median is not generated for: as in `tests/backtest`, medians are compared by month).

Per published provider-region, test group and month (tables 4-6):

- counts: GP direct access g records and others o, g in the rounding range of the GP
  cell (1-2 for `*`, none when empty) and g + o in the All cell's (at least g);
- medians: the GP records' waits are the GP median's floor and ceiling (the lower
  half, the upper half; an x.5 median takes an even number of dated records, one record
  left without the date when needed), and the others' waits put the median of all of
  them on the All cell's (`other_waits`: some at its floor or ceiling, some far above,
  some without the date). A median published empty over 3 or more records: no record
  has the date. Request to test (table 5) and test to report (table 6) independently.

Per published provider-region, modality and month (table 12): n interventional tests in
the rounding range. The published modalities Cone beam computed tomography and
Endoscopy are not DID modalities of INPUT.md: their cells are not compared (counted in
`Comparison.not_compared`).

Tests are on the 10th of their month, GP direct access (04) or outpatient (03), one
site per provider-region, one NICIP code per test group and per interventional
modality.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from publish.codes import CANCER_TEST_GROUPS, MODALITIES  # noqa: E402
from tests.backtest.inputs import (  # noqa: E402
    GROUP_COLUMNS,
    Generated,
    imaging_code,
    site_code,
    write_imaging_codes,
    write_sites,
    write_submissions,
)

PERIOD = "2024-03"
YEAR = "2023-04/2024-03"
FILES = {
    "4": "did-2023-24-table4_activity_cancer_tests.csv",
    "5": "did-2023-24-table5_median_days_request_to_test_cancer_tests.csv",
    "6": "did-2023-24-table6_median_days_test_to_report_cancer_tests.csv",
    "12": "did-2023-24-table12_interventional_activity.csv",
}
MEASURES = {
    "4": "activity_count",
    "5": "median_days_request_to_test",
    "6": "median_days_test_to_report",
    "12": "activity_count",
}
GROUP_MODALITY = {
    "Abdomen and/or pelvis (Ultrasound)": "Diagnostic Ultrasonography",
    "Brain (MRI)": "Magnetic Resonance Imaging",
    "Chest (X-ray)": "Plain Radiography",
    "Chest and/or abdomen (CT)": "Computerized Axial Tomography",
    "Kidney or Bladder (Ultrasound)": "Diagnostic Ultrasonography",
}
MODALITY_OF = {name.lower(): name for name in MODALITIES}
FAR = 400  # days: a wait far above any published median


def count_range(text: str) -> range:
    if text == "":
        return range(0, 1)
    if text == "*":
        return range(1, 3)
    v = int(text)
    return range(max(3, v - 2), v + 3)


def published_count(text: str) -> int:
    """The count a published cell most likely hides: its value, 2 for `*`, 0 empty."""
    return {"": 0, "*": 2}.get(text, int(text) if text not in ("", "*") else 0)


def counts_for_year(allowed: list[list[int]], preferred: list[int], year_text: str) -> list[int]:
    """A count per month among its allowed ones whose sum is in the Year's rounding
    range: the one nearest the preferred, moved month by month towards the Year."""
    counts = [min(a, key=lambda n: abs(n - p)) for a, p in zip(allowed, preferred, strict=True)]
    target = count_range(year_text)
    for _ in range(10 * len(counts)):
        total = sum(counts)
        if total in target or not allowed:
            break
        up = total < target[0]
        moves = []
        for i, options in enumerate(allowed):
            further = [n for n in options if (n > counts[i] if up else n < counts[i])]
            if further:
                moves.append((i, min(further) if up else max(further)))
        if not moves:
            break
        i, n = min(moves, key=lambda move: abs(move[1] - counts[move[0]]))
        counts[i] = n
    return counts


def median_of(text: str) -> float | None:
    return None if text in ("", "*") else float(text)


def gp_waits(
    n: int, median: float | None, blank: bool, all_median: float | None = None
) -> list[int | None]:
    """n waits whose median is `median`; None: no date. The two middle values are the
    median's floor and ceiling; those below them are at the All median's floor where it
    is lower (else at the floor), those above at the All median's ceiling where it is
    higher (else at the ceiling), so that the other records can bring the All median
    where it is published."""
    if n == 0:
        return []
    if blank:
        return [None] * n
    if median is None:  # suppressed: any
        return [1] * n
    lo, hi = math.floor(median), math.ceil(median)
    low, high = lo, hi
    if all_median is not None:
        low, high = min(lo, math.floor(all_median)), max(hi, math.ceil(all_median))
    k = n if lo == hi or n % 2 == 0 else n - 1
    a, b = (k + 1) // 2 - 1, k // 2
    waits: list[int | None] = [low] * a + [lo] + ([hi] if b > a else []) + [high] * (k - b - 1)
    return waits + [None] * (n - k)


def other_waits(
    given: list[int | None], o: int, median: float | None, blank: bool
) -> list[int | None] | None:
    """o more waits so that the median of `given` and them is `median`, or None."""
    if blank:
        return [None] * o if all(g is None for g in given) else None
    if median is None:
        return [1] * o
    dated = sorted(g for g in given if g is not None)
    lo, hi = math.floor(median), math.ceil(median)
    below = sum(1 for g in dated if g < lo)
    at_lo = sum(1 for g in dated if g == lo)
    at_hi = sum(1 for g in dated if g == hi) if hi != lo else 0
    for k_o in range(o + 1):  # the others with a date
        k = len(dated) + k_o
        if k == 0:
            continue
        p1, p2 = (k + 1) // 2, k // 2 + 1
        if below > p1 - 1:
            continue
        if lo == hi:
            need = max(0, p2 - below - at_lo)  # others at the median
            if need <= k_o:
                return [lo] * need + [FAR] * (k_o - need) + [None] * (o - k_o)
        else:
            if k % 2:
                continue
            need_lo = p1 - below - at_lo  # exactly p1 at or below the floor
            need_hi = max(0, 1 - at_hi)
            if need_lo >= 0 and need_lo + need_hi <= k_o:
                rest = k_o - need_lo - need_hi
                return [lo] * need_lo + [hi] * need_hi + [FAR] * rest + [None] * (o - k_o)
    return None


def record_group(
    site: str, code: str, setting: str, month: str, request: int | None, report: int | None
) -> tuple[str, ...]:
    """A record's GROUP_COLUMNS: tested on the 10th of `month`, requested `request` days
    before, reported `report` days after (None: no such date)."""
    test_day = date(int(month[:4]), int(month[5:]), 10)
    requested = None if request is None else (test_day - timedelta(days=request)).isoformat()
    reported = None if report is None else (test_day + timedelta(days=report)).isoformat()
    return (site, setting, code, test_day.isoformat(), requested, reported)


def read(published_dir: Path, table: str, providers: list[str]) -> pl.DataFrame:
    frame = pl.read_csv(published_dir / FILES[table], infer_schema=False)
    frame = frame.filter(pl.col("org_code").is_in(providers)).with_columns(
        pl.col("value_as_published").fill_null("").str.strip_chars()
    )
    return frame.rename(
        {"test": "row_label"} if "test" in frame.columns else {"modality": "row_label"}
    )


def generate(out_dir: Path, published_dir: Path, providers: list[str]) -> Generated:
    out_dir.mkdir(parents=True, exist_ok=True)
    key = ["region_code", "org_code", "row_label", "month"]
    cells = {
        t: {
            (*row[:4], row[4]): row[5]
            for row in read(published_dir, t, providers)
            .filter(pl.col("month") != "Year")
            .select(*key, "source_setting", "value_as_published")
            .iter_rows()
        }
        for t in ("4", "5", "6")
    }
    group_codes = {group: f"CG{i}" for i, group in enumerate(CANCER_TEST_GROUPS)}
    intervention_codes = {name: f"IV{i}" for i, name in enumerate(MODALITIES)}
    records: list[tuple] = []  # (site, nicip, setting, month, request wait, report wait)
    infeasible = []
    years = {
        (*row[:3], row[3]): row[4]
        for row in read(published_dir, "4", providers)
        .filter(pl.col("month") == "Year")
        .select("region_code", "org_code", "row_label", "source_setting", "value_as_published")
        .iter_rows()
    }
    series = sorted({k[:3] for k in cells["4"]})
    for region, org, group in series:
        months = sorted({k[3] for k in cells["4"] if k[:3] == (region, org, group)})

        def text(table: str, setting: str, month: str, where=(region, org, group)) -> str:
            return cells[table].get((*where, month, setting), "")

        feasible: dict[str, dict[int, dict[int, list]]] = {}
        for month in months:
            options: dict[int, dict[int, list]] = {}
            for g in count_range(text("4", "GP Direct Access", month)):
                for total in count_range(text("4", "All", month)):
                    if total < g:
                        continue
                    waits = []
                    for table in ("5", "6"):
                        gp_text = text(table, "GP Direct Access", month)
                        all_text = text(table, "All", month)
                        gp = gp_waits(
                            g, median_of(gp_text), gp_text == "" and g >= 3, median_of(all_text)
                        )
                        others = other_waits(
                            gp, total - g, median_of(all_text), all_text == "" and total >= 3
                        )
                        if others is None:
                            break
                        waits.append(gp + others)
                    if len(waits) == 2:
                        options.setdefault(g, {})[total] = waits
            if not options:
                infeasible.append((region, org, group, month))
                continue
            feasible[month] = options
        shown = [m for m in months if m in feasible]
        # the All counts first (over every feasible GP count), then the GP counts that
        # fit under them
        totals = counts_for_year(
            [sorted({t for by_total in feasible[m].values() for t in by_total}) for m in shown],
            [published_count(text("4", "All", m)) for m in shown],
            years.get((region, org, group, "All"), ""),
        )
        gps = counts_for_year(
            [
                sorted(g for g in feasible[m] if t in feasible[m][g])
                for m, t in zip(shown, totals, strict=True)
            ],
            [published_count(text("4", "GP Direct Access", m)) for m in shown],
            years.get((region, org, group, "GP Direct Access"), ""),
        )
        for month, g, total in zip(shown, gps, totals, strict=True):
            request, report = feasible[month][g][total]
            for i in range(total):
                setting = "04" if i < g else "03"
                records.append(
                    (
                        site_code(org, region),
                        group_codes[group],
                        setting,
                        month,
                        request[i],
                        report[i],
                    )
                )
    t12 = read(published_dir, "12", providers)
    for (region, org, modality), frame in t12.group_by(
        "region_code", "org_code", "row_label", maintain_order=True
    ):
        name = MODALITY_OF.get(modality.lower())
        if name is None:
            continue
        monthly = frame.filter(pl.col("month") != "Year").sort("month")
        year = frame.filter(pl.col("month") == "Year")["value_as_published"].to_list()
        texts = monthly["value_as_published"].to_list()
        counts = counts_for_year(
            [list(count_range(t)) for t in texts],
            [published_count(t) for t in texts],
            year[0] if year else "",
        )
        for month, n in zip(monthly["month"], counts, strict=True):
            records += [(site_code(org, region), intervention_codes[name], "03", month, 1, 1)] * n
    groups = (
        pl.DataFrame(
            [record_group(*record) for record in records],
            schema=dict.fromkeys(GROUP_COLUMNS, pl.Utf8),
            orient="row",
        )
        .group_by(GROUP_COLUMNS, maintain_order=True)
        .len("count")
    )
    submissions = write_submissions(out_dir / "submissions", groups, "CT")
    providers_rows = pl.concat(
        [
            read(published_dir, t, providers).select("region_code", "org_code", "provider_name")
            for t in FILES
        ]
    ).unique(["region_code", "org_code"], keep="first", maintain_order=True)
    sites = write_sites(out_dir / "sites.csv", providers_rows)
    imaging_codes = write_imaging_codes(
        out_dir / "imaging_codes.csv",
        [
            imaging_code(code, group, GROUP_MODALITY[group], cancer_group=group)
            for group, code in group_codes.items()
        ]
        + [
            imaging_code(code, f"{name} (interventional)", name, interventional=True)
            for name, code in intervention_codes.items()
        ],
    )
    return Generated(submissions, sites, imaging_codes, len(records), infeasible)


@dataclass
class Comparison:
    cells: int
    agree: int
    not_compared: int
    by_table: dict[str, tuple[int, int]]
    mismatches: pl.DataFrame


def agrees(measure: str, text: str, value: str, marker: str) -> bool:
    """A published cell and ours: `*` is our `c`; empty is no figure (ours 0, x or z,
    or no row); a count as published, a median exactly."""
    if text == "*":
        return marker == "c"
    if text == "":
        return value in ("", "0") and marker in ("", "x", "z", "missing")
    if marker:
        return False
    return float(value) == float(text)


def compare(published_dir: Path, providers: list[str], tidy_csv: Path) -> Comparison:
    ours = (
        pl.read_csv(tidy_csv, infer_schema=False)
        .filter(pl.col("geography_level") == "provider")
        .with_columns(pl.all().fill_null(""))
        .with_columns(pl.col("modality").str.to_lowercase())
    )
    parts, not_compared = [], 0
    for table, measure in MEASURES.items():
        published = read(published_dir, table, providers)
        if measure.startswith("median_"):  # the months only, as tests/backtest does
            not_compared += int((published["month"] == "Year").sum())
            published = published.filter(pl.col("month") != "Year")
        published = published.with_columns(
            pl.when(pl.col("month") == "Year")
            .then(pl.lit(YEAR))
            .otherwise(pl.col("month"))
            .alias("period"),
            pl.col("row_label").str.to_lowercase(),
        )
        if "source_setting" not in published.columns:
            published = published.with_columns(pl.lit("All").alias("source_setting"))
        known = published["row_label"].is_in([m.lower() for m in MODALITIES + CANCER_TEST_GROUPS])
        not_compared += int((~known).sum())
        joined = (
            published.filter(known)
            .join(
                ours.filter(pl.col("table") == table).select(
                    "region_code",
                    pl.col("provider_code").alias("org_code"),
                    pl.col("modality").alias("row_label"),
                    "source_setting",
                    "period",
                    pl.col("value").alias("our_value"),
                    pl.col("marker").alias("our_marker"),
                ),
                on=["region_code", "org_code", "row_label", "source_setting", "period"],
                how="left",
            )
            .with_columns(
                pl.col("our_value").fill_null(""), pl.col("our_marker").fill_null("missing")
            )
        )
        flags = [
            agrees(measure, t, v, m)
            for t, v, m in joined.select(
                "value_as_published", "our_value", "our_marker"
            ).iter_rows()
        ]
        parts.append(joined.with_columns(pl.Series("agrees", flags), pl.lit(table).alias("table")))
    joined = pl.concat(parts, how="diagonal_relaxed")
    by_table = {
        t: (int(frame.height), int(frame["agrees"].sum()))
        for (t,), frame in joined.group_by("table", maintain_order=True)
    }
    return Comparison(
        joined.height,
        int(joined["agrees"].sum()),
        not_compared,
        by_table,
        joined.filter(~pl.col("agrees")),
    )
