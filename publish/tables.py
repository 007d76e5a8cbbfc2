"""What each published table is: its number, title, measures and layout.

One description of every table serves the tidy CSV, the datapackage, the workbook and
the HTML pages, so a title or a measure name is never spelled twice. Numbering follows
NHS England's DID publication (PUBLICATION.md section 1).
"""

from dataclasses import dataclass


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
    # What the "modality" column holds on this table: a modality or a cancer test group.
    row_label: str = "Modality"


TABLES: dict[int, TableSpec] = {
    spec.number: spec
    for spec in (
        TableSpec(
            1,
            "Count of imaging activity by modality",
            "Number of imaging tests carried out, by provider and modality, by month of test.",
            ("activity_count",),
            "months",
        ),
        TableSpec(
            2,
            "Median days from test request to test, by modality",
            "Median number of days from the test request (or, where not known, its "
            "receipt) to the test, by provider and modality, by month of test.",
            ("median_days_request_to_test",),
            "months",
        ),
        TableSpec(
            3,
            "Median days from test to report issued, by modality",
            "Median number of days from the test to the issue of its report, by provider "
            "and modality, by month of test.",
            ("median_days_test_to_report",),
            "months",
        ),
        TableSpec(
            4,
            "Count of activity for tests suitable for diagnosing cancer",
            "Number of tests in the five cancer test groups, all source settings and GP "
            "direct access, by month of test.",
            ("activity_count",),
            "months",
            "Cancer test group",
        ),
        TableSpec(
            5,
            "Median days from test request to test, cancer test groups",
            "Median number of days from request to test for the five cancer test groups.",
            ("median_days_request_to_test",),
            "months",
            "Cancer test group",
        ),
        TableSpec(
            6,
            "Median days from test to report issued, cancer test groups",
            "Median number of days from test to report for the five cancer test groups.",
            ("median_days_test_to_report",),
            "months",
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
        ),
        TableSpec(
            11,
            "Count of activity by modality and source setting",
            "Number of imaging tests by provider, modality and patient source setting, "
            "year to date.",
            ("activity_count",),
            "settings",
        ),
        TableSpec(
            12,
            "Count of interventional radiology activity by modality",
            "Number of interventional radiology tests by provider and modality, by month of test.",
            ("activity_count",),
            "months",
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

MONTH_NAMES: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Analysis Function shorthand: tidy CSV code -> meaning. Workbook and HTML write "[c]".
MARKERS: dict[str, str] = {
    "c": "confidential: suppressed to protect patients",
    "x": "not available: no data submitted",
    "z": "not applicable",
    "p": "provisional",
}

GEOGRAPHY_LEVELS = ("england", "region", "provider")

# Grouped source settings of table 10.
TABLE10_SETTING_GROUPS: dict[str, tuple[str, ...]] = {
    "A&E, Inpatients & Day Cases": ("05", "01", "02"),
    "Outpatients & GP Direct Access": ("03", "04"),
}

# The data-quality report's counts by provider and month are cells of the publication
# too, under this table number (never a table of the tidy CSV): they are protected with
# the tables and take part in their relations (publish.quality, publish.disclosure).
QUALITY_TABLE = 101
# Their period: a month of test (YYYY-MM), this for no valid test date, or all of them.
MONTH_NOT_KNOWN = "not known"
ALL_MONTHS = "all"
