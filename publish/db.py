"""The few ways the pipeline talks to DuckDB, in one place.

DuckDB 2 keeps a result open on the connection until it is read to the end; reading
every result through these functions keeps the connection free for the next statement.
"""

from pathlib import Path
from typing import Any

import duckdb
import polars as pl


def connect(memory_limit: str = "3GB", spill_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a memory limit: large inputs spill rather than fail.

    Spill files go to `spill_dir` (the build's private work folder), not to DuckDB's
    default `.tmp` in the current directory. DuckDB's own progress bar is off: the
    build reports its progress itself (`publish.progress`).
    """
    con = duckdb.connect()
    run(con, f"SET memory_limit = '{memory_limit}'")
    run(con, "SET preserve_insertion_order = true")
    run(con, "SET enable_progress_bar = false")
    if spill_dir is not None:
        run(con, f"SET temp_directory = '{spill_dir.as_posix()}'")
    return con


def run(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> None:
    """Execute statements whose result is not needed."""
    con.execute(sql, params).fetchall()


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> pl.DataFrame:
    return con.sql(sql, params=params).pl()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    return con.execute(sql, params).fetchall()[0][0]


def register_frame(con: duckdb.DuckDBPyConnection, name: str, data: pl.DataFrame) -> None:
    con.register(name, data)
