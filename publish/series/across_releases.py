"""Disclosure control across the releases of a series (PUBLICATION.md section 7).

Every release of the series is known to the attacker. Two things follow:

- Under `strict`, a cell an earlier release suppressed whose unrounded value has not
  changed is suppressed again (`kept_suppressions`): shown now, it would give that
  release's hidden cell away (and with it what its secondary suppression protected).
  Without the earlier release's ledger beside it, every cell it suppressed is kept
  suppressed (whether it changed cannot be told). Under `did` and `hes` an unchanged
  cell gets the same suppression by itself: their rules go cell by cell.
- The audit runs over the union of the releases (`audit_across_releases`): each
  release's figures and relations, as `publish.disclosure.audit` reads one release, side by side,
  with one more relation for every cell whose unrounded value is the same in two
  releases (its figures there are one unknown: x_A - x_B = 0). The ledgers say which
  cells are unchanged; a release without one is linked to none. Under `strict` a
  failing union stops the build; under `did` and `hes` the audit reports what the union
  reveals that each release alone does not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from publish.disclosure.audit import published_bounds, read_policy, read_published_cells
from publish.disclosure.control import (
    KEY_COLUMNS,
    LinearSystem,
    feasible_intervals,
    integer_interval,
    integer_percentage_bounds,
    interval_status,
    percentage_rows,
    ratio_threshold_rows,
    shown_percentages,
    trivial_lower_bounds,
)
from publish.disclosure.policy import Policy
from publish.series.releases import EarlierRelease, read_earlier_releases, read_release

log = logging.getLogger("did_publish")


def kept_suppressions(
    cells: pl.DataFrame, earlier: list[EarlierRelease], policy: Policy
) -> pl.Series | None:
    """One flag per row of `cells` (unprotected: key, value): suppressed again because an
    earlier release suppressed it and its unrounded value is unchanged. None when the
    policy needs none (cell-by-cell rules) or there is no earlier release."""
    if not policy.suppresses_across_tables or not earlier:
        return None
    key = list(KEY_COLUMNS)
    current = cells.select(
        *[pl.col(c).cast(pl.Utf8).fill_null("") for c in key],
        pl.col("value").cast(pl.Float64).alias("_now"),
    ).with_row_index("_row")
    kept = np.zeros(cells.height, dtype=bool)
    for release in earlier:
        hidden = release.cells.filter(pl.col("marker") == "c").select(
            [pl.col(c).cast(pl.Utf8).fill_null("") for c in key]
        )
        if release.ledger is None:
            log.warning(
                "%s: no ledger beside it (%s.restricted/ledger.parquet): every cell it "
                "suppressed is suppressed again",
                release.identifier,
                release.identifier,
            )
            then = hidden.with_columns(pl.lit(True).alias("_same"))
            matched = current.join(then, on=key, how="inner")
        else:
            then = hidden.join(release.ledger.select(*key, pl.col("value").alias("_then")), on=key)
            matched = current.join(then, on=key, how="inner").with_columns(
                (pl.col("_now").fill_null(0.0) == pl.col("_then").fill_null(0.0)).alias("_same")
            )
        rows = matched.filter(pl.col("_same"))["_row"].to_numpy()
        kept[rows] = True
    return pl.Series("kept", kept)


@dataclass
class ReleaseLP:
    """One release as the audit reads it: its figures' keys, bounds and relations."""

    identifier: str
    policy: Policy
    figures: pl.DataFrame  # KEY_COLUMNS (text) of each figure, in figure order
    lower: np.ndarray
    upper: np.ndarray
    system: LinearSystem
    suppressed: np.ndarray  # per figure: a `c` count
    ledger: pl.DataFrame | None  # KEY_COLUMNS, value: the unrounded values, if known


def release_lp(
    folder: Path,
    csv_path: Path,
    identifier: str,
    policy: Policy,
    ledger: pl.DataFrame | None,
) -> ReleaseLP:
    """A published release read as `publish.disclosure.audit.audit_publication` reads it."""
    return cells_lp(read_published_cells(folder, csv_path), identifier, policy, ledger)


