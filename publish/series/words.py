"""The series in words, for the workbook's cover and notes and the site's pages.

One place says how many cells of which tables were revised and why, what a final
release supersedes, and lists the year's organisation changes and provider issues, so
that the workbook and the HTML say the same (renderers import this and `facts` only).
"""

from __future__ import annotations

from publish.series.facts import WHY_REVISED, SeriesFacts
from publish.tables import TABLES


def _cells(n: int) -> str:
    return f"{n:,} cell{'s' if n != 1 else ''}"


def revisions_paragraphs(series: SeriesFacts, where: str) -> list[str]:
    """How many cells of which tables were revised since the previous release, and why.

    `where`: where the list of revised cells is ("on the Revisions sheet").

    >>> import polars as pl
    >>> facts = SeriesFacts(compared_with="did-2024-25-provisional-2024-05",
    ...     revisions=pl.DataFrame({"table": [1, 1, 2]}))
    >>> revisions_paragraphs(facts, "on the Revisions sheet")[0]
    'Since the previous release (did-2024-25-provisional-2024-05), 3 cells were revised: table 1, 2 cells; table 2, 1 cell. Revised figures are marked [r] and listed, with their earlier figure, on the Revisions sheet.'
    """
    if series.compared_with is None:
        return []
    by_table = series.revisions_by_table()
    if not by_table:
        return [
            f"No published figure has changed since the previous release ({series.compared_with}).",
            WHY_REVISED,
        ]
    tables = "; ".join(
        f"table {TABLES[table].published_number if table in TABLES else table}, {_cells(n)}"
        for table, n in by_table
    )
    return [
        f"Since the previous release ({series.compared_with}), "
        f"{_cells(series.revised_cells)} {'was' if series.revised_cells == 1 else 'were'} "
        f"revised: {tables}. Revised figures are marked [r] and listed, with their earlier "
        f"figure, {where}.",
        WHY_REVISED,
    ]


def supersedes_paragraph(series: SeriesFacts, financial_year: str) -> str | None:
    """What a final release supersedes, in a sentence (None for a provisional one)."""
    if not series.supersedes:
        return None
    listed = ", ".join(series.supersedes)
    return (
        f"This final release supersedes the provisional releases of {financial_year} "
        f"({listed}): use its figures, not theirs."
    )


def final_supersedes_sentence(status: str, financial_year: str) -> str | None:
    """Said by every final release, whether or not its provisional ones were read."""
    if status != "final":
        return None
    return (
        f"This is the final release for {financial_year}: it supersedes every provisional "
        f"release of {financial_year}."
    )


def organisation_paragraphs(series: SeriesFacts) -> list[str]:
    return list(series.organisation_changes)


def provider_issue_paragraphs(series: SeriesFacts) -> list[str]:
    return list(series.provider_issues)
