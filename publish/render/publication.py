"""The publication as the renderers see it: its identity and its protected tidy table.

Renderers (CSV, workbook, HTML) receive a `Publication` and nothing else, so every
figure they show comes from the protected table and never from unprotected aggregates.
"""

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from publish.disclosure.policy import Policy
from publish.periods import financial_year_of, months_of_year_to_date
from publish.series.facts import SeriesFacts

# Said on every page, sheet and title of the demo publication, built from synthetic data.
DEMO_STAMP = "Synthetic data: not official statistics"


@dataclass(frozen=True)
class Publication:
    """One publication: a financial year to date, provisional or final.

    `tidy` has the columns of `publish.tables.TIDY_COLUMNS` in publication order, with
    `table` an integer, `value` a float (null where suppressed or not available) and
    `marker` a shorthand code ("", "c", "x", "z").
    """

    latest_month: str
    status: str
    policy: Policy
    tidy: pl.DataFrame
    # From the publication config, never from the clock: same inputs, same bytes.
    published_on: date | None = None
    # The demo, from synthetic data: stamped DEMO_STAMP everywhere, identifier says demo.
    demo: bool = False
    # Months of the year to date without any accepted record: all [x], named on the cover.
    months_without_records: tuple[str, ...] = ()
    # Each provider's ICB and imaging network (sites.csv's optional columns), shown beside
    # the rows of the tables that name them (table 13): PROVIDER_DETAIL_COLUMNS.
    provider_details: pl.DataFrame | None = None
    # The series it belongs to: revisions, supersession, organisation changes, provider
    # issues, last year's final (PUBLICATION.md section 7); empty for a release alone.
    series: SeriesFacts = field(default_factory=SeriesFacts)

    @property
    def stamp(self) -> str | None:
        return DEMO_STAMP if self.demo else None

    @property
    def financial_year(self) -> str:
        return financial_year_of(self.latest_month)

    @property
    def identifier(self) -> str:
        """`did-<FY>-<status>-<latest month>`; the demo's is `did-demo-<FY>-<latest month>`."""
        if self.demo:
            return f"did-demo-{self.financial_year}-{self.latest_month}"
        return f"did-{self.financial_year}-{self.status}-{self.latest_month}"

    @property
    def months(self) -> tuple[str, ...]:
        return months_of_year_to_date(self.latest_month)

    @property
    def year_to_date(self) -> str:
        """The year-to-date period as an ISO 8601 interval of months."""
        return f"{self.months[0]}/{self.latest_month}"

    @property
    def revisions_name(self) -> str:
        """`<identifier>-revisions.csv`: the revised cells (section 7)."""
        return f"{self.identifier}-revisions.csv"

    def table(self, number: int) -> pl.DataFrame:
        return self.tidy.filter(pl.col("table") == number)
