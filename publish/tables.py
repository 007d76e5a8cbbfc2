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

# Broad source settings of table 13 (NHS England's notes 4 and 5).
TABLE13_SETTING_GROUPS: dict[str, tuple[str, ...]] = {
    "A&E / Admitted": ("05", "01", "02"),
    "OP / GP direct access": ("03", "04", "06", "07"),
}

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
    # one period per quarter of the year to date instead (table 13): "YYYY-MM/YYYY-MM",
    # its first month to its last, or to the latest month published
    by_quarter: bool = False
    # (percentage, count): the table's percentages are shown only when the count, the
    # tests they are based on, reaches the policy's `min_cases_for_proportion` (table
    # 13, as NHS England; `publish.disclosure.protect`). The count's n are the
    # percentage's records; a percentage not listed has its denominator's.
    percent_cases: tuple[tuple[str, str], ...] = ()

    def percent_rows(self) -> tuple[tuple[str, str, str, str], ...]:
        """(measure, numerator, denominator, cases) of each percentage."""
        cases = dict(self.percent_cases)
        return tuple(
            (measure, numerator, denominator, cases.get(measure, denominator))
            for measure, numerator, denominator in self.percents
        )


@dataclass(frozen=True)
class CommissionerSource:
    """Counts by commissioner (the sub-ICB location of the patient's GP practice) in day
    bands of one wait, year to date: `table_<n>_counts` of table_sources.sql, read by
    `commissioner_cells.sql`. Rows: England, then each commissioner ("Unknown" where
    the practice is missing or not in the reference); `activity_count` is the total of
    the bands (every record falls in one band, "time not known" included)."""

    bands: tuple[str, ...]
    settings: tuple[str, ...] = (ALL_SETTINGS,)
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
        # table 13: report turnaround, as shares of all the row's tests
        Measure(
            "percent_reported_by_7_days",
            "Reported by 7 days (%)",
            "Percentage reported within 7 days",
        ),
        Measure(
            "percent_reported_by_14_days",
            "Reported by 14 days (%)",
            "Percentage reported within 14 days",
        ),
        Measure(
            "percent_reported_over_28_days",
            "Reported after more than 28 days (%)",
            "Percentage reported after more than 28 days",
        ),
        Measure(
            "percent_report_time_not_known",
            "Report time not known (%)",
            "Percentage with report time not known",
        ),
        # tables 7a, 7b and 8: day bands by commissioner
        Measure("count_days_8_to_14", "8 to 14 days (number)", "Tests, 8 to 14 days"),
        Measure("count_days_15_to_31", "15 to 31 days (number)", "Tests, 15 to 31 days"),
        Measure("count_days_32_to_42", "32 to 42 days (number)", "Tests, 32 to 42 days"),
        Measure("count_days_43_to_62", "43 to 62 days (number)", "Tests, 43 to 62 days"),
        Measure("count_days_63_to_93", "63 to 93 days (number)", "Tests, 63 to 93 days"),
        Measure("count_days_94_to_186", "94 to 186 days (number)", "Tests, 94 to 186 days"),
        Measure("count_days_187_to_365", "187 to 365 days (number)", "Tests, 187 to 365 days"),
        Measure(
            "count_days_366_and_over", "366 days and over (number)", "Tests, 366 days and over"
        ),
        Measure("count_days_63_and_over", "63 days and over (number)", "Tests, 63 days and over"),
        Measure("count_time_not_known", "Time not known (number)", "Tests, time not known"),
        Measure("count_days_0", "0 days (number)", "Tests, 0 days"),
        Measure("count_days_1", "1 day (number)", "Tests, 1 day"),
        Measure("count_days_2", "2 days (number)", "Tests, 2 days"),
        Measure("count_days_3", "3 days (number)", "Tests, 3 days"),
        Measure("count_days_4", "4 days (number)", "Tests, 4 days"),
        Measure("count_days_5", "5 days (number)", "Tests, 5 days"),
        Measure("count_days_6", "6 days (number)", "Tests, 6 days"),
        Measure("count_days_7", "7 days (number)", "Tests, 7 days"),
    )
}


# Day bands of tables 7a and 8 (request to test) and 7b (test to report), as NHS
# England publishes them; queries/cube.sql puts each record in one of each.
REQUEST_TO_TEST_BANDS: tuple[str, ...] = (
    "count_days_0_to_7",
    "count_days_8_to_14",
    "count_days_15_to_31",
    "count_days_32_to_42",
    "count_days_43_to_62",
    "count_days_63_to_93",
    "count_days_94_to_186",
    "count_days_187_to_365",
    "count_days_366_and_over",
    "count_time_not_known",
)
TEST_TO_REPORT_BANDS: tuple[str, ...] = (
    "count_days_0",
    "count_days_1",
    "count_days_2",
    "count_days_3",
    "count_days_4",
    "count_days_5",
    "count_days_6",
    "count_days_7",
    "count_days_8_to_14",
    "count_days_15_to_31",
    "count_days_32_to_42",
    "count_days_43_to_62",
    "count_days_63_and_over",
    "count_time_not_known",
)


