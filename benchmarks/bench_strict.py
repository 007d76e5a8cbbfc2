"""Benchmark: strict suppression and its audit on a national-shaped synthetic year.

About 200 provider-region rows in the 7 regions x 9 modalities x 12 months + year to
date (table 1) and x 7 source settings + All (table 11), counts drawn from a skewed
distribution with many small ones. Prints the times and the share of count cells
suppressed, primary and secondary.

    python benchmarks/bench_strict.py [--providers 200] [--seed 1] [--k 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from publish.audit import audit_publication  # noqa: E402
from publish.codes import MODALITIES, REGIONS, TABLE11_SOURCE_SETTINGS  # noqa: E402
from publish.disclosure import apply_strict, small_count_mask  # noqa: E402
from publish.publication import months_of_year_to_date  # noqa: E402
from publish.tables import TIDY_COLUMNS  # noqa: E402

SETTINGS = [s for s in TABLE11_SOURCE_SETTINGS if s != "All"]


def inner_counts(
    n_providers: int, months: tuple[str, ...], rng: np.random.Generator
) -> pl.DataFrame:
    """Tests by provider x modality x month x source setting, skewed with many small."""
    regions = list(REGIONS)
    region_of = np.sort(rng.integers(0, len(regions), n_providers))
    size = rng.lognormal(0.0, 1.6, n_providers)  # provider size
    modality_share = np.array([8, 20, 1.5, 6, 0.3, 0.6, 40, 0.4, 0.3])
    setting_share = np.array([6, 0.6, 4, 12, 14, 0.5, 0.4])
    # some providers offer only some modalities
    offered = rng.random((n_providers, len(MODALITIES))) < np.array(
        [0.95, 1, 0.7, 0.9, 0.3, 0.5, 1, 0.3, 0.35]
    )
    mean = (
        20.0
        * size[:, None, None, None]
        * modality_share[None, :, None, None]
        * setting_share[None, None, None, :]
        / setting_share.sum()
        * offered[:, :, None, None]
        * rng.gamma(2.0, 0.5, (n_providers, len(MODALITIES), len(months), 1))
    )
    counts = rng.poisson(np.broadcast_to(mean, mean.shape[:2] + (len(months), len(SETTINGS))))
    p, m, t, s = np.indices(counts.shape).reshape(4, -1)
    return pl.DataFrame(
        {
            "region_code": np.array(regions)[region_of[p]],
            "provider_code": np.char.add("P", np.char.zfill(p.astype(str), 3)),
            "modality": np.array(MODALITIES)[m],
            "period": np.array(months)[t],
            "source_setting": np.array(SETTINGS)[s],
            "count": counts.reshape(-1),
        }
    )


def linked_cells(inner: pl.DataFrame, months: tuple[str, ...]) -> pl.DataFrame:
    """Tables 1 and 11 at England, region and provider level from the inner counts."""
    ytd = f"{months[0]}/{months[-1]}"
    levels = {
        "england": [],
        "region": ["region_code"],
        "provider": ["region_code", "provider_code"],
    }
    frames = []
    for level, keys in levels.items():
        t1 = inner.group_by(*keys, "modality", "period").agg(pl.col("count").sum())
        t1_ytd = inner.group_by(*keys, "modality").agg(pl.col("count").sum())
        t11 = inner.group_by(*keys, "modality", "source_setting").agg(pl.col("count").sum())
        blank = [pl.lit("").alias(c) for c in ("region_code", "provider_code") if c not in keys]
        frames += [
            frame.with_columns(*blank, geography_level=pl.lit(level))
            for frame in (
                t1.with_columns(table=pl.lit(1), source_setting=pl.lit("All")),
                t1_ytd.with_columns(
                    table=pl.lit(1), source_setting=pl.lit("All"), period=pl.lit(ytd)
                ),
                t11.with_columns(table=pl.lit(11), period=pl.lit(ytd)),
                t1_ytd.with_columns(
                    table=pl.lit(11), source_setting=pl.lit("All"), period=pl.lit(ytd)
                ),
            )
        ]
    cells = pl.concat([f.select(sorted(f.columns)) for f in frames], how="vertical_relaxed")
    return cells.select(
        pl.col("table").cast(pl.Int64),
        "geography_level",
        "region_code",
        pl.col("region_code").replace_strict(REGIONS, default="").alias("region_name"),
        "provider_code",
        pl.col("provider_code").alias("provider_name"),
        "modality",
        "source_setting",
        "period",
        pl.lit("activity_count").alias("measure"),
        pl.col("count").cast(pl.Float64).alias("value"),
        pl.col("count").cast(pl.Int64).alias("records"),
        pl.lit("").alias("marker"),
    ).sort(
        "table",
        "geography_level",
        "region_code",
        "provider_code",
        "modality",
        "source_setting",
        "period",
    )


def write_publication(protected: pl.DataFrame, directory: Path, policy: str, k: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    protected.with_columns(
        pl.col("value").map_elements(lambda v: f"{v:.15g}", return_dtype=pl.Utf8).fill_null("")
    ).select(TIDY_COLUMNS).write_csv(directory / f"{directory.name}.csv")
    (directory / "manifest.json").write_text(json.dumps({"policy": policy, "k": k}))


def timed(function, *args, **kwargs):
    """(result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def primary_only(cells: pl.DataFrame, k: int) -> pl.DataFrame:
    """The comparison: primary suppression alone."""
    small = pl.Series(small_count_mask(cells["value"].to_numpy(), k))
    return cells.with_columns(
        pl.when(small).then(None).otherwise(pl.col("value")).alias("value"),
        pl.when(small).then(pl.lit("c")).otherwise(pl.col("marker")).alias("marker"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--providers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    months = months_of_year_to_date("2025-03")
    rng = np.random.default_rng(args.seed)
    cells = linked_cells(inner_counts(args.providers, months, rng), months)
    primary = small_count_mask(cells["value"].to_numpy(), args.k)
    print(
        f"count cells: {cells.height} (tables 1 and 11, {args.providers} providers, "
        f"k={args.k}); zeros {(cells['value'] == 0).sum()}, primary {primary.sum()} "
        f"({primary.mean():.1%})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "did-2024-25-final-2025-03"
        write_publication(primary_only(cells, args.k), directory, "strict", args.k)
        report, wall, cpu = timed(audit_publication, directory)
        print(f"primary suppression alone: audit {wall:.1f} s ({cpu:.1f} s CPU)")
        print(f"  {report.summary}")

        protected, wall, cpu = timed(apply_strict, cells, k=args.k)
        suppressed = (protected["marker"] == "c").to_numpy()
        secondary = suppressed & ~primary
        print(f"strict: apply_strict {wall:.1f} s ({cpu:.1f} s CPU)")
        print(
            f"  suppressed {suppressed.sum()} ({suppressed.mean():.1%}): primary "
            f"{primary.sum()} ({primary.mean():.1%}), secondary {secondary.sum()} "
            f"({secondary.mean():.1%}, their values sum to "
            f"{cells['value'].to_numpy()[secondary].sum():.0f})"
        )
        write_publication(protected, directory, "strict", args.k)
        report, wall, cpu = timed(audit_publication, directory)
        print(f"strict: audit {wall:.1f} s ({cpu:.1f} s CPU)")
        print(f"  {report.summary}")


if __name__ == "__main__":
    main()
