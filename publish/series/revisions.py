"""Revisions: the cells whose published figure changed since the latest earlier release.

A cell (by its key, CELL_KEY_COLUMNS) published in this release and in the latest
earlier release of the same financial year is revised when its value or marker differs
(PUBLICATION.md section 7): late and resubmitted records change earlier months. A
revised cell with a value is marked `r` (shown `[r]`); a revised cell that is now
suppressed or not available keeps `c` or `x` (a marker column holds one code; `r` with
`c` is written `[c]`). An earlier `r` is not a difference: a figure revised last month
and unchanged since is not revised again. Cells new in this release (a new month, the
new year to date) are not revisions. Names are not compared: a renamed provider's
figures are not revised by the new name.
"""

from __future__ import annotations

import polars as pl

from publish.series.facts import REVISION_EXTRA_COLUMNS
from publish.series.releases import EarlierRelease
from publish.tables import CELL_KEY_COLUMNS, TIDY_COLUMNS

REVISED = "r"


def _published_value(text: pl.Expr) -> pl.Expr:
    return text.str.strip_chars().replace("", None).cast(pl.Float64, strict=False)


def mark_revisions(
    tidy: pl.DataFrame, earlier: EarlierRelease | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(tidy with `r` on the revised cells, the revisions table).

    The revisions table has TIDY_COLUMNS then REVISION_EXTRA_COLUMNS, in publication
    order; it is empty without an earlier release of the year."""
    schema = {
        **tidy.schema,
        "previous_value": pl.Float64,
        "previous_marker": pl.Utf8,
        "previous_release": pl.Utf8,
    }
    if earlier is None:
        return tidy, pl.DataFrame(schema=schema)
    key = list(CELL_KEY_COLUMNS)
    before = earlier.cells.select(
        *[pl.col(c).cast(pl.Utf8).fill_null("").alias(f"_{c}") for c in key],
        _published_value(pl.col("value")).alias("previous_value"),
        pl.col("marker").fill_null("").alias("previous_marker"),
    )
    joined = (
        tidy.with_row_index("_row")
        .with_columns(*[pl.col(c).cast(pl.Utf8).fill_null("").alias(f"_{c}") for c in key])
        .join(before, on=[f"_{c}" for c in key], how="left")
    )
    present = pl.col("previous_marker").is_not_null()
    now = pl.col("value").round(1)
    then = pl.col("previous_value").round(1)
    value_differs = (now.is_null() != then.is_null()) | (now != then).fill_null(False)
    marker_then = pl.col("previous_marker").replace(REVISED, "")
    revised = present & (value_differs | (pl.col("marker") != marker_then))
    marked = joined.with_columns(
        pl.when(revised & (pl.col("marker") == ""))
        .then(pl.lit(REVISED))
        .otherwise(pl.col("marker"))
        .alias("marker"),
        revised.alias("_revised"),
    ).sort("_row")
    revisions = marked.filter(pl.col("_revised")).select(
        *TIDY_COLUMNS,
        *REVISION_EXTRA_COLUMNS[:2],
        pl.lit(earlier.identifier).alias(REVISION_EXTRA_COLUMNS[2]),
    )
    return marked.select(tidy.columns), revisions
