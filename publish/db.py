"""The few ways the pipeline talks to DuckDB, in one place.

DuckDB 2 keeps a result open on the connection until it is read to the end; reading
every result through these functions keeps the connection free for the next statement.
"""

from typing import Any

import duckdb
import polars as pl


def connect(memory_limit: str = "4GB") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a memory limit: large inputs spill rather than fail."""
    con = duckdb.connect()
    run(con, f"SET memory_limit = '{memory_limit}'")
    run(con, "SET preserve_insertion_order = true")
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
