"""The disclosure policy: one object, built once from the config and passed down.

A policy says which cells are suppressed and how the others are rounded (`CellRules`,
for `did` and `hes`; `strict` suppresses across linked tables instead, with threshold
`k`), how an outsider reads each published figure (the audit's attacker), whether a
failed audit stops the build, and how the policy is described to readers. Every stage
asks the `Policy` what it needs; only this module compares policy names, so a new
policy is one entry in `make_policy` (and its cover text in `publication.toml`).

>>> did, strict = make_policy("did"), make_policy("strict", k=10)
>>> did.suppressed_up_to, did.median_records, did.protection_upper, did.audit_stops_build
(2, 3, 2, False)
>>> strict.suppressed_up_to, strict.median_records, strict.protection_upper, strict.manifest_k
(inf, 10, 9, 10)
>>> make_policy("hes").manifest_k is None
True
>>> [p.min_cases_for_proportion for p in (did, make_policy("hes"), strict)]
[7, 7, 7]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

POLICY_NAMES = ("did", "hes", "strict")
DEFAULT_POLICY = "did"
DEFAULT_K = 10
# NHS England's table 13 shows a proportion only when it is based on 7 tests or more
# (read from every provider row of its 2023-24 table: `Policy.min_cases_for_proportion`).
MIN_CASES_FOR_PROPORTION = 7


class UnknownPolicy(ValueError):
    """A policy name that is none of POLICY_NAMES."""


@dataclass(frozen=True)
class CellRules:
    """A cell-by-cell disclosure policy."""

    suppress_counts_below: int  # counts 1 .. this-1 are suppressed below England
    round_counts_to: int
    round_england_counts: bool
    suppress_medians_below: int  # medians over 1 .. this-1 records are suppressed
    suppress_england_medians: bool


@dataclass(frozen=True)
class Policy:
    """What a build protects and how, as every stage reads it.

    `cell_rules` is None for a policy with secondary suppression (`strict`): then `k` is
    its threshold and `secondary_suppression = False` publishes the primary suppression
    alone (NOT protected: for testing the audit and attackers)."""

    name: str
    cell_rules: CellRules | None
    k: int = DEFAULT_K
    secondary_suppression: bool = True
    # Who allows what an outsider recovers, in the audit's words (cell-by-cell policies).
    rule_owner: str = ""
    # How the counts and medians are protected, in a sentence for readers of the site
    # (`reader_note` adds the proportions').
    counts_note: str = ""
    # What the audit accepts, in plain words, after its counts on the console and in
    # --json: under did and hes a suppressed count the published totals give away is a
    # figure to know, not a failure (PUBLICATION.md sections 3 and 4).
    audit_allows: str = ""
    # A report turnaround proportion (table 13) is shown only when it is based on at
    # least this many tests, else published empty with `c`, under every policy: NHS
    # England leaves empty every such proportion of fewer than 7 (its 2023-24 table 13:
    # the share not known when the row has fewer than 7 tests, the time bands when fewer
    # than 7 have a known report time), and the issue takes NHS England's tables as the
    # reference. A share of so few tests is a small-number figure, as a count of 1 or
    # 2 is, hence `c` (PUBLICATION.md section 2: suppressed). The tests a proportion is
    # based on are its `records` (the catalog's `MeasureSource.percent_cases`).
    min_cases_for_proportion: int = MIN_CASES_FOR_PROPORTION

    @property
    def suppresses_across_tables(self) -> bool:
        """Secondary suppression over every relation between published figures."""
        return self.cell_rules is None

    @property
    def audit_stops_build(self) -> bool:
        """A failed audit publishes nothing (strict, unless built unprotected on purpose)."""
        return self.suppresses_across_tables and self.secondary_suppression

    @property
    def manifest_k(self) -> int | None:
        """k as the manifest records it: only where it means something."""
        return self.k if self.suppresses_across_tables else None

    # --- how an attacker reads a published figure (publish.disclosure.audit)

    @property
    def suppressed_up_to(self) -> float:
        """The largest value a `c` count can hide (inf: no bound is published)."""
        if self.cell_rules is None:
            return math.inf
        return self.cell_rules.suppress_counts_below - 1

    @property
    def rounding_half_width(self) -> int:
        """A shown rounded count v means [v - this, v + this]."""
        return 0 if self.cell_rules is None else self.cell_rules.round_counts_to // 2

    @property
    def rounds_england_counts(self) -> bool:
        return self.cell_rules is not None and self.cell_rules.round_england_counts

    @property
    def median_records(self) -> int:
        """A shown median (and, under strict, a shown percentage) stands on at least
        this many records."""
        if self.cell_rules is None:
            return self.k
        return self.cell_rules.suppress_medians_below

    @property
    def ratio_threshold(self) -> int:
        """Records a shown percentage's denominator has at least (0: no such rule)."""
        return self.k if self.cell_rules is None else 0

    @property
    def hides_england_ratios(self) -> bool:
        """Whether England's medians and proportions of too few records are hidden
        (hes and strict; did never hides an England figure)."""
        return self.cell_rules is None or self.cell_rules.suppress_england_medians

    @property
    def proportion_note(self) -> str:
        """The rule of `min_cases_for_proportion`, in a sentence for readers."""
        n = self.min_cases_for_proportion
        where = "" if self.hides_england_ratios else " below England"
        return (
            f"A report turnaround percentage (table 13) based on fewer than {n} tests is "
            f"not shown [c]{where}: the share whose report time is not known when the row "
            f"has fewer than {n} tests, the time bands when fewer than {n} of its tests "
            "have a known report time."
        )

    @property
    def reader_note(self) -> str:
        """How the figures are protected, for readers of the site."""
        return f"{self.counts_note} {self.proportion_note}"

    @property
    def protection_upper(self) -> int:
        """The top of the protection interval [1, this] of a suppressed count."""
        if self.cell_rules is None:
            return self.k - 1
        return self.cell_rules.suppress_counts_below - 1

    @property
    def small_below(self) -> float:
        """A suppressed count that may be below this is held to its protection interval;
        one certainly above it only has to be not exact (inf: every suppressed count)."""
        return self.k if self.cell_rules is None else math.inf


