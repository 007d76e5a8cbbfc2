"""The relations of table 13 (report turnaround by quarter), for the suppression and the
audit (`publish.disclosure.control.build_relations` adds them to the others).

What an attacker knows of table 13 holds by construction of the table:
- geography: providers add up to their region, regions to England (the relations of
  every table, `_geography_pairs`);
- quarters: a row's two broad settings' totals in a quarter add up to table 1's months
  of that quarter (the same tests); over the quarters, a broad setting's totals add up
  to table 11's source settings in it, year to date. Both have several figures on each
  side, so they are written as rows of their own (`turnaround_rows`);
- proportions: each shown percentage is a count over the row's total (`ratio_links`,
  `shown_turnaround_percentages`); the count itself is not published.
"""

import numpy as np
import polars as pl

from publish.codes import SOURCE_SETTINGS
from publish.tables import (
    ACTIVITY_TABLE,
    SETTINGS_TABLE,
    TABLE13_SETTING_GROUPS,
    TURNAROUND_TABLE,
)

# Kinds of relation of table 13 (equalities), in the order their rows are numbered.
TURNAROUND_KINDS = ("turnaround_quarter_months", "turnaround_settings_year")
GEO = ["geography_level", "region_code", "provider_code"]


def turnaround_rows(counts: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(kind, relation, figure, coefficient) entries of the rows
    sum(table 13's totals) - sum(other tables' figures) = 0: one per row and quarter
    (with table 1's months), one per row and broad setting (with table 11's settings,
    year to date). Returned as the entries and the relations' kinds, numbered in order.
    """
    total = counts.filter(
        (pl.col("table") == TURNAROUND_TABLE) & (pl.col("measure") == "activity_count")
    )
    if total.height == 0:
        empty = pl.DataFrame(schema={"relation": pl.Int64, "figure": pl.Int64, "coef": pl.Float64})
        return empty, pl.DataFrame(schema={"relation": pl.Int64, "kind": pl.Utf8})
    row = [*GEO, "modality"]
    quarters = total.with_columns(
        pl.col("period").str.slice(0, 7).alias("start"),
        pl.col("period").str.slice(8, 7).alias("end"),
    )
    is_month = ~pl.col("period").str.contains("/", literal=True)
    months = counts.filter(
        (pl.col("table") == ACTIVITY_TABLE) & (pl.col("measure") == "activity_count") & is_month
    )
    by_quarter = quarters.select(*row, "period", "start", "end").unique()
    month_parts = (
        by_quarter.join(months.select(*row, pl.col("period").alias("month"), "figure"), on=row)
        .filter((pl.col("month") >= pl.col("start")) & (pl.col("month") <= pl.col("end")))
        .select(*row, "period", "figure", pl.lit(-1.0).alias("coef"))
    )
    quarter_entries = pl.concat(
        [
            quarters.select(*row, "period", "figure", pl.lit(1.0).alias("coef")),
            month_parts,
        ]
    ).with_columns(pl.lit(TURNAROUND_KINDS[0]).alias("kind"), pl.col("period").alias("key"))
    group_of = {
        SOURCE_SETTINGS[code]: group
        for group, codes in TABLE13_SETTING_GROUPS.items()
        for code in codes
    }
    settings = counts.filter(
        (pl.col("table") == SETTINGS_TABLE)
        & (pl.col("measure") == "activity_count")
        & pl.col("source_setting").is_in(list(group_of))
    ).with_columns(pl.col("source_setting").replace_strict(group_of))
    groups = total.select(*row, "source_setting").unique()
    year_entries = pl.concat(
        [
            total.select(*row, "source_setting", "figure", pl.lit(1.0).alias("coef")),
            groups.join(
                settings.select(*row, "source_setting", "figure"), on=[*row, "source_setting"]
            ).select(*row, "source_setting", "figure", pl.lit(-1.0).alias("coef")),
        ]
    ).with_columns(pl.lit(TURNAROUND_KINDS[1]).alias("kind"), pl.col("source_setting").alias("key"))
    entries = (
        pl.concat(
            [
                e.select("kind", *row, "key", "figure", "coef")
                for e in (quarter_entries, year_entries)
            ]
        )
        .group_by("kind", *row, "key", "figure")
        .agg(pl.col("coef").sum())
        .filter(pl.col("coef") != 0)
        .with_columns(pl.struct("kind", *row, "key").rank("dense").cast(pl.Int64).alias("relation"))
        .sort("relation", "figure")
    )
    kinds = entries.unique("relation", keep="first").sort("relation").select("relation", "kind")
    return entries.select("relation", "figure", "coef"), kinds


def turnaround_system(counts: pl.DataFrame, system_type):
    """The rows of `turnaround_rows` as a LinearSystem (equalities) and their kinds."""
    entries, kinds = turnaround_rows(counts)
    n_rows = kinds.height
    per_row = np.bincount(entries["relation"].to_numpy() - 1, minlength=n_rows) if n_rows else []
    indptr = np.concatenate([[0], np.cumsum(per_row)]).astype(np.int64)
    system = system_type(
        indptr=indptr,
        index=entries["figure"].to_numpy().astype(np.int64),
        coef=entries["coef"].to_numpy().astype(float),
        row_lower=np.zeros(n_rows),
        row_upper=np.zeros(n_rows),
    )
    return system, kinds["kind"].to_numpy().astype(str)


def turnaround_ratio_links(others: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
    """Table 13's percentages -> the row's total, whose records they are a share of."""
    row = [*GEO, "modality", "source_setting", "period"]
    return others.filter(
        (pl.col("table") == TURNAROUND_TABLE) & pl.col("measure").str.starts_with("percent_")
    ).join(
        counts.filter(
            (pl.col("table") == TURNAROUND_TABLE) & (pl.col("measure") == "activity_count")
        ).select(*row, "figure"),
        on=row,
    )


def shown_turnaround_percentages(percent: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
    """Table 13's shown percentages (row, text, numerator, denominator): an unpublished
    count over the row's total."""
    row = ["table", *GEO, "modality", "source_setting", "period"]
    return (
        percent.filter(pl.col("table") == TURNAROUND_TABLE)
        .join(
            counts.filter(pl.col("measure") == "activity_count").select(
                *row, pl.col("figure").alias("denominator")
            ),
            on=row,
        )
        .with_columns(pl.lit(None, pl.Int64).alias("numerator"))
    )
