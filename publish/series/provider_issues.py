"""Provider issues written for readers, as NHS England's title page writes them.

"Surrey and Sussex Healthcare NHS Trust (RTP) did not report any activity from June
2024 to February 2025, resulting in an estimated shortfall of 250,000 records." The
months come from the data-quality report's provider issues (`publish.quality.report`: no record
for a month while other months have some; records counted below half the median of the
previous months); the shortfall is estimated from the provider's own other months: the
median of its records counted in the months of the period without an issue, less what
it sent in the months with one, rounded to two significant figures as NHS England
rounds it. Both come from the report's published (protected) counts, so a sentence
says nothing the published figures do not: where one of them is suppressed the
sentence names the months without a figure. A sharp shift in a provider's mix of
source settings is said in words only, without a figure, and only for provider-months
with at least the policy's median threshold of tests.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import polars as pl

from publish.codes import SOURCE_SETTINGS
from publish.disclosure.policy import Policy
from publish.periods import month_name as month_words

# A setting's share of a provider-month's tests that moves by this much from its usual
# share (the median of its shares in the provider's other months) is a sharp shift.
SHARP_SHIFT = 0.25
COUNTED = "count_records_counted"


def two_significant_figures(value: float) -> int:
    """Rounded as NHS England rounds a shortfall: to two significant figures.

    >>> [two_significant_figures(v) for v in (248_612, 1_234, 87, 5, 0, 1_250, 995)]
    [250000, 1200, 87, 5, 0, 1300, 1000]
    """
    if value <= 0:
        return 0
    digits = int(math.floor(math.log10(value))) - 1
    step = 10 ** max(digits, 0)
    return int(math.floor(value / step + 0.5) * step)


def _runs(months: list[str], period: tuple[str, ...]) -> list[list[str]]:
    """Consecutive months of the period, grouped."""
    runs: list[list[str]] = []
    for month in sorted(months, key=period.index):
        if runs and period.index(month) == period.index(runs[-1][-1]) + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    return runs


def _span(run: list[str]) -> str:
    if len(run) == 1:
        return f"in {month_words(run[0])}"
    return f"from {month_words(run[0])} to {month_words(run[-1])}"


@dataclass(frozen=True)
class _Provider:
    region_code: str
    provider_code: str
    name: str


def issue_sentences(
    issues: pl.DataFrame, by_provider: pl.DataFrame, period: tuple[str, ...]
) -> list[str]:
    """One sentence per run of consecutive issue months of one provider and kind.

    issues: the report's ISSUE_COLUMNS; by_provider: its BY_PROVIDER_COLUMNS (both
    protected: value null where suppressed).
    """
    counted: dict[tuple[str, str], dict[str, float | None]] = {}
    for r in by_provider.filter(
        (pl.col("geography_level") == "provider") & (pl.col("measure") == COUNTED)
    ).iter_rows(named=True):
        counted.setdefault((r["region_code"], r["provider_code"]), {})[r["month"]] = r["value"]
    flagged: dict[tuple[_Provider, str], list[str]] = {}
    for r in issues.iter_rows(named=True):
        if r["month"] not in period:
            continue
        who = _Provider(
            r["region_code"], r["provider_code"], r["provider_name"] or r["provider_code"]
        )
        flagged.setdefault((who, r["issue"]), []).append(r["month"])
    issue_months = {(who.region_code, who.provider_code): set() for who, _ in flagged}
    for (who, _), months in flagged.items():
        issue_months[(who.region_code, who.provider_code)].update(months)
    sentences = []
    for (who, kind), months in sorted(
        flagged.items(), key=lambda item: (item[0][0].name, item[0][0].provider_code, item[0][1])
    ):
        key = (who.region_code, who.provider_code)
        seen = counted.get(key, {})
        others = [seen.get(m) for m in period if m not in issue_months[key] and m in seen]
        for run in _runs(months, period):
            now = [seen.get(m, 0.0) for m in run]
            if others and all(v is not None for v in others + now):
                typical = statistics.median(others)
                shortfall = two_significant_figures(sum(typical - v for v in now))
                estimate = f", resulting in an estimated shortfall of {shortfall:,} records"
            else:
                estimate = ""
            named = f"{who.name} ({who.provider_code})"
            if kind == "no_records":
                sentences.append(f"{named} did not report any activity {_span(run)}{estimate}.")
            else:
                sentences.append(
                    f"{named} submitted fewer records than usual {_span(run)}{estimate}."
                )
    return sentences


def setting_shift_sentences(
    setting_months: pl.DataFrame,
    names: dict[tuple[str, str], str],
    policy: Policy,
) -> list[str]:
    """Providers whose mix of source settings shifted sharply in a month, in words.

    setting_months: region_code, provider_code, month, source_setting_code, tests."""
    if setting_months.height == 0:
        return []
    totals = setting_months.group_by("region_code", "provider_code", "month").agg(
        pl.col("tests").sum().alias("total")
    )
    shares = setting_months.join(totals, on=["region_code", "provider_code", "month"])
    sentences = []
    for (region, provider), group in sorted(
        shares.group_by("region_code", "provider_code"), key=lambda item: item[0]
    ):
        months = sorted(set(group["month"]))
        if len(months) < 3:
            continue
        total_of: dict[str, int] = {}
        tests_of: dict[tuple[str, str], int] = {}
        for month, code, tests, total in group.select(
            "month", "source_setting_code", "tests", "total"
        ).iter_rows():
            total_of[month] = int(total)
            tests_of[month, code] = tests_of.get((month, code), 0) + tests
        for month in months:
            if total_of[month] < policy.median_records:
                continue
            moves = []
            for code, label in SOURCE_SETTINGS.items():
                share = {m: tests_of.get((m, code), 0) / total_of[m] for m in months}
                usual = statistics.median(share[m] for m in months if m != month)
                if abs(share[month] - usual) >= SHARP_SHIFT:
                    moves.append((share[month] > usual, label))
            moves.sort(key=lambda move: not move[0])  # rises first, then falls
            if moves:
                words = " and ".join(
                    f"{'more' if up else 'fewer'} {label} tests" for up, label in moves
                )
                name = names.get((region, provider), provider)
                sentences.append(
                    f"The mix of source settings of {name} ({provider}) shifted sharply in "
                    f"{month_words(month)}: {words} than in its other months."
                )
    return sentences
