"""Where the build's SQL runs: DuckDB (the default, in process) or Apache Spark.

The queries in `queries/` and in the stage modules are written once, in DuckDB's SQL.
The DuckDB engine runs them as they are. The Spark engine (`publish.engines.spark`)
runs the same text on a SparkSession: `publish.engines.sql` translates each statement
with sqlglot (DuckDB -> Spark SQL) at run time, and `SparkConnection` offers the few
methods of a DuckDB connection the pipeline uses, so every stage module works unchanged
on either engine. See docs/spark.md.
"""

from publish.errors import InputError

ENGINES = ("duckdb", "spark")

SPARK_INSTALL_HINT = (
    "--engine spark needs PySpark and sqlglot: pip install 'did-publish[spark]' "
    "(and Java 17 or later on the PATH or in JAVA_HOME)"
)


def check_engine(name: str) -> str:
    if name not in ENGINES:
        raise InputError(f"--engine {name!r}: choose duckdb or spark")
    return name


def require_spark() -> None:
    """Fail with how to install the Spark extra (exit code 2) when it is not installed."""
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError:
        raise InputError(SPARK_INSTALL_HINT) from None
