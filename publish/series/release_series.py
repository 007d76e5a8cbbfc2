"""Where a release stands in its series: the facts the renderers show (`SeriesFacts`).

Read from the earlier releases `--previous` names (`publish.series.releases`): the
revisions against the latest earlier release of the same financial year
(`publish.series.revisions`), the provisional releases a final supersedes, and the
previous year's final for year-on-year changes. Organisation changes and provider
issues come from the reference data and the report (`publish.series.organisations`,
`publish.series.provider_issues`).
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from publish.series.facts import SeriesFacts
from publish.series.releases import EarlierRelease, final_of_year, latest_of_year
from publish.series.revisions import mark_revisions


def previous_financial_year(financial_year: str) -> str:
    """'2024-25' -> '2023-24'."""
    start = int(financial_year[:4]) - 1
    return f"{start}-{(start + 1) % 100:02d}"


def series_facts(
    tidy: pl.DataFrame,
    financial_year: str,
    status: str,
    earlier: list[EarlierRelease],
) -> tuple[pl.DataFrame, SeriesFacts]:
    """The tidy table with `r` on its revised cells, and what the series says of it."""
    compared = latest_of_year(earlier, financial_year)
    marked, revisions = mark_revisions(tidy, compared)
    supersedes = (
        tuple(
            r.identifier
            for r in earlier
            if r.financial_year == financial_year and r.status == "provisional"
        )
        if status == "final"
        else ()
    )
    last_year = final_of_year(earlier, previous_financial_year(financial_year))
    facts = SeriesFacts(
        compared_with=compared.identifier if compared else None,
        revisions=revisions if compared else None,
        supersedes=supersedes,
        earlier=tuple(r.identifier for r in earlier),
        last_year=last_year.identifier if last_year else None,
        last_year_tidy=last_year.cells if last_year else None,
    )
    return marked, facts


def with_words(
    facts: SeriesFacts, organisation_changes: tuple[str, ...], provider_issues: tuple[str, ...]
) -> SeriesFacts:
    return replace(
        facts, organisation_changes=organisation_changes, provider_issues=provider_issues
    )
