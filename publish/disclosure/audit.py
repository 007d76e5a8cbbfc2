"""The disclosure audit (PUBLICATION.md section 4): `did-publish audit DIR`.

From the published figures alone (the tidy CSV and the data-quality report's CSVs:
`data-quality-by-provider.csv` and `provider-issues.csv`, read as the cells of table
`QUALITY_TABLE`), the audit rebuilds the relations between counts
(`publish.disclosure.control.build_relations`), reads every figure as an attacker would under
the publication's policy, and computes by linear programming the lowest and highest
whole value each suppressed count can take. Its public output is a summary: a line, and
the suppressed counts by table and status (`quality/disclosure-audit-summary.csv`,
written by the build). The cell-by-cell bounds (cell, lower, upper, status) would undo
the suppression (under `did`, "1, 1, exact" states what a `c` hides): they are written
only to the restricted folder (`<identifier>.restricted/disclosure-audit.csv`).

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

from publish.disclosure.control import (
    KEY_COLUMNS,
    Relations,
    build_relations,
    feasible_intervals,
    figure_label,
    fully_shown_months,
    integer_interval,
    integer_percentage_bounds,
    interval_reason,
    interval_status,
    percentage_rows,
    ratio_threshold_rows,
    shown_percentages,
    structural_lower_bounds,
    trivial_lower_bounds,
)
from publish.disclosure.policy import DEFAULT_K, DEFAULT_POLICY, Policy, UnknownPolicy, make_policy
from publish.tables import ALL_MONTHS, MANIFEST_TOTALS, QUALITY_TABLE, TABLES

AUDIT_COLUMNS = ("cell", "lower", "upper", "status", "trivial_lower", "reason")
SUMMARY_COLUMNS = ("table", "status", "cells")
AUDIT_FILE = "disclosure-audit.csv"  # in the restricted folder only
SUMMARY_FILE = "disclosure-audit-summary.csv"  # in the publication's quality/
QUALITY_LABEL = "data-quality report"  # the summary's name for table QUALITY_TABLE
ALL_TABLES = "all tables"  # the summary's totals over tables
STATUSES = ("ok", "narrow", "exact", "infeasible")


@dataclass(frozen=True)
class AuditReport:
    policy: str
    k: int | None
    suppressed: int
    exact: int
    narrow: int
    infeasible: int
    # shown (rounded) counts whose rounding the percentages undo: one value left
    rounding_undone: int
    passed: bool
    summary: str
    # One row per suppressed count: cell, lower, upper, status (restricted).
    cells: pl.DataFrame
    # Suppressed counts by table and status (public): SUMMARY_COLUMNS.
    by_table: pl.DataFrame
    meaning: str = ""  # what the policy allows, in words


def read_policy(publication_dir: Path, k: int | None = None) -> Policy:
    """The policy of the publication's manifest.json (did when there is none); `k`, when
    given, overrides the manifest's."""
    manifest_path = publication_dir / "manifest.json"
    if not manifest_path.exists():
        return make_policy(DEFAULT_POLICY, k or DEFAULT_K)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
    name = manifest.get("policy") or config.get("policy") or DEFAULT_POLICY
    manifest_k = manifest.get("k", config.get("k"))
    unprotected = config.get("secondary_suppression") is False
    try:
        return make_policy(
            name, k or (int(manifest_k) if manifest_k is not None else DEFAULT_K), not unprotected
        )
    except UnknownPolicy as error:
        raise ValueError(f"{manifest_path}: {error}") from None


