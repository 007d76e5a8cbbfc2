"""The calendar module (`publish/periods.py`): one place for month and financial-year
arithmetic and wording, English whatever the locale."""

import doctest

import publish.periods
from publish.periods import add_months, financial_year_of, months_of_year_to_date


def test_doctests():
    assert doctest.testmod(publish.periods).failed == 0


def test_the_year_to_date_runs_from_april_across_the_new_year():
    assert months_of_year_to_date("2024-04") == ("2024-04",)
    year = months_of_year_to_date("2025-03")
    assert len(year) == 12 and year[0] == "2024-04" and year[8:10] == ("2024-12", "2025-01")
    assert {financial_year_of(month) for month in year} == {"2024-25"}
    assert add_months("2024-12", 1) == "2025-01" and add_months("2025-01", -1) == "2024-12"
