"""Months and financial years: their arithmetic and their wording, in one place.

A month is the text 'YYYY-MM' throughout the build. The financial year starts in April
(2024-25 is April 2024 to March 2025) and a publication covers its year to date. Every
reader-facing word for a month or a date (site, workbook and its cover, tidy CSV's
datapackage, data-quality report, release warnings) is made here, in English whatever
the machine's locale (never strftime's `%B`), so the same inputs give the same bytes
on any machine.

>>> month_name("2024-11"), month_short("2024-11"), financial_year_of("2025-03")
('November 2024', 'Nov 2024', '2024-25')
>>> month_range_words("2024-04", "2024-11"), month_range_words("2024-04", "2025-01")
('April to November 2024', 'April 2024 to January 2025')
"""

from datetime import date

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


def month_name(month: str) -> str:
    """'2024-11' -> 'November 2024'."""
    year, mon = month.split("-")
    return f"{MONTH_NAMES[int(mon) - 1]} {year}"


def month_short(month: str) -> str:
    """'2024-11' -> 'Nov 2024': a column header, a chart's axis."""
    year, mon = month.split("-")
    return f"{MONTH_NAMES[int(mon) - 1][:3]} {year}"


def month_range_words(first: str, last: str) -> str:
    """'April to November 2024', 'April 2024 to January 2025', or one month's name."""
    if first == last:
        return month_name(first)
    if first[:4] == last[:4]:
        return f"{MONTH_NAMES[int(first[5:]) - 1]} to {month_name(last)}"
    return f"{month_name(first)} to {month_name(last)}"


def months_list(months: tuple[str, ...]) -> str:
    """'May 2024', 'May 2024 and June 2024', 'April 2024, May 2024 and June 2024'."""
    words = [month_name(month) for month in months]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def long_date(day: date) -> str:
    """'8 May 2025'."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def add_months(month: str, count: int) -> str:
    """'2025-03' plus 2 -> '2025-05'."""
    year, mon = (int(part) for part in month.split("-"))
    index = year * 12 + (mon - 1) + count
    return f"{index // 12}-{index % 12 + 1:02d}"


def financial_year_of(month: str) -> str:
    """'2024-11' -> '2024-25'; April starts the financial year."""
    year, mon = (int(part) for part in month.split("-"))
    start = year if mon >= 4 else year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def months_of_year_to_date(latest_month: str) -> tuple[str, ...]:
    """Every month from April of the financial year up to and including latest_month."""
    first = f"{financial_year_of(latest_month)[:4]}-04"
    count = (int(latest_month[:4]) * 12 + int(latest_month[5:])) - (int(first[:4]) * 12 + 4)
    return tuple(add_months(first, step) for step in range(count + 1))
