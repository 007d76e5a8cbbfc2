"""The year's organisation changes, from the site reference (INPUT.md section 3).

A site belongs to a provider for a period (`valid_from`, `valid_to`); a record is mapped
as at its test date (`queries/validate.sql`), so a merger moves a site's records to the
new provider from the merger date. This module only says so, in sentences like NHS
England's title page: "North Middlesex University Hospital NHS Trust (RAP) became part
of Royal Free London NHS Foundation Trust (RAL) from December 2024". Found in the
periods that start or end within the publication's year to date:

- a provider whose sites all move to another provider on one day, and that has no site
  after it: became part of that provider (a merger);
- some sites of a provider moving to another that it outlives: a transfer of sites;
- a provider whose name changes, its code kept: renamed (published under the new name);
- a provider whose last site period ends with no successor: stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from publish.periods import month_name


@dataclass(frozen=True)
class OrganisationChange:
    on: date  # the first day under the new arrangement
    kind: str  # "merger", "transfer", "rename", "stopped"
    sentence: str


def _month(day: date) -> str:
    return month_name(f"{day.year}-{day.month:02d}")


def _named(name: str, code: str) -> str:
    return f"{name} ({code})"


def organisation_changes(sites: pl.DataFrame, start: date, end: date) -> list[OrganisationChange]:
    """The changes taking effect from `start` to `end` (both included), in date order.

    sites: site_code, provider_code, provider_name, valid_from (date), valid_to (date or
    null), as `publish.reference.load_sites` gives them.

    >>> sites = pl.DataFrame({
    ...     "site_code": ["RAP01", "RAP01", "RAL01", "RX101", "RX101"],
    ...     "provider_code": ["RAP", "RAL", "RAL", "RX1", "RX1"],
    ...     "provider_name": ["North Mid", "Royal Free", "Royal Free", "Old name", "New name"],
    ...     "valid_from": [date(1900, 1, 1), date(2024, 12, 1), date(1900, 1, 1),
    ...                    date(1900, 1, 1), date(2024, 7, 1)],
    ...     "valid_to": [date(2024, 11, 30), None, None, date(2024, 6, 30), None]})
    >>> [c.sentence for c in organisation_changes(sites, date(2024, 4, 1), date(2025, 3, 31))]
    ['Old name (RX1) was renamed New name from July 2024.', 'North Mid (RAP) became part of Royal Free (RAL) from December 2024.']
    """
    rows = sites.sort("site_code", "valid_from").to_dicts()
    names: dict[str, list[tuple[date, str]]] = {}
    for row in rows:
        names.setdefault(row["provider_code"], []).append((row["valid_from"], row["provider_name"]))

    def name_at(code: str, day: date) -> str:
        dated = sorted(names[code])
        shown = dated[0][1]
        for since, name in dated:
            if since <= day:
                shown = name
        return shown

    def last_day(code: str) -> date | None:
        ends = [r["valid_to"] for r in rows if r["provider_code"] == code]
        return None if any(e is None for e in ends) else max(ends)

    changes: list[OrganisationChange] = []
    # sites moving from one provider to another, by (from, to, day)
    moves: dict[tuple[str, str, date], list[str]] = {}
    for before, after in zip(rows, rows[1:], strict=False):
        if before["site_code"] != after["site_code"] or before["valid_to"] is None:
            continue
        day = before["valid_to"] + timedelta(days=1)
        if after["valid_from"] != day or not start <= day <= end:
            continue
        if before["provider_code"] != after["provider_code"]:
            moves.setdefault((before["provider_code"], after["provider_code"], day), []).append(
                before["site_code"]
            )
    for (old, new, day), moved in sorted(moves.items(), key=lambda item: (item[0][2], item[0])):
        ended = last_day(old)
        old_named = _named(name_at(old, day - timedelta(days=1)), old)
        new_named = _named(name_at(new, day), new)
        if ended is not None and ended < day:
            changes.append(
                OrganisationChange(
                    day, "merger", f"{old_named} became part of {new_named} from {_month(day)}."
                )
            )
        else:
            listed = ", ".join(sorted(moved))
            plural = "s" if len(moved) > 1 else ""
            changes.append(
                OrganisationChange(
                    day,
                    "transfer",
                    f"Site{plural} {listed} of {old_named} moved to {new_named} from "
                    f"{_month(day)}.",
                )
            )
    for code, dated in sorted(names.items()):
        ordered = sorted(set(dated))
        for (_, old_name), (since, new_name) in zip(ordered, ordered[1:], strict=False):
            if old_name != new_name and start <= since <= end:
                changes.append(
                    OrganisationChange(
                        since,
                        "rename",
                        f"{old_name} ({code}) was renamed {new_name} from {_month(since)}.",
                    )
                )
    merged = {(c.sentence.split(" (")[0]) for c in changes if c.kind == "merger"}
    for code in sorted(names):
        ended = last_day(code)
        if ended is None or not start <= ended + timedelta(days=1) <= end:
            continue
        if any(old == code for old, _, _ in moves):
            continue
        name = name_at(code, ended)
        if name in merged:
            continue
        changes.append(
            OrganisationChange(
                ended + timedelta(days=1),
                "stopped",
                f"{_named(name, code)} stopped providing imaging services from "
                f"{_month(ended + timedelta(days=1))}.",
            )
        )
    return sorted(changes, key=lambda c: (c.on, c.kind, c.sentence))
