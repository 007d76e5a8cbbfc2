"""Stage 4, aggregate: the unprotected cells of every table of the publication.

The records are read once, into a cube of counts and a histogram of waits per day
(`queries/aggregate/activity_cube.sql`); each table is then a small query over those
(`queries/aggregate/table_sources.sql`, `count_cells.sql`, `median_cells.sql`). The result is one
frame of cells keyed like the tidy CSV, with the exact value, the number of records
underlying it (what suppression rules test) and the marker for cells with no data.
"""

import duckdb
import polars as pl

from publish.codes import SOURCE_SETTINGS
from publish.db import frame, run
from publish.resources import query, query_block
from publish.tables import (
    CELL_KEY_COLUMNS,
    TABLE10_SETTING_GROUPS,
    CommissionerSource,
    CountSource,
    MeasureSource,
    MedianSource,
    tables_made_by,
)

CELL_COLUMNS = (*CELL_KEY_COLUMNS, "value", "records", "marker")


# The catalog's tables by the query that makes them: counts first (the medians share
# their grids), then medians, then the tables of measures.
COUNT_TABLES = tables_made_by(CountSource)
MEDIAN_TABLES = tables_made_by(MedianSource)
MEASURE_TABLES = tables_made_by(MeasureSource)
COMMISSIONER_TABLES = tables_made_by(CommissionerSource)


def create_period_tables(con: duckdb.DuckDBPyConnection, months: tuple[str, ...]) -> str:
    """Months of the year to date, and each month's periods: itself and the year to date."""
    year_to_date = f"{months[0]}/{months[-1]}"
    run(con, "CREATE OR REPLACE TABLE publication_months (test_month VARCHAR)")
    con.executemany("INSERT INTO publication_months VALUES (?)", [(m,) for m in months])
    run(
        con,
        """
        CREATE OR REPLACE TABLE period_months AS
        SELECT test_month, test_month AS period FROM publication_months
        UNION ALL SELECT test_month, $ytd FROM publication_months
        """,
        {"ytd": year_to_date},
    )
    run(con, "CREATE OR REPLACE TABLE quarter_months (test_month VARCHAR, period VARCHAR)")
    con.executemany("INSERT INTO quarter_months VALUES (?, ?)", quarters_of(months))
    run(con, "CREATE OR REPLACE TABLE source_setting_labels (code VARCHAR, label VARCHAR)")
    con.executemany(
        "INSERT INTO source_setting_labels VALUES (?, ?)", list(SOURCE_SETTINGS.items())
    )
    run(con, "CREATE OR REPLACE TABLE setting_groups (code VARCHAR, label VARCHAR)")
    con.executemany(
        "INSERT INTO setting_groups VALUES (?, ?)",
        [(code, label) for label, codes in TABLE10_SETTING_GROUPS.items() for code in codes],
    )
    return year_to_date


