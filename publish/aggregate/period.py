"""The period a build publishes: `--period`, else the latest month of what counts.

Read from `counted_cube` (the resolve stage's) before aggregation: a period without any
accepted record in its year to date is refused, records dated after this month are
warned, and the months of the year to date without a record are named (every figure
of theirs is [x]).
"""

import logging
from datetime import date

import duckdb

from publish.config import BuildConfig
from publish.db import rows, scalar
from publish.errors import InputError
from publish.periods import months_of_year_to_date

log = logging.getLogger("did_publish")


# The financial year of a later month ends after 9999, where dates end.
LAST_PUBLISHABLE_MONTH = "9998-12"


def latest_month(con: duckdb.DuckDBPyConnection, config: BuildConfig) -> str:
    """--period, or the latest month of the accepted records; a period with no accepted
    record in its financial year to date is refused (nothing of the data would show)."""
    first, last = rows(con, "SELECT min(test_month), max(test_month) FROM counted_cube")[0]
    if last is None:
        raise InputError("no record was accepted: nothing to publish (see the quarantine)")
    warn_future_records(con)
    if not config.period:
        if last > LAST_PUBLISHABLE_MONTH:  # only with submission dates in that future
            raise InputError(
                f"the latest accepted month, {last}, is past {LAST_PUBLISHABLE_MONTH}: check "
                "the submission dates, or give --period"
            )
        return last
    if config.period > LAST_PUBLISHABLE_MONTH:
        raise InputError(
            f"--period {config.period}: a period past {LAST_PUBLISHABLE_MONTH} cannot be published"
        )
    months = months_of_year_to_date(config.period)
    shown = scalar(
        con,
        "SELECT count(*) FROM counted_cube WHERE test_month IN (SELECT unnest($months))",
        {"months": list(months)},
    )
    if not shown:
        raise InputError(
            f"--period {config.period}: no accepted record in {months[0]} to {months[-1]}; "
            f"the accepted records are from {first} to {last}"
        )
    if config.period > last:
        log.warning("--period %s: later than the latest accepted record (%s)", config.period, last)
    return config.period


def warn_future_records(con: duckdb.DuckDBPyConnection) -> None:
    """Accepted records with a test month after this month (their submission date is
    later still): said on the console, as a date in the future is rarely right."""
    this_month = date.today().strftime("%Y-%m")
    future = scalar(
        con, "SELECT sum(n) FROM counted_cube WHERE test_month > $month", {"month": this_month}
    )
    if future:
        log.warning(
            "%d accepted record(s) have a test date after this month (%s): check the "
            "submission dates",
            future,
            this_month,
        )


def months_without_records(con: duckdb.DuckDBPyConnection, latest: str) -> tuple[str, ...]:
    """Months of the year to date without any accepted record (every figure [x])."""
    found = {month for (month,) in rows(con, "SELECT DISTINCT test_month FROM counted_cube")}
    return tuple(month for month in months_of_year_to_date(latest) if month not in found)
