"""The disclosure audit (PUBLICATION.md section 4): `did-publish audit DIR`.

From the published tidy CSV alone, the audit rebuilds the relations between counts
(`publish.disclosure.build_relations`), reads every figure as an attacker would under
the publication's policy, and computes by linear programming the lowest and highest
whole value each suppressed count can take. It writes `quality/disclosure-audit.csv`
(cell, lower, upper, status) and a one-line summary.

How the attacker reads a figure:

| policy | shown v (below England) | shown v (England) | `c` | shown median |
|---|---|---|---|---|
| did | 0 -> 0; v -> [v-2, v+2] | [v-2, v+2], at least 0 | [1, 2] | >= 3 records |
| hes | 0 -> 0; v -> [v-2, v+2] | exactly v | [1, 7] | >= 8 records |
| strict | exactly v | exactly v | [1, inf) | >= k records |

`x` (nothing submitted) is 0. Under `strict` a shown percentage also means at least k
records. A cell is `exact` when one value is left, `narrow` when its interval does not
cover the protection interval ([1, 2] did, [1, 7] hes, [1, k-1] strict; or, with
`protection_width`, spans less than that width). The CSV cannot tell primary from
secondary cells, so under `strict` a suppressed cell is held to the protection interval
whenever it may hold a count below k (its lowest possible value is below k); a cell that
is certainly k or more only has to be not exact. Under `did` and `hes` exact and narrow
cells are reported as figures, not failures; under `strict` any fails the audit. A
publication that contradicts its own relations (`infeasible`) fails under every policy.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from publish.disclosure import (
    KEY_COLUMNS,
    build_relations,
    feasible_intervals,
    figure_label,
    integer_interval,
    interval_status,
    ratio_threshold_rows,
)

POLICIES = ("did", "hes", "strict")
DEFAULT_POLICY = "did"
DEFAULT_K = 10
# Largest suppressed count under each rounding policy.
SUPPRESSED_UP_TO = {"did": 2, "hes": 7}
# A shown median means at least this many records.
MEDIAN_RECORDS = {"did": 3, "hes": 8}
AUDIT_COLUMNS = ("cell", "lower", "upper", "status")


@dataclass(frozen=True)
class AuditReport:
    policy: str
    k: int | None
    suppressed: int
    exact: int
    narrow: int
    infeasible: int
    passed: bool
    summary: str
    # One row per suppressed count: cell, lower, upper, status.
    cells: pl.DataFrame


def read_policy(publication_dir: Path) -> tuple[str, int | None]:
    """(policy, k) from the publication's manifest.json; did when there is none."""
    manifest_path = publication_dir / "manifest.json"
    if not manifest_path.exists():
        return DEFAULT_POLICY, None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
    policy = manifest.get("policy") or config.get("policy") or DEFAULT_POLICY
    k = manifest.get("k", config.get("k"))
    if policy not in POLICIES:
        raise ValueError(f"{manifest_path}: unknown policy {policy!r}, expected one of {POLICIES}")
    return policy, (int(k) if k is not None else None)


