"""The table catalog: what each published table is, declared once.

A table's number, title, description, measures, layout, the query that makes its cells
(`source`: a block of `queries/aggregate/table_sources.sql`, and the grid it fills), its Excel
table name and how its measures are labelled: aggregation (`publish.aggregate.cells`),
protection and the disclosure relations, the tidy CSV, the datapackage, the workbook and
the HTML pages all read it, so a title, a measure name or a table number is never
spelled twice. Adding a table is one `TableSpec` here plus its blocks in
`queries/aggregate/table_sources.sql` (and a template only when its layout is new). Numbering
follows NHS England's DID publication (PUBLICATION.md section 1).
"""

from dataclasses import dataclass

from publish.codes import ALL_SETTINGS, TABLE11_SOURCE_SETTINGS

# Grouped source settings of table 10.
TABLE10_SETTING_GROUPS: dict[str, tuple[str, ...]] = {
    "A&E, Inpatients & Day Cases": ("05", "01", "02"),
    "Outpatients & GP Direct Access": ("03", "04"),
}


@dataclass(frozen=True)
class CountSource:
    """Counts of tests: `table_<n>_counts` of table_sources.sql over the table's settings
    and periods (`count_cells.sql`)."""

    year_to_date_only: bool = False
    settings: tuple[str, ...] = (ALL_SETTINGS,)


@dataclass(frozen=True)
class MedianSource:
    """Medians of waits: `table_<n>_waits` (`median_cells.sql`), on the rows, periods
    and "x" cells of `count_table`."""

    count_table: int


@dataclass(frozen=True)
class MeasureSource:
    """A table whose columns are measures: published counts and percentages of them
    (`table_<n>_counts`, `measure_cells.sql`)."""

    settings: tuple[str, ...]
    levels: tuple[str, ...]
    counts: tuple[str, ...]
    percents: tuple[tuple[str, str, str], ...]  # (measure, numerator, denominator)
    year_to_date_only: bool = True


@dataclass(frozen=True)
class Measure:
    """A published measure and its labels: `label` heads a column of the HTML pages,
    `heading` a column of the workbook."""

    name: str
    label: str
    heading: str


MEASURES: dict[str, Measure] = {
    measure.name: measure
    for measure in (
        Measure("activity_count", "Number of tests", "Total tests"),
        Measure(
            "median_days_request_to_test",
            "Median days, request to test",
            "Median days from request to test",
        ),
        Measure(
            "median_days_test_to_report",
            "Median days, test to report",
            "Median days from test to report",
        ),
        Measure("count_days_0_to_7", "0 to 7 days (number)", "Tests, 0 to 7 days"),
        Measure("count_days_8_to_31", "8 to 31 days (number)", "Tests, 8 to 31 days"),
        Measure("count_days_32_to_62", "32 to 62 days (number)", "Tests, 32 to 62 days"),
        Measure("count_days_over_62", "More than 62 days (number)", "Tests, more than 62 days"),
        Measure("percent_days_0_to_7", "0 to 7 days (%)", "Percentage of tests, 0 to 7 days"),
        Measure("percent_days_8_to_31", "8 to 31 days (%)", "Percentage of tests, 8 to 31 days"),
        Measure("percent_days_32_to_62", "32 to 62 days (%)", "Percentage of tests, 32 to 62 days"),
        Measure(
            "percent_days_over_62",
            "More than 62 days (%)",
            "Percentage of tests, more than 62 days",
        ),
        Measure(
            "percent_reported_same_day",
            "Reported same day (%)",
            "Percentage reported the same day",
        ),
        Measure(
            "percent_reported_by_next_day",
            "Reported by next day (%)",
            "Percentage reported by the next day",
        ),
        Measure(
            "count_report_time_known", "Report time known (number)", "Tests with report time known"
        ),
        Measure(
            "count_report_time_not_known",
            "Report time not known (number)",
            "Tests with report time not known",
        ),
    )
}