def attacker_bounds(
    policy: Policy, geography_level: np.ndarray, marker: np.ndarray, value: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """What each published count tells the attacker on its own: (lower, upper).

    >>> geo = np.array(["provider", "provider", "england", "provider", "provider", "region"])
    >>> marker = np.array(["", "", "", "c", "x", "z"])
    >>> value = np.array([0.0, 15, 0, np.nan, np.nan, np.nan])
    >>> did, hes, strict = make_policy("did"), make_policy("hes"), make_policy("strict")
    >>> [b.tolist() for b in attacker_bounds(did, geo, marker, value)]
    [[0.0, 13.0, 0.0, 1.0, 0.0, 0.0], [0.0, 17.0, 2.0, 2.0, 0.0, inf]]
    >>> [b.tolist() for b in attacker_bounds(hes, geo, marker, value)]
    [[0.0, 13.0, 0.0, 1.0, 0.0, 0.0], [0.0, 17.0, 0.0, 7.0, 0.0, inf]]
    >>> [b.tolist() for b in attacker_bounds(strict, geo, marker, value)]
    [[0.0, 15.0, 0.0, 1.0, 0.0, 0.0], [0.0, 15.0, 0.0, inf, 0.0, inf]]
    >>> [b.tolist() for b in attacker_bounds(did, geo[:0], marker[:0], value[:0])]
    [[], []]
    """
    shown = ~np.isnan(value)
    v = np.nan_to_num(value, nan=0.0)
    england = geography_level == "england"
    rounded = policy.rounding_half_width > 0
    # Below England a shown 0 is exact (small counts are suppressed, not rounded to 0);
    # at England it is exact unless England is rounded (did: a 0 there may be 1 or 2).
    exact = shown & np.where(england, not policy.rounds_england_counts, (v == 0) | (not rounded))
    half = policy.rounding_half_width
    lower = np.where(exact, v, np.maximum(v - half, 0.0))
    upper = np.where(exact, v, v + half)
    suppressed = marker == "c"
    lower = np.where(suppressed, 1.0, lower)
    upper = np.where(suppressed, float(policy.suppressed_up_to), upper)
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
    restricted_dir: Path | None = None,
    policy: Policy | None = None,
) -> AuditReport:
    """Audit the figures of `<dir>`: `<dir>/<dir name>.csv` and `<dir>/quality/`'s CSVs.

    `csv_path` names the tidy CSV when the folder is not yet under its final name (the
    build audits its own output before it publishes it). The cell-by-cell bounds go to
    `restricted_dir/disclosure-audit.csv` when it is given, and nowhere else: nothing is
    written in the publication folder. `policy`: the publication's (the build passes its
    own; default: the manifest's, with `k` when given).
    """
    publication_dir = Path(publication_dir)
    csv_path = csv_path or publication_dir / f"{publication_dir.name}.csv"
    if not csv_path.exists():
        raise FileNotFoundError(f"{csv_path}: no published tidy CSV")
    policy = policy or read_policy(publication_dir, k)
    unprotected = not policy.secondary_suppression
    k = policy.k
    tidy = read_published_cells(publication_dir, csv_path)
    relations, value, marker, lower, upper = published_bounds(tidy, policy)
    is_count = relations.cell_figure >= 0
    figure = relations.cell_figure[is_count]

    records = policy.median_records
    shown_ratio = ~np.isnan(value[relations.ratio_cells]) & (marker[relations.ratio_cells] != "c")
    # a shown percentage bounds its numerator and denominator to its published
    # precision; with whole counts, a rounded denominator often admits one value only
    percentages = shown_percentages(tidy, relations)
    was_exact = lower == upper
    lower, upper = integer_percentage_bounds(percentages, lower, upper)
    is_shown_figure = np.zeros(relations.n_figures, dtype=bool)
    is_shown_figure[figure[~np.isnan(value[is_count])]] = True
    rounding_undone = int((is_shown_figure & ~was_exact & (lower == upper)).sum())
    system = relations.system.stack(
        ratio_threshold_rows(relations, shown_ratio, records, policy.ratio_threshold)
    ).stack(percentage_rows(percentages))
    suppressed_cell = is_count & (marker == "c")
    suppressed_figure = relations.cell_figure[suppressed_cell]
    intervals = feasible_intervals(system, lower, upper, np.unique(suppressed_figure))
    low, high = integer_interval(intervals.lower, intervals.upper)
    low[intervals.infeasible], high[intervals.infeasible] = np.nan, np.nan
    is_suppressed_figure = np.zeros(relations.n_figures, dtype=bool)
    is_suppressed_figure[suppressed_figure] = True
    trivial = trivial_lower_bounds(system, lower, upper, is_suppressed_figure)

    protect_upper = policy.protection_upper
    width = protect_upper - 1 if protection_width is None else protection_width
    small_below = policy.small_below
    # under secondary suppression each cell's protection interval starts at its trivial
    # lower bound; under a cell-by-cell policy at 1
    from_trivial = policy.suppresses_across_tables
    if from_trivial:
        with np.errstate(invalid="ignore"):
            lifted = is_suppressed_figure & (low > trivial + 0.5) & (low < small_below)
        trivial = structural_lower_bounds(
            system, lower, upper, is_suppressed_figure, trivial, np.flatnonzero(lifted)
        )
    status = interval_status(
        low[suppressed_figure],
        high[suppressed_figure],
        protect_upper,
        protection_width,
        may_be_small_below=small_below,
        trivial_lower=trivial[suppressed_figure] if from_trivial else None,
    )
    rows = tidy.filter(pl.Series(suppressed_cell))
    cells = pl.DataFrame(
        {
            "cell": [figure_label(row) for row in rows.select(KEY_COLUMNS).iter_rows(named=True)],
            "lower": _format_bounds(low[suppressed_figure]),
            "upper": _format_bounds(high[suppressed_figure]),
            "status": status.tolist(),
            "trivial_lower": _format_bounds(trivial[suppressed_figure]),
            "reason": interval_reason(
                status,
                low[suppressed_figure],
                high[suppressed_figure],
                trivial[suppressed_figure] if from_trivial else np.ones(status.size),
                width,
                small_below,
            ),
        },
        schema={c: pl.Utf8 for c in AUDIT_COLUMNS},
    )
    if restricted_dir is not None:
        Path(restricted_dir).mkdir(parents=True, exist_ok=True)
        cells.write_csv(Path(restricted_dir) / AUDIT_FILE)

    n_exact = int((status == "exact").sum())
    n_narrow = int((status == "narrow").sum())
    n_infeasible = int((status == "infeasible").sum())
    if policy.suppresses_across_tables:
        passed = n_exact == 0 and n_narrow == 0 and n_infeasible == 0
    else:
        passed = n_infeasible == 0
    protection = (
        f"a width of {protection_width}"
        if protection_width is not None
        else f"[t, t + {width}] from each cell's trivial lower bound t"
        if from_trivial
        else f"[1, {protect_upper}]"
    )
    summary = caveats(
        summary_line(policy, int(status.size), n_exact, n_narrow, n_infeasible, protection, passed),
        rounding_undone,
        unprotected,
    )
    by_table = counts_by_table(rows["table"], status)
    return AuditReport(
        policy=policy.name,
        k=policy.manifest_k,
        suppressed=int(status.size),
        exact=n_exact,
        narrow=n_narrow,
        infeasible=n_infeasible,
        rounding_undone=rounding_undone,
        passed=passed,
        summary=summary,
        cells=cells,
        by_table=by_table,
        meaning=policy_meaning(policy),
    )


