"""The release's own details: publication date, next update and contact.

They come from the `[publication]` table of the config, else the cover text file, else
defaults derived from the period, never from the clock (same inputs, same bytes) and
never fixed dates that go stale. NHS England publishes the DID on the second Thursday
of a month, about two months after the month the data end; the derived date follows
that rhythm.

What looks wrong for a real release (a placeholder contact address, a publication date
on or before the last day of the data, months of the year to date without any record)
is said as a warning, on the console and in `--json`; months without records are named
on the cover too.
"""

import calendar
from dataclasses import dataclass
from datetime import date

from publish.periods import add_months, month_name, months_list

# Mail domains reserved for examples (RFC 2606, RFC 6761): a contact there is a
# placeholder nobody reads.
PLACEHOLDER_DOMAINS = ("example.org", "example.com", "example.net")
PLACEHOLDER_SUFFIXES = (".example", ".invalid", ".test", ".localhost")

# Months between the end of the data and the default publication date.
PUBLICATION_LAG_MONTHS = 2


@dataclass(frozen=True)
class ReleaseDetails:
    published_on: date
    next_update: str
    contact_email: str


def second_thursday(month: str) -> date:
    year, mon = (int(part) for part in month.split("-"))
    first = date(year, mon, 1)
    offset = (calendar.THURSDAY - first.weekday()) % 7
    return date(year, mon, 1 + offset + 7)


def end_of_month(month: str) -> date:
    year, mon = (int(part) for part in month.split("-"))
    return date(year, mon, calendar.monthrange(year, mon)[1])


def default_publication_date(latest_month: str) -> date:
    """The second Thursday of the second month after the period: 2025-03 -> 8 May 2025."""
    return second_thursday(add_months(latest_month, PUBLICATION_LAG_MONTHS))


def default_next_update(latest_month: str, published_on: date) -> str:
    """The month after the publication's, with one more month of data."""
    next_month = add_months(f"{published_on.year}-{published_on.month:02d}", 1)
    return f"{month_name(next_month)}, with data up to {month_name(add_months(latest_month, 1))}."


def release_details(
    latest_month: str,
    published_on: date | None,
    next_update: str | None,
    contact_email: str,
) -> ReleaseDetails:
    """What is given, the rest derived from the period."""
    day = published_on or default_publication_date(latest_month)
    return ReleaseDetails(
        published_on=day,
        next_update=next_update or default_next_update(latest_month, day),
        contact_email=contact_email,
    )


def is_placeholder_email(email: str) -> bool:
    domain = email.rpartition("@")[2].lower()
    return domain in PLACEHOLDER_DOMAINS or domain.endswith(PLACEHOLDER_SUFFIXES)


def release_warnings(
    details: ReleaseDetails, latest_month: str, months_without_records: tuple[str, ...]
) -> list[str]:
    """What a statistician should fix or know before this release goes out."""
    warnings = []
    if is_placeholder_email(details.contact_email):
        warnings.append(
            f"contact_email {details.contact_email} is a placeholder: set contact_email in "
            "the [publication] table of the config (did-publish init writes an example)"
        )
    if details.published_on <= end_of_month(latest_month):
        warnings.append(
            f"publication date {details.published_on.isoformat()} is not after the end of "
            f"the period ({end_of_month(latest_month).isoformat()}): check published_on in "
            "the [publication] table of the config"
        )
    if months_without_records:
        warnings.append(
            f"no record for {months_list(months_without_records)}: every figure of "
            f"{'that month' if len(months_without_records) == 1 else 'those months'} is [x] "
            "(named on the cover)"
        )
    return warnings