def make_policy(name: str, k: int = DEFAULT_K, secondary_suppression: bool = True) -> Policy:
    """The named policy (PUBLICATION.md section 3); UnknownPolicy for any other name."""
    if name == "did":
        # NHS England DID: 1-2 suppressed, all counts to the nearest 5, England rounded
        # but never suppressed, medians over fewer than 3 records suppressed, not rounded.
        return Policy(
            name,
            CellRules(3, 5, True, 3, False),
            k,
            rule_owner="NHS England's rule",
            counts_note="Counts of 1 or 2 are suppressed [c] below England; every other "
            "count is rounded to the nearest 5. A median is suppressed when fewer than 3 "
            "tests underlie it.",
            audit_allows="The did policy (NHS England's rules) allows suppressed counts that "
            "can be worked out from the published totals; only figures that contradict each "
            "other fail.",
        )
    if name == "hes":
        # NHS Digital HES/ECDS: 1-7 suppressed below national, 8+ to the nearest 5,
        # national unrounded; medians over 1-7 records suppressed.
        return Policy(
            name,
            CellRules(8, 5, False, 8, True),
            k,
            rule_owner="the HES rule",
            counts_note="England figures are not rounded. Below England, counts of 1 to 7 "
            "are suppressed [c] and other counts are rounded to the nearest 5; a median is "
            "suppressed when 1 to 7 tests underlie it.",
            audit_allows="The hes policy (NHS Digital's rule) allows suppressed counts that "
            "can be worked out from the published totals; only figures that contradict each "
            "other fail.",
        )
    if name == "strict":
        return Policy(
            name,
            None,
            k,
            secondary_suppression,
            counts_note="Small counts are suppressed [c], and further cells are suppressed "
            "so that no suppressed figure can be worked out from the others.",
            audit_allows="The strict policy allows no suppressed count to be worked out or "
            "narrowed below its protection interval: any such count fails the audit and stops "
            "the build.",
        )
    raise UnknownPolicy(f"unknown disclosure policy {name!r}: choose one of {POLICY_NAMES}")