def cells_lp(
    tidy: pl.DataFrame, identifier: str, policy: Policy, ledger: pl.DataFrame | None
) -> ReleaseLP:
    """Published cells (KEY_COLUMNS, value and marker as text) read as the audit reads them."""
    relations, value, marker, lower, upper = published_bounds(tidy, policy)
    is_count = relations.cell_figure >= 0
    shown_ratio = ~np.isnan(value[relations.ratio_cells]) & (marker[relations.ratio_cells] != "c")
    percentages = shown_percentages(tidy, relations)
    lower, upper = integer_percentage_bounds(percentages, lower, upper)
    system = relations.system.stack(
        ratio_threshold_rows(relations, shown_ratio, policy.median_records, policy.ratio_threshold)
    ).stack(percentage_rows(percentages))
    suppressed = np.zeros(relations.n_figures, dtype=bool)
    suppressed[relations.cell_figure[is_count & (marker == "c")]] = True
    figures = relations.figures.select([pl.col(c).cast(pl.Utf8).fill_null("") for c in KEY_COLUMNS])
    return ReleaseLP(identifier, policy, figures, lower, upper, system, suppressed, ledger)


def earlier_lp(release: EarlierRelease) -> ReleaseLP:
    folder = release.folder
    return release_lp(
        folder,
        folder / f"{release.identifier}.csv",
        release.identifier,
        read_policy(folder),
        release.ledger,
    )


def _shifted(system: LinearSystem, offset: int) -> LinearSystem:
    return LinearSystem(
        system.indptr, system.index + offset, system.coef, system.row_lower, system.row_upper
    )


def _links(releases: list[ReleaseLP], offsets: list[int]) -> LinearSystem:
    """x_A - x_B = 0 for every figure whose unrounded value is the same in two releases
    (each linked to the first of its key and value)."""
    parts = []
    for release, offset in zip(releases, offsets, strict=True):
        if release.ledger is None:
            continue
        parts.append(
            release.figures.with_row_index("_figure")
            .with_columns((pl.col("_figure").cast(pl.Int64) + offset).alias("_global"))
            .join(release.ledger.select(*KEY_COLUMNS, "value"), on=list(KEY_COLUMNS))
            .select(*KEY_COLUMNS, pl.col("value").fill_null(0.0), "_global")
        )
    if not parts:
        return LinearSystem.empty()
    together = pl.concat(parts).sort("_global")
    first = pl.col("_global").first().over([*KEY_COLUMNS, "value"])
    pairs = together.with_columns(first.alias("_first")).filter(
        pl.col("_global") != pl.col("_first")
    )
    n = pairs.height
    if n == 0:
        return LinearSystem.empty()
    index = np.empty(2 * n, dtype=np.int64)
    index[0::2] = pairs["_global"].to_numpy()
    index[1::2] = pairs["_first"].to_numpy()
    coef = np.tile([1.0, -1.0], n)
    return LinearSystem(
        np.arange(0, 2 * n + 1, 2, dtype=np.int64), index, coef, np.zeros(n), np.zeros(n)
    )


def _statuses(
    system: LinearSystem,
    lower: np.ndarray,
    upper: np.ndarray,
    suppressed: np.ndarray,
    policy: Policy,
) -> np.ndarray:
    """The audit's status of every suppressed figure ("" for the others)."""
    targets = np.flatnonzero(suppressed)
    status = np.full(len(lower), "", dtype=object)
    if targets.size == 0:
        return status
    intervals = feasible_intervals(system, lower, upper, targets)
    low, high = integer_interval(intervals.lower, intervals.upper)
    low[intervals.infeasible], high[intervals.infeasible] = np.nan, np.nan
    trivial = trivial_lower_bounds(system, lower, upper, suppressed)
    status[targets] = interval_status(
        low[targets],
        high[targets],
        policy.protection_upper,
        None,
        may_be_small_below=policy.small_below,
        trivial_lower=trivial[targets] if policy.suppresses_across_tables else None,
    )
    return status


@dataclass(frozen=True)
class Union:
    """The releases side by side as one system, with their links."""

    releases: list[ReleaseLP]
    offsets: list[int]
    system: LinearSystem
    links: int
    lower: np.ndarray
    upper: np.ndarray
    suppressed: np.ndarray


@dataclass(frozen=True)
class SeriesAudit:
    """The audit over the union of the releases."""

    union: Union
    releases: tuple[str, ...]  # the earlier releases audited with this one
    suppressed: int  # suppressed counts over all the releases
    exact: int  # of them, worked out exactly from the union
    narrow: int  # narrowed below their protection interval
    revealed: int  # exact or narrow in the union but not in their release alone
    linked: int  # relations "same cell, unchanged" between releases
    passed: bool
    summary: str
    # the failing figures, numbered across the union (this release's first)
    failing: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def union_of(releases: list[ReleaseLP]) -> Union:
    offsets = list(np.cumsum([0, *(len(r.lower) for r in releases)])[:-1].astype(int))
    system = LinearSystem.empty()
    for release, offset in zip(releases, offsets, strict=True):
        system = system.stack(_shifted(release.system, offset))
    links = _links(releases, offsets)
    return Union(
        releases,
        offsets,
        system.stack(links),
        links.n_rows,
        np.concatenate([r.lower for r in releases]),
        np.concatenate([r.upper for r in releases]),
        np.concatenate([r.suppressed for r in releases]),
    )