@dataclass(frozen=True)
class TableSpec:
    number: int
    title: str
    description: str
    measures: tuple[str, ...]
    # "months": one column per month then Year to date (tables 1-6, 12);
    # "measures": one column per measure, year to date only (tables 9, 10);
    # "settings": one column per source setting then Total, year to date only (table 11).
    layout: str
    source: CountSource | MedianSource | MeasureSource
    # The Excel table's name: table_<number>_<this>.
    workbook_name: str
    # What the "modality" column holds on this table: a modality or a cancer test group.
    row_label: str = "Modality"

    @property
    def query(self) -> str:
        """Its block of `queries/aggregate/table_sources.sql`: the records each cell counts."""
        kind = "waits" if isinstance(self.source, MedianSource) else "counts"
        return f"table_{self.number}_{kind}"


TABLES: dict[int, TableSpec] = {
    spec.number: spec
    for spec in (
        TableSpec(
            1,
            "Count of imaging activity by modality",
            "Number of imaging tests carried out, by provider and modality, by month of test.",
            ("activity_count",),
            "months",
            CountSource(),
            "activity_count",
        ),
        TableSpec(
            2,
            "Median days from test request to test, by modality",
            "Median number of days from the test request (or, where not known, its "
            "receipt) to the test, by provider and modality, by month of test.",
            ("median_days_request_to_test",),
            "months",
            MedianSource(count_table=1),
            "median_days_request_to_test",
        ),
        TableSpec(
            3,
            "Median days from test to report issued, by modality",
            "Median number of days from the test to the issue of its report, by provider "
            "and modality, by month of test.",
            ("median_days_test_to_report",),
            "months",
            MedianSource(count_table=1),
            "median_days_test_to_report",
        ),
        TableSpec(
            4,
            "Count of activity for tests suitable for diagnosing cancer",
            "Number of tests in the five cancer test groups, all source settings and GP "
            "direct access, by month of test.",
            ("activity_count",),
            "months",
            CountSource(settings=(ALL_SETTINGS, "GP Direct Access")),
            "cancer_test_group_activity_count",
            "Cancer test group",
        ),
        TableSpec(
            5,
            "Median days from test request to test, cancer test groups",
            "Median number of days from request to test for the five cancer test groups.",
            ("median_days_request_to_test",),
            "months",
            MedianSource(count_table=4),
            "cancer_test_group_median_days_request_to_test",
            "Cancer test group",
        ),
        TableSpec(
            6,
            "Median days from test to report issued, cancer test groups",
            "Median number of days from test to report for the five cancer test groups.",
            ("median_days_test_to_report",),
            "months",
            MedianSource(count_table=4),
            "cancer_test_group_median_days_test_to_report",
            "Cancer test group",
        ),
        TableSpec(
            9,
            "Days from request to test in bands, by modality and source setting",
            "Number and proportion of tests in England by days from request to test, year to date.",
            (
                "count_days_0_to_7",
                "count_days_8_to_31",
                "count_days_32_to_62",
                "count_days_over_62",
                "percent_days_0_to_7",
                "percent_days_8_to_31",
                "percent_days_32_to_62",
                "percent_days_over_62",
            ),
            "measures",
            MeasureSource(
                settings=TABLE11_SOURCE_SETTINGS,
                levels=("england",),
                counts=(
                    "count_days_0_to_7",
                    "count_days_8_to_31",
                    "count_days_32_to_62",
                    "count_days_over_62",
                ),
                percents=tuple(
                    (f"percent_days_{band}", f"count_days_{band}", "count_request_to_test_known")
                    for band in ("0_to_7", "8_to_31", "32_to_62", "over_62")
                ),
            ),
            "days_request_to_test_bands",
        ),
        TableSpec(
            10,
            "Reports issued same day and by next day",
            "Share of tests whose report was issued on the day of the test and by the "
            "next day, by provider, modality and grouped source setting, year to date.",
            (
                "percent_reported_same_day",
                "percent_reported_by_next_day",
                "count_report_time_known",
                "count_report_time_not_known",
                "activity_count",
            ),
            "measures",
            MeasureSource(
                settings=tuple(TABLE10_SETTING_GROUPS),
                levels=("england", "region", "provider"),
                counts=("count_report_time_known", "count_report_time_not_known", "activity_count"),
                percents=(
                    (
                        "percent_reported_same_day",
                        "count_reported_same_day",
                        "count_report_time_known",
                    ),
                    (
                        "percent_reported_by_next_day",
                        "count_reported_by_next_day",
                        "count_report_time_known",
                    ),
                ),
            ),
            "reports_same_day_and_next_day",
        ),
        TableSpec(
            11,
            "Count of activity by modality and source setting",
            "Number of imaging tests by provider, modality and patient source setting, "
            "year to date.",
            ("activity_count",),
            "settings",
            CountSource(year_to_date_only=True, settings=TABLE11_SOURCE_SETTINGS),
            "activity_count_by_source_setting",
        ),
        TableSpec(
            12,
            "Count of interventional radiology activity by modality",
            "Number of interventional radiology tests by provider and modality, by month of test.",
            ("activity_count",),
            "months",
            CountSource(),
            "interventional_radiology_activity_count",
        ),
    )
}

