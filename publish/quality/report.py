"""The data-quality report as the quality stage hands it on: protected figures only.

`publish.quality.figures` makes a `QualityReport` (from the records' outcomes, through
the same protection as the tables); `publish.render.quality` writes it. The renderers
read nothing else, so nothing record-level can reach the report's pages.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from publish.disclosure.policy import Policy
from publish.periods import month_name

# Possible under-reporting: counted records below this share of the median of the
# provider's counts in up to BASELINE_MONTHS previous months of the period (at least
# MIN_BASELINE_MONTHS of them), e.g. below 50% of the median of the previous 3 months.
LOW_ACTIVITY_SHARE = 0.5
BASELINE_MONTHS = 3
MIN_BASELINE_MONTHS = 2

SITE_NOT_KNOWN = "Site not known"
TOTAL_MEASURES = (
    "count_records_received",
    "count_records_accepted",
    "count_records_rejected",
    "count_records_warned",
    "count_records_counted",
)
ISSUE_MEASURES = {
    "count_records_received": "records_received",
    "count_records_counted": "records_counted",
    "count_baseline_median": "previous_months_median",
}
BY_PROVIDER_COLUMNS = (
    "geography_level",
    "region_code",
    "region_name",
    "provider_code",
    "provider_name",
    "month",
    "measure",
    "value",
    "marker",
)
ISSUE_COLUMNS = (
    "region_code",
    "region_name",
    "provider_code",
    "provider_name",
    "month",
    "issue",
    "records_received",
    "records_received_marker",
    "records_counted",
    "records_counted_marker",
    "previous_months_median",
    "previous_months_median_marker",
    "description",
)
PUBLIC_FILE_COLUMNS = (
    "source_file",
    "status",
    "submission_date",
    "submission_date_rules_applied",
    "message",
)


@dataclass(frozen=True)
class AuditSummary:
    """What the disclosure audit says, as the report shows it (publish.disclosure.audit)."""

    line: str  # the one-line summary
    meaning: str  # what the policy allows, in words
    by_table: pl.DataFrame  # table, status, cells


@dataclass(frozen=True)
class QualityReport:
    """The report's protected figures, as every rendering reads them."""

    policy: Policy
    months: tuple[str, ...]  # the period the provider issues look at
    by_provider: pl.DataFrame  # BY_PROVIDER_COLUMNS, value a nullable float
    issues: pl.DataFrame  # ISSUE_COLUMNS, values nullable floats
    files: pl.DataFrame  # files_report(): PUBLIC_FILE_COLUMNS
    totals: dict[str, int | None]  # England, all months: the manifest's record totals
    audit: AuditSummary | None = None

    @property
    def rule_codes(self) -> list[str]:
        measures = self.by_provider["measure"].unique().to_list()
        return sorted(
            m.removeprefix("count_rule_") for m in measures if m.startswith("count_rule_")
        )

    @property
    def period_words(self) -> str:
        if not self.months:
            return "no month with a valid test date"
        return f"{month_name(self.months[0])} to {month_name(self.months[-1])}"
