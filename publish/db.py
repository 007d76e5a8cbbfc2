"""The few ways the pipeline talks to DuckDB, in one place.

DuckDB 2 keeps a result open on the connection until it is read to the end; reading
every result through these functions keeps the connection free for the next statement.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
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
    # Settings and paths are bound values, never SQL text: a setting from a config file
    # cannot become a statement, and a path with a quote in it is only a path.
    run(con, "SET memory_limit = ?", [check_memory_limit(memory_limit)])
    run(con, "SET preserve_insertion_order = true")
    run(con, "SET enable_progress_bar = false")
    if spill_dir is not None:
        run(con, "SET temp_directory = ?", [spill_dir.as_posix()])
    return con


MEMORY_LIMIT = re.compile(r"[1-9][0-9]*(\.[0-9]+)?\s?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def check_memory_limit(value: str) -> str:
    """A DuckDB memory size such as `3GB` or `512MiB`; anything else is refused."""
    if not isinstance(value, str) or not MEMORY_LIMIT.fullmatch(value):
        raise ValueError("memory_limit: expected a size such as 3GB or 512MB")
    return value


@contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C during a query is a KeyboardInterrupt, never a DuckDB error.

    DuckDB reports a query stopped by Ctrl-C as `InterruptException`, a `duckdb.Error`,
    or as a bare RuntimeError("Query interrupted"):
    the ingest, which takes a DuckDB error for a damaged file, would reject the file
    and go on. As a KeyboardInterrupt it stops the build, and the command says so.
    """
    try:
        yield
    except duckdb.InterruptException:
        raise KeyboardInterrupt from None
    except RuntimeError as error:  # how DuckDB 2.0 reports it during some queries
        if str(error) == "Query interrupted":
            raise KeyboardInterrupt from None
        raise


def run(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> None:
    """Execute statements whose result is not needed."""
    with interruptible():
        con.execute(sql, params).fetchall()


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> pl.DataFrame:
    with interruptible():
        return con.sql(sql, params=params).pl()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[tuple]:
    with interruptible():
        return con.execute(sql, params).fetchall()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    with interruptible():
        return con.execute(sql, params).fetchall()[0][0]


def register_frame(con: duckdb.DuckDBPyConnection, name: str, data: pl.DataFrame) -> None:
    con.register(name, data)


def quote_literal(text: str) -> str:
    """`text` as one SQL string literal, for the few statements DuckDB cannot prepare
    (a view's definition): quotes doubled, a NUL refused. Everywhere else a value is a
    bound parameter."""
    if "\x00" in text:
        raise ValueError("a NUL character cannot be part of an SQL value")
    return "'" + text.replace("'", "''") + "'"