TIDY_COLUMNS: tuple[str, ...] = (
    "table",
    "geography_level",
    "region_code",
    "region_name",
    "provider_code",
    "provider_name",
    "modality",
    "source_setting",
    "period",
    "measure",
    "value",
    "marker",
)

# The columns that name a cell, by code (the tidy CSV's key, names aside).
CELL_KEY_COLUMNS: tuple[str, ...] = (
    "table",
    "geography_level",
    "region_code",
    "provider_code",
    "modality",
    "source_setting",
    "period",
    "measure",
)

# Analysis Function shorthand: tidy CSV code -> meaning. Workbook and HTML write "[c]".
MARKERS: dict[str, str] = {
    "c": "confidential: suppressed to protect patients",
    "x": "not available: no data submitted",
    "z": "not applicable",
    "p": "provisional",
    "r": "revised since the previous release",
}

GEOGRAPHY_LEVELS = ("england", "region", "provider")

# Tables by the role they play: in the disclosure relations between tables
# (publish.disclosure.control.build_relations: subsets, totals over settings, percentages) and
# on the pages (the activity and the two waits).
ACTIVITY_TABLE, REQUEST_TO_TEST_TABLE, TEST_TO_REPORT_TABLE = 1, 2, 3
CANCER_ACTIVITY_TABLE = 4  # cancer test groups: parts of table 1's and 11's cells
WAIT_BANDS_TABLE = 9  # day bands: their sum is at most table 11's cell
REPORT_TIMES_TABLE = 10  # report times by setting group, beside table 11's counts
SETTINGS_TABLE = 11  # counts by source setting, and their All
INTERVENTIONAL_TABLE = 12  # a subset of table 1


def tables_made_by(kind: type) -> tuple[TableSpec, ...]:
    """The catalog's tables whose source is of this kind, by number."""
    return tuple(spec for spec in TABLES.values() if isinstance(spec.source, kind))


# The data-quality report's counts by provider and month are cells of the publication
# too, under this table number (never a table of the tidy CSV): they are protected with
# the tables and take part in their relations (publish.quality.figures, publish.disclosure.control).
QUALITY_TABLE = 101
# Their period: a month of test (YYYY-MM), this for no valid test date, or all of them.
MONTH_NOT_KNOWN = "not known"
ALL_MONTHS = "all"
# England over all months only, published in the manifest's totals (not a CSV column).
SUPERSEDED_MEASURE = "count_records_superseded"
# The manifest's England totals, by name -> the report's measure (publish.quality.figures
# writes them, publish.disclosure.audit reads them back as figures).
MANIFEST_TOTALS: dict[str, str] = {
    "received": "count_records_received",
    "accepted": "count_records_accepted",
    "rejected": "count_records_rejected",
    "warned": "count_records_warned",
    "superseded": SUPERSEDED_MEASURE,
}
