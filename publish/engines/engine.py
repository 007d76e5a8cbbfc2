"""The engine interface: what the pipeline asks of DuckDB and of Spark alike.

`engine_for(config)` is the build's engine; `publish.engines.duckdb_engine` and
`SparkEngine` below implement `Engine`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from publish.engines import require_spark

if TYPE_CHECKING:
    from publish.config import BuildConfig
    from publish.ingest.load import InputFile


class Engine(Protocol):
    """Where a build's SQL runs. The pipeline asks its engine for a connection, then for
    the inputs' records read, validated, derived and resolved (`counted_cube`,
    `counted_waits` and the record outcomes on the connection), and never asks which
    engine it has."""

    def connect(self, config: BuildConfig, work_dir: Path) -> Any:
        """A connection with DuckDB's `execute`, `executemany`, `register`, `close`."""
        ...

    def ingest(
        self,
        con: Any,
        config: BuildConfig,
        work_dir: Path,
        paths: list[Path],
        submission_dates: dict,
    ) -> list[InputFile]:
        """Every record of `paths` (or of `config.spark_table`) through validation,
        derivation and resubmissions; the files, with what became of each."""
        ...


class SparkEngine:
    """`Engine` on a SparkSession: the same SQL, translated (docs/spark.md). Spark keeps
    its tables: no record store, no batches."""

    def connect(self, config: BuildConfig, work_dir: Path) -> Any:
        require_spark()
        from publish.engines.spark import connect_spark

        return connect_spark(config)

    def ingest(
        self,
        con: Any,
        config: BuildConfig,
        work_dir: Path,
        paths: list[Path],
        submission_dates: dict,
    ) -> list[InputFile]:
        from publish.ingest.load import register_files
        from publish.validate.rules import derive_records, resolve_resubmissions, validate_records

        if config.spark_table:  # the records are in a Spark table, not in files
            files = con.load_table(config.spark_table, submission_dates, config.submission_date)
        else:
            files = register_files(paths, submission_dates, config.submission_date)
            con.load_files(files)
        validate_records(con)
        derive_records(con)
        resolve_resubmissions(con)
        return files


def engine_for(config: BuildConfig) -> Engine:
    """The build's engine, by the name its config gives (checked by `check_engine`)."""
    from publish.engines.duckdb_engine import DuckDBEngine

    engines: dict[str, type] = {"duckdb": DuckDBEngine, "spark": SparkEngine}
    return engines[config.engine]()