def audit_across_releases(
    current: ReleaseLP,
    earlier: list[EarlierRelease],
    earlier_lps: list[ReleaseLP] | None = None,
    compare_alone: bool = True,
) -> SeriesAudit:
    """Audit `current` and the earlier releases together (see the module's docstring).

    `compare_alone`: also audit each release alone, to count what only the union reveals
    (`revealed`); off for the suppression's own checks."""
    releases = [current, *(earlier_lps or [earlier_lp(release) for release in earlier])]
    joined = union_of(releases)
    union, lower, upper, suppressed = joined.system, joined.lower, joined.upper, joined.suppressed
    policy = current.policy
    together = _statuses(union, lower, upper, suppressed, policy)
    alone = (
        np.concatenate(
            [_statuses(r.system, r.lower, r.upper, r.suppressed, r.policy) for r in releases]
        )
        if compare_alone
        else together
    )
    hidden = suppressed
    failing = hidden & (together != "ok")
    worse = (
        hidden
        & (together != alone)
        & (
            ((together == "exact") & (alone != "exact"))
            | ((together == "narrow") & (alone == "ok"))
        )
    )
    n_exact = int((hidden & (together == "exact")).sum())
    n_narrow = int((hidden & (together == "narrow")).sum())
    n_infeasible = int((hidden & (together == "infeasible")).sum())
    passed = not failing.any() if policy.suppresses_across_tables else n_infeasible == 0
    names = tuple(r.identifier for r in releases[1:])
    summary = series_summary(
        policy,
        names,
        int(hidden.sum()),
        n_exact,
        n_narrow,
        n_infeasible,
        int(worse.sum()),
        passed,
    )
    return SeriesAudit(
        joined,
        names,
        int(hidden.sum()),
        n_exact,
        n_narrow,
        int(worse.sum()),
        joined.links,
        passed,
        summary,
        np.flatnonzero(failing),
    )


def series_summary(
    policy: Policy,
    earlier: tuple[str, ...],
    suppressed: int,
    exact: int,
    narrow: int,
    infeasible: int,
    revealed: int,
    passed: bool,
) -> str:
    """The union audit in one line (counts only: the audit's public output).

    >>> from publish.disclosure.policy import make_policy
    >>> series_summary(make_policy("strict"), ("did-a",), 12, 0, 0, 0, 0, True)
    'Across releases (this and did-a): passed: none of the 12 suppressed counts of the releases can be worked out or narrowed below its protection interval from all of them together.'
    >>> series_summary(make_policy("did"), ("did-a", "did-b"), 12, 3, 1, 0, 2, True)
    'Across releases (this and 2 earlier: did-a, did-b): of the 12 suppressed counts of the releases, an outsider holding all of them can work out 3 exactly and narrow 1 more; 2 of these only with more than one release.'
    """
    which = earlier[0] if len(earlier) == 1 else f"{len(earlier)} earlier: {', '.join(earlier)}"
    head = f"Across releases (this and {which}): "
    contradiction = (
        f"; {infeasible} in relations the releases contradict: FAILED" if infeasible else ""
    )
    if policy.suppresses_across_tables:
        if passed:
            return (
                f"{head}passed: none of the {suppressed} suppressed counts of the releases "
                "can be worked out or narrowed below its protection interval from all of "
                "them together."
            )
        return (
            f"{head}FAILED: of the {suppressed} suppressed counts of the releases, an "
            f"outsider holding all of them can work out {exact} exactly and narrow "
            f"{narrow} more below the protection interval ({revealed} of these only with "
            f"more than one release){contradiction}."
        )
    return (
        f"{head}of the {suppressed} suppressed counts of the releases, an outsider holding "
        f"all of them can work out {exact} exactly and narrow {narrow} more; {revealed} of "
        f"these only with more than one release{contradiction}."
    )


# Rounds of more suppression the strict build may add for the union audit to pass.
MAX_WIDENING_ROUNDS = 8


def _published_text(protected: pl.DataFrame) -> pl.DataFrame:
    """Protected cells as the audit reads published ones: key, value and marker as text."""
    value = pl.col("value").cast(pl.Float64)
    return protected.select(
        *[pl.col(c).cast(pl.Utf8).fill_null("") for c in KEY_COLUMNS],
        pl.when(value.is_null())
        .then(pl.lit(""))
        .when(value.round(0) == value)
        .then(value.cast(pl.Int64).cast(pl.Utf8))
        .otherwise(value.round(1).cast(pl.Utf8))
        .alias("value"),
        pl.col("marker").cast(pl.Utf8).fill_null(""),
    )