def read_published_cells(publication_dir: Path, csv_path: Path) -> pl.DataFrame:
    """Every published figure as text cells (KEY_COLUMNS, value, marker): the tidy CSV's
    and the data-quality report's."""
    tidy = pl.read_csv(csv_path, infer_schema=False).with_columns(
        pl.all().fill_null(""),
    )
    missing = [c for c in (*KEY_COLUMNS, "value", "marker") if c not in tidy.columns]
    if missing:
        raise ValueError(f"{csv_path}: missing columns {missing}")
    tidy = tidy.with_columns(table_keys(pl.col("table")))
    return pl.concat(
        [tidy.select(*KEY_COLUMNS, "value", "marker"), read_quality_figures(publication_dir)],
        how="vertical_relaxed",
    )


def table_keys(published: pl.Expr) -> pl.Expr:
    """A table as published ("7a") -> the catalog's key, as text (what the relations
    read); a table the catalog does not know stays as it is."""
    keys = {spec.published_number: str(spec.number) for spec in TABLES.values()}
    return published.replace(keys)


def caveats(summary: str, rounding_undone: int, unprotected: bool) -> str:
    """The summary line with what else the reader must know: rounded counts the
    percentages give back, and a build without secondary suppression."""
    if rounding_undone:
        summary += f" {rounding_undone} rounded counts given back exactly by their percentages."
    if unprotected:
        summary = (
            "NOT PROTECTED: built with secondary_suppression = false (primary suppression "
            "alone, for testing). " + summary
        )
    return summary


def counts_by_table(table: pl.Series, status: np.ndarray) -> pl.DataFrame:
    """The public summary (SUMMARY_COLUMNS): suppressed counts by table and status, the
    data-quality report by its name, then over all tables by status and in all."""
    table_of = table.cast(pl.Int64, strict=False)
    by_table = (
        pl.DataFrame({"table": table_of, "status": status.tolist()})
        .group_by("table", "status")
        .agg(pl.len().cast(pl.Int64).alias("cells"))
        .sort("table", "status")
        .with_columns(
            pl.when(pl.col("table") == QUALITY_TABLE)
            .then(pl.lit(QUALITY_LABEL))
            .otherwise(
                pl.col("table").replace_strict(
                    {spec.number: spec.published_number for spec in TABLES.values()},
                    default=pl.col("table").cast(pl.Utf8),
                    return_dtype=pl.Utf8,
                )
            )
            .alias("table")
        )
        .select(SUMMARY_COLUMNS)
    )
    # and over all tables, by status and in all: the figures of the summary line
    overall = pl.DataFrame(
        [(ALL_TABLES, name, int((status == name).sum())) for name in STATUSES]
        + [(ALL_TABLES, "any", int(status.size))],
        schema={"table": pl.Utf8, "status": pl.Utf8, "cells": pl.Int64},
        orient="row",
    )
    return pl.concat([by_table, overall], how="vertical_relaxed")


