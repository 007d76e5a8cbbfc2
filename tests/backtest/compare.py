"""Back test, part 2: compare our tidy CSV with NHS England's published tables.

Every published provider cell of tables 1, 2 and 3 (provider-region-modality-month)
and of table 11 (provider-region-modality-source setting, the year) is looked up in our
tidy CSV and compared:

- published "*" (1-2 records, suppressed) equals our marker `c`;
- published "" (no data) equals our 0, or our `x` (nothing submitted) or `z` (a
  median of no tests);
- a published number equals our value with no marker (counts are both rounded to 5;
  medians compared as numbers, so "2.5" = "2.5" and "3" = "3").

Our provider cells of those tables that have no published counterpart are reported
too (kind "extra") unless they are empty-equivalent (0, x, z): records counted where
NHS England had none.

    python -m tests.backtest.compare PUBLISHED_DIR OUR_TIDY.csv [--providers NT4,RR8]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.backtest.generate import (  # noqa: E402
    PUBLISHED_FILES,
    PUBLISHED_TOTAL,
    YEAR_TO_DATE,
)

MEASURES = {
    "1": "activity_count",
    "2": "median_days_request_to_test",
    "3": "median_days_test_to_report",
    "11": "activity_count",
}
KEY = ["table", "region_code", "provider_code", "modality", "column"]


@dataclass
class Comparison:
    cells_compared: dict[str, int]  # table -> published provider cells compared
    mismatches: pl.DataFrame  # KEY + published, value, marker, kind

    @property
    def total_compared(self) -> int:
        return sum(self.cells_compared.values())

    def report(self, limit: int = 20) -> str:
        per_table = ", ".join(f"table {t}: {n}" for t, n in self.cells_compared.items())
        lines = [
            f"{self.total_compared} published provider cells compared ({per_table}); "
            f"{self.mismatches.height} mismatches"
        ]
        if self.mismatches.height:
            with pl.Config(tbl_rows=limit, tbl_cols=-1, tbl_width_chars=200, fmt_str_lengths=40):
                lines.append(str(self.mismatches.head(limit)))
        return "\n".join(lines)


def published_cells(published_dir: Path, providers: set[str] | None = None) -> pl.DataFrame:
    """Provider cells of tables 1, 2, 3 (by month) and 11 (by source setting)."""
    parts = []
    for table in ("1", "2", "3", "11"):
        frame = pl.read_csv(Path(published_dir) / PUBLISHED_FILES[table], infer_schema=False)
        column = "source_setting" if table == "11" else "month"
        frame = frame.filter(pl.col("org_code") != "-")
        if providers is not None:
            frame = frame.filter(pl.col("org_code").is_in(sorted(providers)))
        parts.append(
            frame.select(
                pl.lit(table).alias("table"),
                "region_code",
                pl.col("org_code").alias("provider_code"),
                "modality",
                pl.col(column).replace(PUBLISHED_TOTAL, "All").alias("column"),
                pl.col("value_as_published").fill_null("").str.strip_chars().alias("published"),
            )
        )
    return pl.concat(parts)


def our_cells(tidy_csv: Path) -> pl.DataFrame:
    """Our provider cells of tables 1-3 (months) and 11 (year), keyed like the published."""
    tidy = pl.read_csv(tidy_csv, infer_schema=False).with_columns(
        pl.col("value", "marker").fill_null("")
    )
    monthly = tidy.filter(
        pl.col("table").is_in(["1", "2", "3"])
        & (pl.col("geography_level") == "provider")
        & (pl.col("source_setting") == "All")
        & ~pl.col("period").str.contains("/")
        & (pl.col("measure") == pl.col("table").replace_strict(MEASURES, default=""))
    ).with_columns(pl.col("period").alias("column"))
    annual = tidy.filter(
        (pl.col("table") == "11")
        & (pl.col("geography_level") == "provider")
        & (pl.col("period") == YEAR_TO_DATE)
        & (pl.col("measure") == MEASURES["11"])
    ).with_columns(pl.col("source_setting").alias("column"))
    return pl.concat([monthly, annual]).select(*KEY, "value", "marker")


def cells_equal(published: pl.Expr, value: pl.Expr, marker: pl.Expr) -> pl.Expr:
    """The comparison rules of the module docstring, as one boolean expression."""
    number = published.cast(pl.Float64, strict=False)
    ours = value.cast(pl.Float64, strict=False)
    return (
        pl.when(published == "*")
        .then(marker == "c")
        .when(published == "")
        .then(((marker == "") & (ours == 0)) | marker.is_in(["x", "z"]))
        .otherwise((marker == "") & (ours == number))
        .fill_null(False)
    )


def compare(
    published_dir: Path, tidy_csv: Path, providers: list[str] | set[str] | None = None
) -> Comparison:
    """Compare every published provider cell (of the providers given, default all)."""
    wanted = set(providers) if providers is not None else None
    published = published_cells(published_dir, wanted)
    ours = our_cells(tidy_csv)
    if wanted is not None:
        ours = ours.filter(pl.col("provider_code").is_in(sorted(wanted)))
    joined = published.join(ours, on=KEY, how="full", coalesce=True)
    checked = joined.with_columns(
        pl.when(pl.col("published").is_null())
        .then(pl.lit("extra"))
        .when(pl.col("value").is_null() & pl.col("marker").is_null())
        .then(pl.lit("missing"))
        .otherwise(pl.lit("different"))
        .alias("kind"),
        pl.col("value", "marker").fill_null(""),
    ).with_columns(
        pl.when(pl.col("kind") == "extra")
        .then(cells_equal(pl.lit(""), pl.col("value"), pl.col("marker")))
        .when(pl.col("kind") == "missing")
        .then(pl.col("published") == "")
        .otherwise(cells_equal(pl.col("published"), pl.col("value"), pl.col("marker")))
        .alias("equal")
    )
    mismatches = (
        checked.filter(~pl.col("equal"))
        .select(*KEY, "published", "value", "marker", "kind")
        .sort("table", "region_code", "provider_code", "modality", "column")
    )
    counts = published.group_by("table").len()
    compared = {t: 0 for t in ("1", "2", "3", "11")} | dict(counts.iter_rows())
    return Comparison(compared, mismatches)


def check_rejections(expected_csv: Path, quarantine_csv: Path) -> pl.DataFrame:
    """Records the generator made invalid vs the build's quarantine, by file and row.

    Returns the disagreements: a record expected to be rejected that is not in the
    quarantine or lacks its rule code ("not rejected"), and a quarantined record that
    was meant to count ("rejected in error").
    """
    expected = pl.read_csv(expected_csv, infer_schema=False)
    quarantine = pl.read_csv(quarantine_csv, infer_schema=False).select(
        "source_file", "row_number", "rule_codes"
    )
    joined = expected.join(quarantine, on=["source_file", "row_number"], how="full", coalesce=True)
    return joined.with_columns(
        pl.when(pl.col("rule_code").is_null())
        .then(pl.lit("rejected in error"))
        .when(pl.col("rule_codes").is_null())
        .then(pl.lit("not rejected"))
        .when(~pl.col("rule_codes").str.split(" ").list.contains(pl.col("rule_code")))
        .then(pl.lit("rejected without its rule"))
        .alias("problem")
    ).filter(pl.col("problem").is_not_null())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("published", type=Path, help="folder of the did-2023-24-*.csv files")
    parser.add_argument("tidy", type=Path, help="our tidy CSV")
    parser.add_argument("--providers", help="comma-separated org codes (default: all)")
    args = parser.parse_args(argv)
    providers = args.providers.split(",") if args.providers else None
    result = compare(args.published, args.tidy, providers)
    print(result.report())
    return 1 if result.mismatches.height else 0


if __name__ == "__main__":
    raise SystemExit(main())