def shown_neighbours(joined: Union, failing: np.ndarray, depth: int = 2) -> np.ndarray:
    """This release's shown counts (of at least 1) in the relations of the failing
    figures, reached through unknown figures only, up to `depth` relations away: the
    figures whose suppression widens the failing ones' intervals."""
    system = joined.system
    n_current = len(joined.releases[0].lower)
    entry_row = system.entry_row
    order = np.argsort(system.index, kind="stable")
    by_figure = np.searchsorted(system.index[order], np.arange(len(joined.lower) + 1))
    known = joined.lower == joined.upper
    seen = np.zeros(len(joined.lower), dtype=bool)
    seen[failing] = True
    frontier = np.asarray(failing, dtype=np.int64)
    found: set[int] = set()
    for _ in range(depth):
        rows = (
            np.unique(
                entry_row[
                    np.concatenate([order[by_figure[f] : by_figure[f + 1]] for f in frontier])
                ]
            )
            if frontier.size
            else np.zeros(0, dtype=np.int64)
        )
        if rows.size == 0:
            break
        members = np.unique(
            np.concatenate([system.index[system.indptr[r] : system.indptr[r + 1]] for r in rows])
        )
        members = members[~seen[members]]
        seen[members] = True
        shown_here = members[known[members] & (members < n_current) & (joined.lower[members] >= 1)]
        found.update(shown_here.tolist())
        frontier = members[~known[members]]
    return np.asarray(sorted(found), dtype=np.int64)


def protect_across_releases(
    cells: pl.DataFrame,
    policy: Policy,
    earlier: list[EarlierRelease],
    ledger: pl.DataFrame,
    protect,
) -> pl.DataFrame:
    """This release's cells protected under the policy, knowing the earlier releases.

    Under `strict`: the cells the earlier releases suppressed and that are unchanged are
    suppressed again (`kept_suppressions`); then, while the union of the releases fails
    the audit, the shown counts in the relations of its failing figures are suppressed
    too (as kept cells, with the secondary suppression made again around them), up to
    MAX_WIDENING_ROUNDS. The build's own union audit, on the published files, decides.
    `protect` is `publish.disclosure.protect.protect_cells`."""
    kept = kept_suppressions(cells, earlier, policy)
    protected = protect(cells, policy, kept)
    if kept is None or not policy.audit_stops_build:
        return protected
    earlier_lps = [earlier_lp(release) for release in earlier]
    key = list(KEY_COLUMNS)
    keyed = cells.select([pl.col(c).cast(pl.Utf8).fill_null("") for c in key]).with_row_index(
        "_row"
    )
    for _ in range(MAX_WIDENING_ROUNDS):
        current = cells_lp(_published_text(protected), "this release", policy, ledger)
        audit = audit_across_releases(current, earlier, earlier_lps, compare_alone=False)
        if audit.passed:
            break
        more = shown_neighbours(audit.union, audit.failing)
        if more.size == 0:
            break
        rows = keyed.join(current.figures[more.tolist()], on=key)["_row"].to_numpy()
        widened = kept.to_numpy().copy()
        widened[rows] = True
        kept = pl.Series("kept", widened)
        log.info(
            "strict across releases: %d more count(s) suppressed for the union of releases",
            more.size,
        )
        protected = protect(cells, policy, kept)
    return protected


def main_audit_across_releases(publication_dir: Path, previous: tuple[Path, ...]) -> int:
    """`did-publish audit DIR --previous DIR ...`: the union audit's line; 0 passed, 1
    failed. The ledgers beside the releases say which cells are unchanged; without them
    no figure of two releases is known to be the same (said)."""
    publication = read_release(Path(publication_dir))
    earlier = read_earlier_releases(
        previous, publication.identifier, publication.latest_month, publication.status
    )
    if not earlier:
        print("Across releases: no earlier release of the series given.")
        return 0
    if publication.ledger is None:
        log.warning(
            "%s: no ledger beside it: no cell is known to be unchanged since an earlier release",
            publication.identifier,
        )
    current = release_lp(
        publication.folder,
        publication.folder / f"{publication.identifier}.csv",
        publication.identifier,
        read_policy(publication.folder),
        publication.ledger,
    )
    report = audit_across_releases(current, earlier)
    print(report.summary)
    return 0 if report.passed else 1