# Table 13's shares of the row's tests (its total, `activity_count`, the denominator).
TABLE13_PERCENTS: tuple[str, ...] = (
    "percent_reported_same_day",
    "percent_reported_by_next_day",
    "percent_reported_by_7_days",
    "percent_reported_by_14_days",
    "percent_reported_over_28_days",
    "percent_report_time_not_known",
)


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
    # The table's number as NHS England publishes it, where it is not `number` ("7a"):
    # `number` is then only the catalog's key, never shown.
    label: str = ""
    # Its provider rows show the provider's ICB and imaging network (table 13).
    shows_provider_details: bool = False

    @property
    def published_number(self) -> str:
        """The number readers see: in the tidy CSV, the workbook and the pages."""
        return self.label or str(self.number)

    @property
    def query(self) -> str:
        """Its block of `queries/aggregate/table_sources.sql`: the records each cell counts."""
        kind = "waits" if isinstance(self.source, MedianSource) else "counts"
        return f"table_{self.published_number}_{kind}"


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
            71,
            "Days from request to test in bands, selected modalities, by commissioner",
            "Number of tests by days from the test request (or, where not known, its "
            "receipt) to the test, for four modalities, by commissioner: the sub-ICB "
            "location of the patient's GP practice as at the test date, year to date.",
            (*REQUEST_TO_TEST_BANDS, "activity_count"),
            "measures",
            CommissionerSource(bands=REQUEST_TO_TEST_BANDS),
            "days_request_to_test_bands_by_commissioner",
            label="7a",
        ),
        TableSpec(
            72,
            "Days from test to report in bands, selected modalities, by commissioner",
            "Number of tests by days from the test to the issue of its report, for four "
            "modalities, by commissioner (the sub-ICB location of the patient's GP "
            "practice as at the test date), year to date.",
            (*TEST_TO_REPORT_BANDS, "activity_count"),
            "measures",
            CommissionerSource(bands=TEST_TO_REPORT_BANDS),
            "days_test_to_report_bands_by_commissioner",
            label="7b",
        ),
        TableSpec(
            8,
            "Days from request to test in bands, three cancer tests, by commissioner",
            "Number of chest X-rays, MRI scans of the brain and ultrasound scans of the "
            "abdomen or pelvis by days from request to test, all source settings and GP "
            "direct access, by commissioner (the sub-ICB location of the patient's GP "
            "practice as at the test date), year to date.",
            (*REQUEST_TO_TEST_BANDS, "activity_count"),
            "measures",
            CommissionerSource(
                bands=REQUEST_TO_TEST_BANDS, settings=(ALL_SETTINGS, "GP Direct Access")
            ),
            "cancer_tests_days_request_to_test_bands_by_commissioner",
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
        TableSpec(
            13,
            "Report turnaround bands by modality and broad source setting, per quarter",
            "Share of tests whose report was issued the same day, by the next day, within 7 "
            "and 14 days, after more than 28 days, or at a time not known, and the number of "
            "tests, by provider, modality and broad source setting (A&E and admitted "
            "patients; outpatients, GP direct access and others), quarter by quarter.",
            (*TABLE13_PERCENTS, "activity_count"),
            "measures",
            MeasureSource(
                settings=tuple(TABLE13_SETTING_GROUPS),
                levels=("england", "region", "provider"),
                counts=("activity_count",),
                percents=tuple(
                    (percent, percent.replace("percent_", "count_", 1), "activity_count")
                    for percent in TABLE13_PERCENTS
                ),
                year_to_date_only=False,
                by_quarter=True,
                # NHS England: the time bands are based on the tests with a known report
                # time, the share not known on all the row's tests
                percent_cases=tuple(
                    (
                        percent,
                        "activity_count"
                        if percent == "percent_report_time_not_known"
                        else "count_report_time_known",
                    )
                    for percent in TABLE13_PERCENTS
                ),
            ),
            "report_turnaround_bands",
            shows_provider_details=True,
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

# A provider's details beside its rows (sites.csv's optional columns): column -> heading.
PROVIDER_DETAIL_COLUMNS: dict[str, str] = {
    "icb_code": "ICB code",
    "network_name": "Imaging network",
}

GEOGRAPHY_LEVELS = ("england", "region", "provider", "commissioner")
# The commissioner of records whose GP practice is missing or not in the reference.
UNKNOWN_COMMISSIONER = "Unknown"

# Tables by the role they play: in the disclosure relations between tables
# (publish.disclosure.control.build_relations: subsets, totals over settings, percentages) and
# on the pages (the activity and the two waits).
ACTIVITY_TABLE, REQUEST_TO_TEST_TABLE, TEST_TO_REPORT_TABLE = 1, 2, 3
CANCER_ACTIVITY_TABLE = 4  # cancer test groups: parts of table 1's and 11's cells
WAIT_BANDS_TABLE = 9  # day bands: their sum is at most table 11's cell
REPORT_TIMES_TABLE = 10  # report times by setting group, beside table 11's counts
SETTINGS_TABLE = 11  # counts by source setting, and their All
INTERVENTIONAL_TABLE = 12  # a subset of table 1


TURNAROUND_TABLE = 13  # quarters: their totals are table 1's months, table 11's settings
COMMISSIONER_REQUEST_TABLE = 71  # 7a: its total is table 1's England year to date
COMMISSIONER_REPORT_TABLE = 72  # 7b: the same records as 7a, in other bands
COMMISSIONER_CANCER_TABLE = 8  # its totals are table 4's England year to date

# The catalog's tables in publication order (7a, 7b and 8 between 6 and 9).
TABLE_ORDER: dict[int, int] = {
    number: position
    for position, number in enumerate(
        sorted(TABLES, key=lambda n: (int(TABLES[n].published_number.rstrip("ab")), n))
    )
}


def table_number_of(published: str) -> int:
    """The catalog's key of a table as published ("7a" -> its number); other text, as an
    integer (the data-quality report's table)."""
    for spec in TABLES.values():
        if spec.published_number == published:
            return spec.number
    return int(published)


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