def summary_line(
    policy: Policy,
    suppressed: int,
    exact: int,
    narrow: int,
    infeasible: int,
    protection: str,
    passed: bool,
) -> str:
    """The audit in one line, saying plainly what the policy allows.

    >>> summary_line(make_policy("did"), 14, 3, 1, 0, "[1, 2]", True)  # doctest: +NORMALIZE_WHITESPACE
    "Disclosure audit (did): 14 suppressed counts; under the did policy an outsider can
    work out 3 of them exactly and narrow 1 more below [1, 2] (NHS England's rule allows
    it; --policy strict prevents it)."
    >>> summary_line(make_policy("strict", 10), 14, 0, 0, 0, "[1, 9]", True)  # doctest: +NORMALIZE_WHITESPACE
    'Disclosure audit (strict, k=10): passed: none of the 14 suppressed counts can be
    worked out or narrowed below the protection interval [1, 9] from the published figures.'
    """
    contradiction = (
        f"; {infeasible} in relations the published figures contradict: FAILED"
        if infeasible
        else ""
    )
    k = policy.k
    if policy.suppresses_across_tables:
        if passed:
            return (
                f"Disclosure audit (strict, k={k}): passed: none of the {suppressed} "
                f"suppressed counts can be worked out or narrowed below the protection "
                f"interval {protection} from the published figures."
            )
        return (
            f"Disclosure audit (strict, k={k}): FAILED: of the {suppressed} suppressed "
            f"counts, an outsider can work out {exact} exactly and narrow {narrow} more "
            f"below the protection interval {protection}{contradiction}."
        )
    return (
        f"Disclosure audit ({policy.name}): {suppressed} suppressed counts; under the "
        f"{policy.name} "
        f"policy an outsider can work out {exact} of them exactly and narrow {narrow} more "
        f"below {protection} ({policy.rule_owner} allows it; --policy strict prevents "
        f"it){contradiction}."
    )


def policy_meaning(policy: Policy) -> str:
    """What the audit's result means under the policy, in words (the quality report)."""
    k = policy.k
    if policy.suppresses_across_tables:
        return (
            f"Under the 'strict' policy the audit must pass: for every suppressed count, "
            f"the published figures (every table, and this report's counts), with every "
            f"relation between them that an outsider can know (totals over providers, "
            f"months and source settings, subsets, this report's totals and their link to "
            f"table 1), leave all the values of its protection interval (at least "
            f"{k - 1} values from its lowest possible one) possible. A build whose audit "
            f"fails is not published."
        )
    return (
        f"The '{policy.name}' policy ({policy.rule_owner}) suppresses small counts and rounds "
        f"the others, cell by cell; it does not stop an outsider from working out some "
        f"suppressed counts from the totals they add up to. The audit counts them (exact: "
        f"one value is left; narrow: fewer values than the protection interval) as "
        f"figures, not failures. The 'strict' policy suppresses further counts so that "
        f"none can be."
    )


def read_quality_figures(publication_dir: Path) -> pl.DataFrame:
    """The data-quality report's figures as cells (KEY_COLUMNS, value, marker; text).

    Both CSVs show the same figures (a provider issue's records received and counted
    are the provider-month's cells); a median of counts is not a count and is left out.
    No report (an older publication): no rows.
    """
    schema = {c: pl.Utf8 for c in (*KEY_COLUMNS, "value", "marker")}
    quality = publication_dir / "quality"
    parts = [pl.DataFrame(schema=schema)]
    by_provider = quality / "data-quality-by-provider.csv"
    if by_provider.exists():
        frame = pl.read_csv(by_provider, infer_schema=False).with_columns(pl.all().fill_null(""))
        parts.append(
            frame.select(
                pl.lit(str(QUALITY_TABLE)).alias("table"),
                "geography_level",
                "region_code",
                "provider_code",
                pl.lit("").alias("modality"),
                pl.lit("").alias("source_setting"),
                pl.col("month").alias("period"),
                "measure",
                "value",
                "marker",
            )
        )
    issues = quality / "provider-issues.csv"
    if issues.exists():
        frame = pl.read_csv(issues, infer_schema=False).with_columns(pl.all().fill_null(""))
        for measure, column in (
            ("count_records_received", "records_received"),
            ("count_records_counted", "records_counted"),
        ):
            parts.append(
                frame.select(
                    pl.lit(str(QUALITY_TABLE)).alias("table"),
                    pl.lit("provider").alias("geography_level"),
                    "region_code",
                    "provider_code",
                    pl.lit("").alias("modality"),
                    pl.lit("").alias("source_setting"),
                    pl.col("month").alias("period"),
                    pl.lit(measure).alias("measure"),
                    pl.col(column).alias("value"),
                    pl.col(f"{column}_marker").alias("marker"),
                )
            )
    parts.append(manifest_totals(publication_dir, schema))
    return pl.concat([p.select(list(schema)) for p in parts]).unique(maintain_order=True)


