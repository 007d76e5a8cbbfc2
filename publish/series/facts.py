"""What the renderers show of the series a release belongs to: plain frames and words.

The renderers (tidy CSV, workbook, HTML) read only this and `Publication.tidy`, so this
module imports nothing of the pipeline: every figure here is already protected (the
revisions are published cells, the year-on-year changes are differences of published
figures) and every sentence names organisations and months, never a count finer than
the policy allows (`publish.series.provider_issues`).
"""

from dataclasses import dataclass, field

import polars as pl

# The revisions table (`<identifier>-revisions.csv`): the tidy columns, then the earlier
# release's published figure and marker, and that release's identifier.
REVISION_EXTRA_COLUMNS: tuple[str, ...] = ("previous_value", "previous_marker", "previous_release")

# Why a published figure changes between releases of one year, in words for readers.
WHY_REVISED = (
    "Figures of earlier months change when providers send records late (a test carried "
    "out in an earlier month, submitted since the last release) or send again records "
    "they had sent before (a resubmission replaces the earlier record)."
)


@dataclass(frozen=True)
class SeriesFacts:
    """The series as readers see it. Empty (no earlier release, no change) by default."""

    # The earlier release the revisions are against (its identifier), if any.
    compared_with: str | None = None
    # Every revised cell: TIDY_COLUMNS + REVISION_EXTRA_COLUMNS (value a nullable float).
    revisions: pl.DataFrame | None = None
    # The provisional releases of the year this final release supersedes, by identifier.
    supersedes: tuple[str, ...] = ()
    # Organisation changes of the year (mergers, renames, providers that stopped), each a
    # sentence, in date order.
    organisation_changes: tuple[str, ...] = ()
    # Provider issues for readers, each a sentence like NHS England's title page.
    provider_issues: tuple[str, ...] = ()
    # The previous financial year's final release (identifier) the year-on-year changes
    # are against, and its published cells (TIDY_COLUMNS; table, value as in tidy).
    last_year: str | None = None
    last_year_tidy: pl.DataFrame | None = None
    # Earlier releases of the series the build read (identifiers, oldest first).
    earlier: tuple[str, ...] = field(default_factory=tuple)

    def revisions_by_table(self) -> list[tuple[int, int]]:
        """(table, revised cells) for every table with a revision, by table number."""
        if self.revisions is None or self.revisions.height == 0:
            return []
        counted = self.revisions.group_by("table").agg(pl.len()).sort("table")
        return [(int(t), int(n)) for t, n in counted.iter_rows()]

    @property
    def revised_cells(self) -> int:
        return 0 if self.revisions is None else self.revisions.height