def attacker_bounds(
    policy: str, geography_level: np.ndarray, marker: np.ndarray, value: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """What each published count tells the attacker on its own: (lower, upper).

    >>> geo = np.array(["provider", "provider", "england", "provider", "provider", "region"])
    >>> marker = np.array(["", "", "", "c", "x", "z"])
    >>> value = np.array([0.0, 15, 0, np.nan, np.nan, np.nan])
    >>> [b.tolist() for b in attacker_bounds("did", geo, marker, value)]
    [[0.0, 13.0, 0.0, 1.0, 0.0, 0.0], [0.0, 17.0, 2.0, 2.0, 0.0, inf]]
    >>> [b.tolist() for b in attacker_bounds("hes", geo, marker, value)]
    [[0.0, 13.0, 0.0, 1.0, 0.0, 0.0], [0.0, 17.0, 0.0, 7.0, 0.0, inf]]
    >>> [b.tolist() for b in attacker_bounds("strict", geo, marker, value)]
    [[0.0, 15.0, 0.0, 1.0, 0.0, 0.0], [0.0, 15.0, 0.0, inf, 0.0, inf]]
    >>> [b.tolist() for b in attacker_bounds("did", geo[:0], marker[:0], value[:0])]
    [[], []]
    """
    shown = ~np.isnan(value)
    v = np.nan_to_num(value, nan=0.0)
    england = geography_level == "england"
    if policy == "strict":
        exact = shown
    elif policy == "hes":
        exact = shown & (england | (v == 0))
    else:  # did: England is rounded too, and a shown 0 there may be 1 or 2
        exact = shown & ~england & (v == 0)
    lower = np.where(exact, v, np.maximum(v - 2, 0.0))
    upper = np.where(exact, v, v + 2)
    suppressed = marker == "c"
    lower = np.where(suppressed, 1.0, lower)
    upper = np.where(suppressed, float(SUPPRESSED_UP_TO.get(policy, np.inf)), upper)
    not_available = ~shown & (marker == "x")
    unknown = ~shown & ~suppressed & ~not_available
    lower = np.where(not_available | unknown, 0.0, lower)
    upper = np.where(not_available, 0.0, np.where(unknown, np.inf, upper))
    return lower, upper


def audit_publication(
    publication_dir: Path,
    k: int | None = None,
    protection_width: int | None = None,
    csv_path: Path | None = None,
) -> AuditReport:
    """Audit `<dir>/<dir name>.csv`; write `<dir>/quality/disclosure-audit.csv`.

    `csv_path` names the tidy CSV when the folder is not yet under its final name (the
    build audits its own output before it publishes it).
    """
    publication_dir = Path(publication_dir)
    csv_path = csv_path or publication_dir / f"{publication_dir.name}.csv"
    if not csv_path.exists():
        raise FileNotFoundError(f"{csv_path}: no published tidy CSV")
    policy, manifest_k = read_policy(publication_dir)
    k = k or manifest_k or DEFAULT_K
    tidy = pl.read_csv(csv_path, infer_schema=False).with_columns(
        pl.all().fill_null(""),
    )
    missing = [c for c in (*KEY_COLUMNS, "value", "marker") if c not in tidy.columns]
    if missing:
        raise ValueError(f"{csv_path}: missing columns {missing}")
    value = (
        tidy["value"].str.strip_chars().replace("", None).cast(pl.Float64, strict=False)
    ).to_numpy()
    marker = tidy["marker"].to_numpy().astype(str)
    relations = build_relations(tidy)
    is_count = relations.cell_figure >= 0
    figure = relations.cell_figure[is_count]

    # each figure: what all its cells say at once
    cell_lower, cell_upper = attacker_bounds(
        policy,
        tidy["geography_level"].to_numpy().astype(str)[is_count],
        marker[is_count],
        value[is_count],
    )
    lower = np.zeros(relations.n_figures)
    upper = np.full(relations.n_figures, np.inf)
    np.maximum.at(lower, figure, cell_lower)
    np.minimum.at(upper, figure, cell_upper)

    records = k if policy == "strict" else MEDIAN_RECORDS[policy]
    shown_ratio = ~np.isnan(value[relations.ratio_cells]) & (marker[relations.ratio_cells] != "c")
    system = relations.system.stack(
        ratio_threshold_rows(relations, shown_ratio, records, k if policy == "strict" else 0)
    )
    suppressed_cell = is_count & (marker == "c")
    suppressed_figure = relations.cell_figure[suppressed_cell]
    intervals = feasible_intervals(system, lower, upper, np.unique(suppressed_figure))
    low, high = integer_interval(intervals.lower, intervals.upper)
    low[intervals.infeasible], high[intervals.infeasible] = np.nan, np.nan

    protect_upper = k - 1 if policy == "strict" else SUPPRESSED_UP_TO[policy]
    status = interval_status(
        low[suppressed_figure],
        high[suppressed_figure],
        protect_upper,
        protection_width,
        may_be_small_below=k if policy == "strict" else np.inf,
    )
    rows = tidy.filter(pl.Series(suppressed_cell))
    cells = pl.DataFrame(
        {
            "cell": [figure_label(row) for row in rows.select(KEY_COLUMNS).iter_rows(named=True)],
            "lower": _format_bounds(low[suppressed_figure]),
            "upper": _format_bounds(high[suppressed_figure]),
            "status": status.tolist(),
        },
        schema={c: pl.Utf8 for c in AUDIT_COLUMNS},
    )
    quality = publication_dir / "quality"
    quality.mkdir(parents=True, exist_ok=True)
    cells.write_csv(quality / "disclosure-audit.csv")

    n_exact = int((status == "exact").sum())
    n_narrow = int((status == "narrow").sum())
    n_infeasible = int((status == "infeasible").sum())
    if policy == "strict":
        passed = n_exact == 0 and n_narrow == 0 and n_infeasible == 0
    else:
        passed = n_infeasible == 0
    protection = (
        f"a width of {protection_width}"
        if protection_width is not None
        else f"[1, {protect_upper}]"
    )
    summary = (
        f"Disclosure audit ({policy}{f', k={k}' if policy == 'strict' else ''}): "
        f"{status.size} suppressed counts, {n_exact} exactly recoverable, {n_narrow} "
        f"narrower than the protection interval {protection}"
        + (
            f", {n_infeasible} in relations the published figures contradict"
            if n_infeasible
            else ""
        )
        + (" (figures, not failures)" if policy != "strict" else "")
        + f": {'passed' if passed else 'FAILED'}."
    )
    return AuditReport(
        policy=policy,
        k=k if policy == "strict" else None,
        suppressed=int(status.size),
        exact=n_exact,
        narrow=n_narrow,
        infeasible=n_infeasible,
        passed=passed,
        summary=summary,
        cells=cells,
    )


def _format_bounds(bounds: np.ndarray) -> list[str]:
    """Whole numbers as text; inf for unbounded; empty when unknown.

    >>> _format_bounds(np.array([1.0, np.inf, np.nan]))
    ['1', 'inf', '']
    """
    return ["" if np.isnan(b) else "inf" if np.isinf(b) else str(int(b)) for b in bounds]


def main_audit(publication_dir: Path | str) -> int:
    """`did-publish audit DIR`: print the summary; 0 passed, 1 failed, 2 input error."""
    try:
        report = audit_publication(Path(publication_dir))
    except (FileNotFoundError, ValueError, pl.exceptions.PolarsError) as error:
        print(f"did-publish audit: {error}", file=sys.stderr)
        return 2
    print(report.summary)
    return 0 if report.passed else 1