def manifest_totals(publication_dir: Path, schema: dict) -> pl.DataFrame:
    """England's record totals in `manifest.json` as the report's all-months cells: the
    manifest publishes them (superseded among them, which the report's CSVs do not
    show), so they are figures an outsider holds; a total the policy hides is null."""
    manifest_path = publication_dir / "manifest.json"
    if not manifest_path.exists():
        return pl.DataFrame(schema=schema)
    totals = json.loads(manifest_path.read_text(encoding="utf-8")).get("totals") or {}
    rows = [
        {
            "table": str(QUALITY_TABLE),
            "geography_level": "england",
            "region_code": "",
            "provider_code": "",
            "modality": "",
            "source_setting": "",
            "period": ALL_MONTHS,
            "measure": measure,
            "value": "" if totals[name] is None else str(totals[name]),
            "marker": "c" if totals[name] is None else "",
        }
        for name, measure in MANIFEST_TOTALS.items()
        if name in totals and (totals[name] is None or isinstance(totals[name], int | float))
    ]
    return pl.DataFrame(rows, schema=schema)


def published_bounds(
    tidy: pl.DataFrame, policy: Policy
) -> tuple[Relations, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Published cells (text) as an outsider reads them: their relations (under
    `strict`, the quality report's link to table 1 where table 1 shows every cell: see
    build_relations), each cell's value and marker, and each figure's lower and upper
    bound from what all its cells say at once."""
    value = (
        tidy["value"].str.strip_chars().replace("", None).cast(pl.Float64, strict=False)
    ).to_numpy()
    marker = tidy["marker"].to_numpy().astype(str)
    # the report's link where table 1 shows every cell: under strict its cells are
    # exact, so it folds to a constant; under a rounding policy it would join every
    # modality of the report's months into the LP (the did demo: 3.5 min, not 50 s)
    linked = (
        fully_shown_months(tidy, pl.col("marker") == "c")
        if policy.suppresses_across_tables
        else False
    )
    relations = build_relations(tidy, quality_link=linked)
    is_count = relations.cell_figure >= 0
    figure = relations.cell_figure[is_count]
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
    return relations, value, marker, lower, upper


def _format_bounds(bounds: np.ndarray) -> list[str]:
    """Whole numbers as text; inf for unbounded; empty when unknown.

    >>> _format_bounds(np.array([1.0, np.inf, np.nan]))
    ['1', 'inf', '']
    """
    return ["" if np.isnan(b) else "inf" if np.isinf(b) else str(int(b)) for b in bounds]


def restricted_beside(publication_dir: Path) -> Path:
    """`output/<identifier>.restricted`, beside `output/<identifier>`."""
    publication_dir = Path(publication_dir)
    return publication_dir.parent / f"{publication_dir.name}.restricted"


def main_audit(publication_dir: Path | str, restricted_dir: Path | str | None = None) -> int:
    """`did-publish audit DIR [--restricted DIR]`: print the summary by table and the
    line; 0 passed, 1 failed, 2 input error. The cell-by-cell bounds go to the restricted
    folder given, else to the one beside DIR when it exists; never into DIR."""
    publication_dir = Path(publication_dir)
    if restricted_dir is None and restricted_beside(publication_dir).is_dir():
        restricted_dir = restricted_beside(publication_dir)
    try:
        report = audit_publication(
            publication_dir, restricted_dir=Path(restricted_dir) if restricted_dir else None
        )
    except (FileNotFoundError, ValueError, pl.exceptions.PolarsError) as error:
        print(f"did-publish audit: {error}", file=sys.stderr)
        return 2
    for table, status, cells in report.by_table.iter_rows():
        print(f"  table {table}: {cells} {status}")
    print(report.summary)
    if restricted_dir:
        print(f"Cell-by-cell bounds: {Path(restricted_dir) / AUDIT_FILE} (restricted).")
    return 0 if report.passed else 1