def quarters_of(months: tuple[str, ...]) -> list[tuple[str, str]]:
    """(month, its quarter's period) for the months of the year to date: a quarter is
    "first month/last month", its last month the latest published when it is not over
    (table 13).

    >>> quarters_of(("2024-04", "2024-05", "2024-06", "2024-07"))[-2:]
    [('2024-06', '2024-04/2024-06'), ('2024-07', '2024-07/2024-07')]
    """
    by_quarter: dict[int, list[str]] = {}
    for position, month in enumerate(months):  # the year starts in April
        by_quarter.setdefault(position // 3, []).append(month)
    return [
        (month, f"{members[0]}/{members[-1]}")
        for members in by_quarter.values()
        for month in members
    ]


def fill_table(
    con: duckdb.DuckDBPyConnection, name: str, columns: str, values: list[tuple]
) -> None:
    run(con, f"CREATE OR REPLACE TEMP TABLE {name} ({columns})")
    if values:
        placeholders = ", ".join("?" for _ in values[0])
        con.executemany(f"INSERT INTO {name} VALUES ({placeholders})", values)


def set_table_columns(
    con: duckdb.DuckDBPyConnection, source: CountSource | MeasureSource, ytd: str
) -> None:
    """The source settings and periods every row of the table has a cell for."""
    fill_table(con, "table_settings", "source_setting VARCHAR", [(s,) for s in source.settings])
    quarterly = isinstance(source, MeasureSource) and source.by_quarter
    run(
        con,
        "CREATE OR REPLACE TEMP VIEW table_period_months AS SELECT * FROM "
        + ("quarter_months" if quarterly else "period_months"),
    )
    if quarterly:
        run(
            con,
            "CREATE OR REPLACE TEMP TABLE table_periods AS "
            "SELECT DISTINCT period FROM quarter_months",
        )
    elif source.year_to_date_only:
        run(
            con, "CREATE OR REPLACE TEMP TABLE table_periods AS SELECT $ytd AS period", {"ytd": ytd}
        )
    else:
        run(
            con,
            "CREATE OR REPLACE TEMP TABLE table_periods AS SELECT DISTINCT period FROM period_months",
        )


def labelled(frame: pl.DataFrame, number: int, measure: str) -> pl.DataFrame:
    return frame.rename({"row_label": "modality"}).with_columns(
        pl.lit(number, pl.Int64).alias("table"), pl.lit(measure).alias("measure")
    )


def aggregate_tables(con: duckdb.DuckDBPyConnection, months: tuple[str, ...]) -> pl.DataFrame:
    """Every cell of every table, unprotected, as a frame with CELL_COLUMNS."""
    year_to_date = create_period_tables(con, months)
    run(con, query("macros"))  # the roll-up to geography levels
    run(con, query("aggregate/activity_cube"))
    parts: list[pl.DataFrame] = []
    count_grids: dict[int, pl.DataFrame] = {}
    for table in COUNT_TABLES:
        set_table_columns(con, table.source, year_to_date)
        run(
            con,
            f"CREATE OR REPLACE TEMP VIEW table_counts AS "
            f"{query_block('aggregate/table_sources', table.query)}",
        )
        grid = frame(con, query("aggregate/count_cells"))
        count_grids[table.number] = grid
        parts.append(labelled(grid, table.number, table.measures[0]))
    for table in MEDIAN_TABLES:
        con.register("count_grid", count_grids[table.source.count_table])
        run(
            con,
            f"CREATE OR REPLACE TEMP VIEW table_waits AS "
            f"{query_block('aggregate/table_sources', table.query)}",
        )
        cells = frame(con, query("aggregate/median_cells"))
        con.unregister("count_grid")
        parts.append(labelled(cells, table.number, table.measures[0]))
    for table in MEASURE_TABLES:
        source = table.source
        set_table_columns(con, source, year_to_date)
        fill_table(con, "table_levels", "geography_level VARCHAR", [(lv,) for lv in source.levels])
        fill_table(con, "table_count_measures", "measure VARCHAR", [(m,) for m in source.counts])
        fill_table(
            con,
            "table_percents",
            "measure VARCHAR, numerator VARCHAR, denominator VARCHAR, cases VARCHAR",
            list(source.percent_rows()),
        )
        run(
            con,
            f"CREATE OR REPLACE TEMP VIEW table_counts_long AS "
            f"{query_block('aggregate/table_sources', table.query)}",
        )
        cells = frame(con, query("aggregate/measure_cells"))
        parts.append(
            cells.rename({"row_label": "modality"}).with_columns(
                pl.lit(table.number, pl.Int64).alias("table")
            )
        )
    for table in COMMISSIONER_TABLES:
        fill_table(
            con, "table_settings", "source_setting VARCHAR", [(s,) for s in table.source.settings]
        )
        fill_table(
            con, "table_count_measures", "measure VARCHAR", [(m,) for m in table.source.bands]
        )
        run(
            con,
            f"CREATE OR REPLACE TEMP VIEW table_commissioner_counts AS "
            f"{query_block('aggregate/table_sources', table.query)}",
        )
        cells = frame(con, query("aggregate/commissioner_cells"), {"ytd": year_to_date})
        parts.append(
            cells.rename({"row_label": "modality"}).with_columns(
                pl.lit(table.number, pl.Int64).alias("table")
            )
        )
    return pl.concat(
        [
            part.select(CELL_COLUMNS).with_columns(
                pl.col("value").cast(pl.Float64), pl.col("records").cast(pl.Int64)
            )
            for part in parts
        ]
    )
