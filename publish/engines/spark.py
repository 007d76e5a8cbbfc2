"""The Spark engine: the same build, its SQL run as Spark SQL on a SparkSession.

`SparkConnection` stands in for the DuckDB connection the stage modules are given. It
offers the methods of a DuckDB connection they use (`execute`, `sql(...).pl()`,
`executemany`, `register`, `unregister`, `close`) and runs each statement on Spark,
translated from DuckDB's SQL by `publish.engines.sql`:

- a query runs with `spark.sql` and comes back as a polars frame (through Arrow);
- `CREATE [OR REPLACE] [TEMP] TABLE t AS query` becomes a DataFrame computed at once
  (a local checkpoint) and registered as the temporary view `t`, as a DuckDB table
  holds rows; `CREATE TABLE t (columns)` and `INSERT INTO t VALUES` a local relation;
  `INSERT INTO t query` a union; `DELETE FROM t WHERE` a filter;
- `CREATE [OR REPLACE] TEMP VIEW v AS query` a Spark temporary view (resolved when
  used, as in DuckDB);
- `CREATE MACRO` is remembered and inlined wherever it is called;
- a polars frame given to `register` becomes a temporary view.

So validation, derivation and aggregation (`validate.py`, `aggregate.py`,
`quality.py`, the queries) run unchanged on either engine, from one SQL text, and what
comes back to Python is the same small frames: the cells, the per-file counts and the
restricted records, which the shared code protects and renders.

Ingest is the one stage with Spark code of its own (`load_files`, `load_table`):
files are read by Spark's CSV and Parquet readers, or the records come from a Spark
table, and everything about a file that is not a plain read (layout, header,
damaged records, NUL characters) is decided by the same functions as the DuckDB path
(`publish.ingest.load`).
"""

import contextlib
import logging
import os
import re
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

# PySpark 4 warns, when it first loads, that it does not support pandas 3; the engine
# hands it Arrow tables, never pandas.
warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)

from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql import types as T  # noqa: E402
from sqlglot import exp  # noqa: E402

from publish.codes import SUBMISSION_COLUMNS  # noqa: E402
from publish.engines.sql import TranslationError, Translator  # noqa: E402
from publish.ingest.load import (  # noqa: E402
    FILE_LEVEL_RULE,
    CsvLayout,
    InputError,
    InputFile,
    create_ingest_tables,
    finish_message,
    guarded,
    list_input_files,
    load_csv_record_by_record,
    order_files,
    parquet_submission_columns,
    quarantine_unusable_records,
    reject_file,
    sniff_csv_layout,
    streamed_records,
)
from publish.ingest.xml_reader import MalformedXml  # noqa: E402

log = logging.getLogger("did_publish")

# A value holding one of these was not read the same by every CSV reader (a quote, a
# line break inside a quoted field, a CR of a mixed line end, bytes that are not
# UTF-8): its file is read again by the project's own reader, as DuckDB's path does.
NOT_PLAIN = '["\r\n\ufffd]'
# DuckDB's reader refuses a line longer than this (its max_line_size); the DuckDB path
# then reads that file record by record, and so does this one.
MAX_LINE_SIZE = 2_097_152
TABLE_COLUMNS = ("SOURCE_FILE", "ROW_NUMBER")  # besides the 18, in a submissions table


# --------------------------------------------------------------------------- session


def spark_memory(memory_limit: str) -> str:
    """DuckDB's memory limit ("4GB", "512MB") as a JVM size ("4g", "512m")."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMGT])I?B?\s*", memory_limit.upper())
    return f"{match.group(1)}{match.group(2).lower()}" if match else "4g"


def spark_session(
    master: str | None = None, conf: Mapping[str, str] | None = None, memory_limit: str = "4GB"
) -> SparkSession:
    """The active SparkSession (a notebook's, a test's), else a new one.

    Without a master the session runs in local mode on every core of this machine; the
    driver's heap is the build's memory limit. On a cluster (Databricks, or
    `--spark-master spark://...`, `yarn`, `k8s://...`) the cluster's settings stand.
    """
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        for key, value in (conf or {}).items():
            try:
                active.conf.set(key, str(value))
            except Exception:  # a static setting of a running session (a cluster's)
                log.warning("spark_conf %s: cannot be changed in a running session", key)
        return active
    master = master or "local[*]"
    settings: dict[str, str] = {"spark.ui.showConsoleProgress": "false"}
    if master.startswith("local"):
        settings |= {
            "spark.driver.memory": spark_memory(memory_limit),
            "spark.sql.shuffle.partitions": str(max(4, 2 * (os.cpu_count() or 2))),
            "spark.ui.enabled": "false",
        }
    settings |= {key: str(value) for key, value in (conf or {}).items()}
    builder = SparkSession.builder.appName("did-publish").master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # py4j raises RuntimeError/Py4JError without Java
        raise InputError(
            f"cannot start Spark ({type(error).__name__}: {str(error).splitlines()[0][:200]}); "
            "Spark needs Java 17 or later on the PATH or in JAVA_HOME"
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def connect_spark(config: Any) -> "SparkConnection":
    """A SparkConnection for a build config (engine settings read with defaults)."""
    logging.getLogger("py4j").setLevel(logging.WARNING)  # not its chatter in our log
    session = spark_session(
        getattr(config, "spark_master", None),
        getattr(config, "spark_conf", None) or {},
        getattr(config, "memory_limit", "4GB"),
    )
    return SparkConnection(session)


# --------------------------------------------------------------------------- frames


def spark_type(dtype: pl.DataType) -> T.DataType:
    if dtype == pl.Utf8 or dtype == pl.Null or dtype == pl.Categorical:
        return T.StringType()
    if dtype == pl.Boolean:
        return T.BooleanType()
    if dtype in (pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16):
        return T.IntegerType()
    if dtype in (pl.Int64, pl.UInt32, pl.UInt64):
        return T.LongType()
    if dtype in (pl.Float32, pl.Float64):
        return T.DoubleType()
    if dtype == pl.Date:
        return T.DateType()
    if isinstance(dtype, pl.Datetime):
        return T.TimestampType()
    if isinstance(dtype, pl.Decimal):
        return T.DecimalType(dtype.precision or 38, dtype.scale or 0)
    if dtype == pl.Int128:
        return T.DecimalType(38, 0)
    raise TranslationError(f"cannot give a {dtype} column to Spark")


ARROW_TYPES = {
    "string": pa.string(),
    "boolean": pa.bool_(),
    "integer": pa.int32(),
    "long": pa.int64(),
    "double": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}


def arrow_schema(schema: T.StructType) -> pa.Schema:
    def arrow_type(dtype: T.DataType) -> pa.DataType:
        if isinstance(dtype, T.DecimalType):
            return pa.decimal128(dtype.precision, dtype.scale)
        return ARROW_TYPES[dtype.typeName()]

    return pa.schema([(field.name, arrow_type(field.dataType)) for field in schema.fields])


def local_frame(
    spark: SparkSession, data: pa.Table | Sequence[Sequence[Any]], schema: T.StructType
) -> DataFrame:
    """A small frame from the driver, as a local relation (Arrow): Spark knows its size,
    so joins to it are broadcast, and no Python worker is needed to read it."""
    table = (
        data
        if isinstance(data, pa.Table)
        else pa.Table.from_pylist(
            [dict(zip(schema.names, row, strict=True)) for row in data], arrow_schema(schema)
        )
    )
    try:
        return spark.createDataFrame(table, schema=schema)
    except (TypeError, ValueError, ImportError):  # PySpark before 4 takes no Arrow table
        return spark.createDataFrame([tuple(r.values()) for r in table.to_pylist()], schema)


def polars_to_spark(spark: SparkSession, frame: pl.DataFrame) -> DataFrame:
    schema = T.StructType(
        [T.StructField(name, spark_type(dtype), True) for name, dtype in frame.schema.items()]
    )
    arrow = frame.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(arrow_schema(schema))
    return local_frame(spark, arrow, schema)


def spark_to_polars(frame: DataFrame) -> pl.DataFrame:
    if hasattr(frame, "toArrow"):  # PySpark 4
        return pl.from_arrow(frame.toArrow())  # type: ignore[return-value]
    rows = [tuple(row) for row in frame.collect()]
    return pl.DataFrame(rows, schema=frame.columns, orient="row")


def free_checkpoint(frame: DataFrame) -> None:
    """Release the blocks of a local checkpoint now rather than at the JVM's next GC."""
    # Classic PySpark only; on Spark Connect, or if the internal API moves, the JVM's
    # garbage collector frees them later.
    with contextlib.suppress(Exception):
        frame._jdf.queryExecution().analyzed().rdd().unpersist(False)


class SparkResult:
    """What `execute` and `sql` return: `fetchall()` rows or a polars frame (`pl()`)."""

    def __init__(self, frame: DataFrame | None) -> None:
        self.frame = frame

    def fetchall(self) -> list[tuple]:
        started = time.perf_counter()
        rows = [] if self.frame is None else [tuple(row) for row in self.frame.collect()]
        log.debug("spark %.2fs: fetched %d rows", time.perf_counter() - started, len(rows))
        return rows

    def pl(self) -> pl.DataFrame:
        if self.frame is None:
            raise TranslationError("the statement returned no rows to read")
        started = time.perf_counter()
        frame = spark_to_polars(self.frame)
        log.debug(
            "spark %.2fs: fetched a frame of %d rows", time.perf_counter() - started, frame.height
        )
        return frame


# --------------------------------------------------------------------------- connection


def table_name(node: exp.Expression) -> str:
    table = node.this if isinstance(node, exp.Schema) else node
    return table.name.lower()


class SparkConnection:
    """The DuckDB connection's methods that the build uses, on a SparkSession.

    A table is a DataFrame registered as a temporary view of that name. A table computed
    by a query is materialised at once with a local checkpoint: like a DuckDB table it
    is computed once and holds its rows, not the query (a cached plan would be dropped
    by Spark whenever a view it was built from is replaced). A table filled from Python
    (CREATE TABLE with columns, INSERT ... VALUES, a registered frame) is a local
    relation: Spark knows its size and broadcasts it in joins.
    """

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.translator = Translator()
        self.tables: dict[str, DataFrame] = {}
        self.local_rows: dict[str, list[tuple]] = {}  # tables held as local relations
        self.checkpoints: list[DataFrame] = []
        self.views: set[str] = set()

    # DuckDB connection methods ------------------------------------------------------

    def execute(self, sql: str, params: Any = None) -> SparkResult:
        result = None
        for statement in self.translator.parse(sql, params):
            started = time.perf_counter()
            result = self.run_statement(statement)
            log.debug(
                "spark %.2fs: %s", time.perf_counter() - started, statement.sql("duckdb")[:100]
            )
        return SparkResult(result)

    def sql(self, sql: str, params: Any = None) -> SparkResult:
        return self.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        (statement,) = self.translator.parse(sql)
        values = statement.expression if isinstance(statement, exp.Insert) else None
        plain = (
            isinstance(values, exp.Values)
            and len(values.expressions) == 1
            and all(isinstance(v, exp.Placeholder) for v in values.expressions[0].expressions)
        )
        if not plain:
            for params in rows:
                self.execute(sql, params)
            return
        self.insert_rows(table_name(statement.this), [tuple(row) for row in rows])

    def register(self, name: str, frame: pl.DataFrame) -> None:
        polars_to_spark(self.spark, frame).createOrReplaceTempView(name)
        self.views.add(name.lower())

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        self.views.discard(name.lower())

    def close(self) -> None:
        """Drop this build's views and free its checkpoints (the session itself stays)."""
        for name in self.views:
            self.spark.catalog.dropTempView(name)
        for frame in self.checkpoints:
            free_checkpoint(frame)
        self.checkpoints.clear()
        self.tables.clear()
        self.local_rows.clear()
        self.views.clear()

    # tables -------------------------------------------------------------------------

    def query(self, tree: exp.Expression) -> DataFrame:
        return self.spark.sql(self.translator.to_spark(tree))

    def table(self, name: str) -> DataFrame:
        if name not in self.tables:
            self.tables[name] = self.spark.table(name)
        return self.tables[name]

    def set_table(self, name: str, frame: DataFrame, materialise: bool = True) -> DataFrame:
        """Register `frame` as table `name`; computed now unless it is a local relation."""
        if materialise:
            frame = frame.localCheckpoint(eager=True)
            self.checkpoints.append(frame)
        frame.createOrReplaceTempView(name)
        self.tables[name] = frame
        self.local_rows.pop(name, None)
        self.views.add(name)
        return frame

    def set_local_table(self, name: str, schema: T.StructType, rows: list[tuple]) -> None:
        self.set_table(name, local_frame(self.spark, rows, schema), materialise=False)
        self.local_rows[name] = rows

    def insert_rows(self, name: str, rows: list[tuple]) -> None:
        target = self.table(name)
        if name in self.local_rows:
            self.set_local_table(name, target.schema, self.local_rows[name] + rows)
        elif rows:
            self.append(name, local_frame(self.spark, rows, target.schema))

    def append(self, name: str, new: DataFrame) -> None:
        """INSERT INTO name: `new`'s columns by position, cast to the table's types."""
        target = self.table(name)
        if len(new.columns) != len(target.columns):
            raise TranslationError(f"INSERT INTO {name}: {len(new.columns)} values given")
        new = new.select(
            [
                F.col(f"`{column}`").cast(field.dataType).alias(field.name)
                for column, field in zip(new.columns, target.schema.fields, strict=True)
            ]
        )
        self.set_table(name, target.unionAll(new))

    # statements ---------------------------------------------------------------------

    def run_statement(self, statement: exp.Expression) -> DataFrame | None:
        if isinstance(statement, exp.Create):
            self.create(statement)
            return None
        if isinstance(statement, exp.Insert):
            self.append(table_name(statement.this), self.query(statement.expression))
            return None
        if isinstance(statement, exp.Delete):
            name = table_name(statement.this)
            where = statement.args.get("where")
            condition = self.translator.to_spark(where.this) if where else "TRUE"
            self.set_table(name, self.table(name).where(f"NOT coalesce(({condition}), FALSE)"))
            return None
        if isinstance(statement, exp.Set):  # DuckDB settings (memory_limit, ...)
            return None
        if isinstance(statement, exp.Drop):
            name = table_name(statement.this)
            self.spark.catalog.dropTempView(name)
            self.tables.pop(name, None)
            self.local_rows.pop(name, None)
            return None
        if isinstance(statement, exp.Query):
            return self.query(statement)
        raise TranslationError(
            f"the Spark engine cannot run a {statement.key.upper()} statement: "
            f"{statement.sql(dialect='duckdb')[:80]}"
        )

    def create(self, statement: exp.Create) -> None:
        kind = (statement.kind or "").upper()
        if kind == "MACRO":
            self.translator.add_macro(statement)
            return
        name = table_name(statement.this)
        if kind == "VIEW":  # resolved when used, as in DuckDB
            self.spark.sql(
                f"CREATE OR REPLACE TEMPORARY VIEW `{name}` AS "
                f"{self.translator.to_spark(statement.expression)}"
            )
            self.tables.pop(name, None)
            self.local_rows.pop(name, None)
            self.views.add(name)
            return
        if kind != "TABLE":
            raise TranslationError(f"the Spark engine cannot CREATE {kind}")
        if statement.expression is not None:  # CREATE TABLE t AS query
            self.set_table(name, self.query(statement.expression))
            return
        columns = [
            f"CAST(NULL AS {column.args['kind'].sql(dialect='spark')}) AS `{column.name}`"
            for column in statement.this.expressions
            if isinstance(column, exp.ColumnDef)
        ]
        self.set_local_table(name, self.spark.sql(f"SELECT {', '.join(columns)}").schema, [])

    # ingest -------------------------------------------------------------------------

    def load_files(self, files: list[InputFile]) -> None:
        """`publish.ingest.load.load_files` on Spark: the same tables, and the same outcome for
        every file."""
        SparkIngest(self).files(files)

    def load_table(
        self,
        name: str,
        submission_dates: dict[str, date] | None = None,
        default_submission_date: date | None = None,
    ) -> list[InputFile]:
        """Submission records from a Spark table: the 18 columns, source_file, row_number."""
        return SparkIngest(self).table(name, submission_dates or {}, default_submission_date)


# --------------------------------------------------------------------------- ingest


@contextlib.contextmanager
def listed_on_driver(spark: SparkSession, paths: int) -> Iterator[None]:
    """In local mode, list many files on the driver: a listing job costs more there."""
    key = "spark.sql.sources.parallelPartitionDiscovery.threshold"
    if not str(spark.conf.get("spark.master", "")).startswith("local"):
        yield
        return
    before = spark.conf.get(key)
    spark.conf.set(key, str(max(paths + 1, 32)))
    try:
        yield
    finally:
        spark.conf.set(key, before)


def local_path(uri: str) -> str:
    """Spark's `_metadata.file_path` (a URI) as a path."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme in ("", "file") else uri


class SparkIngest:
    """Reads submission files (or a table) into `submission_records` and `input_files`."""

    def __init__(self, con: SparkConnection) -> None:
        self.con = con
        self.spark = con.spark
        self.reads: list[DataFrame] = []  # checkpoints freed once the records are in

    def files(self, files: list[InputFile]) -> None:
        create_ingest_tables(self.con)
        csv_batches: dict[CsvLayout, list[InputFile]] = {}
        parts: list[DataFrame] = []
        for input_file in files:
            if input_file.status == "rejected":  # at registration: a damaged archive
                continue
            if input_file.read_by_python:
                part = guarded(self.con, input_file, self.streamed)
                if part is not None:
                    parts.append(part)
            elif input_file.type.format == "parquet":
                part = guarded(self.con, input_file, self.parquet)
                if part is not None:
                    parts.append(part)
            else:
                layout = guarded(self.con, input_file, sniff_csv_layout)
                if layout is not None and input_file.status != "rejected":
                    csv_batches.setdefault(layout, []).append(input_file)
        for layout, batch in csv_batches.items():
            parts.append(self.csv(layout, batch))
        self.finish(files, parts)

    def csv(self, layout: CsvLayout, group: list[InputFile]) -> DataFrame:
        """The plain records of a group of files of one layout, read by Spark in one go.

        A file Spark finds damaged (a record with the wrong number of fields) or whose
        values are not plain (NOT_PLAIN) is read again by the project's own reader,
        record by record, exactly as the DuckDB path does for a file DuckDB refuses.
        """
        schema = T.StructType(
            [T.StructField(name, T.StringType()) for name in layout.column_names]
            + [T.StructField("_corrupt_record", T.StringType())]
        )
        with listed_on_driver(self.spark, len(group)):
            raw = self.read_csv(schema, layout, group)
        self.reads.append(raw)
        not_plain = F.col("_corrupt_record").isNotNull()
        line_size = F.lit(len(SUBMISSION_COLUMNS) - 1)
        for name in SUBMISSION_COLUMNS:
            not_plain = not_plain | F.coalesce(F.col(name).rlike(NOT_PLAIN), F.lit(False))
            line_size = line_size + F.coalesce(F.octet_length(name), F.lit(0))
        not_plain = not_plain | (line_size > MAX_LINE_SIZE)
        stats = (
            raw.groupBy("_file_path")
            .agg(
                F.count(F.lit(1)).alias("records"),
                F.max(not_plain.cast("int")).alias("not_plain"),
                F.min("_position").alias("first_position"),
            )
            .collect()
        )
        by_path = {str(f.path.resolve()): f for f in group}
        by_name = {f.name: f for f in group}
        trusted: list[tuple[str, int, int]] = []
        for row in stats:
            path = local_path(row["_file_path"])
            input_file = by_path.get(path) or by_name[Path(path).name]
            if row["not_plain"]:
                guarded(
                    self.con,
                    input_file,
                    lambda f: load_csv_record_by_record(self.con, f, layout),  # noqa: B023
                )
            else:
                input_file.records_received = row["records"]
                trusted.append((row["_file_path"], input_file.file_id, row["first_position"]))
        positions = local_frame(
            self.spark,
            trusted,
            T.StructType(
                [
                    T.StructField("_file_path", T.StringType()),
                    T.StructField("file_id", T.IntegerType()),
                    T.StructField("first_position", T.LongType()),
                ]
            ),
        )
        return raw.join(F.broadcast(positions), "_file_path").select(
            F.col("file_id"),
            (F.col("_position") - F.col("first_position") + 1).alias("row_number"),
            *[F.col(name) for name in SUBMISSION_COLUMNS],
        )

    def read_csv(
        self, schema: T.StructType, layout: CsvLayout, group: list[InputFile]
    ) -> DataFrame:
        """Every record of the files as Spark reads them, with its file and position."""
        return (
            self.spark.read.schema(schema)
            .options(
                header=layout.has_header,
                multiLine=True,  # RFC 4180, and a file is never split: records stay in order
                sep=",",
                quote='"',
                escape='"',
                encoding="UTF-8",
                mode="PERMISSIVE",
                columnNameOfCorruptRecord="_corrupt_record",
                ignoreLeadingWhiteSpace=False,
                ignoreTrailingWhiteSpace=False,
            )
            .csv([str(f.path.resolve()) for f in group])
            .select(
                *[F.col(name) for name in SUBMISSION_COLUMNS],
                F.col("_corrupt_record"),
                F.col("_metadata.file_path").alias("_file_path"),
                F.monotonically_increasing_id().alias("_position"),
            )
            .localCheckpoint(eager=True)  # read once; positions fixed
        )

    def streamed(self, input_file: InputFile) -> DataFrame | None:
        """XML, zip members and compressed Parquet: the records of the same Python readers
        as the DuckDB path (`publish.ingest.load.streamed_records`), handed to Spark."""
        try:
            chunks = list(streamed_records(input_file))
        except MalformedXml as error:
            input_file.records_received = error.activities_seen
            reject_file(input_file, str(error), FILE_LEVEL_RULE)
            return None
        if not chunks:
            return None
        return polars_to_spark(self.spark, pl.concat(chunks))

    def parquet(self, input_file: InputFile) -> DataFrame | None:
        try:
            pq.read_metadata(input_file.path)  # a damaged file fails here, quietly
            frame = self.spark.read.parquet(str(input_file.path.resolve()))
            input_file.records_received = frame.count()
        except Exception:  # AnalysisException, or a damaged file when counting
            reject_file(input_file, "cannot be read as a Parquet file", FILE_LEVEL_RULE)
            return None
        by_upper = parquet_submission_columns(input_file, frame.columns)
        if by_upper is None:
            return None
        return frame.select(
            F.lit(input_file.file_id).alias("file_id"),
            (F.col("_metadata.row_index") + 1).alias("row_number"),
            *[
                F.col(f"`{by_upper[name]}`").cast("string").alias(name)
                for name in SUBMISSION_COLUMNS
            ],
        )

    def finish(self, files: list[InputFile], parts: list[DataFrame]) -> None:
        """submission_records: the records Spark read and those of the slow path; then,
        as on the DuckDB path, records with a NUL or an overlong field are quarantined."""
        records = self.con.table("submission_records")
        for part in parts:
            records = records.unionAll(
                part.select([F.col(f.name).cast(f.dataType) for f in records.schema.fields])
            )
        self.con.set_table("submission_records", records)
        for read in self.reads:
            free_checkpoint(read)
        quarantine_unusable_records(self.con, files)
        for input_file in files:
            finish_message(input_file)
        list_input_files(self.con, files)

    def table(
        self, name: str, submission_dates: dict[str, date], default_submission_date: date | None
    ) -> list[InputFile]:
        """Records from a Spark table: the 18 submission columns (any case, any type),
        SOURCE_FILE (the file each record came in) and ROW_NUMBER (its record number in
        that file), and optionally SUBMISSION_DATE (of its file)."""
        create_ingest_tables(self.con)
        try:
            source = self.spark.table(name)
        except Exception:
            raise InputError(f"spark_table {name!r}: no such table or view") from None
        by_upper = {column.strip().upper(): column for column in source.columns}
        missing = [c for c in SUBMISSION_COLUMNS + TABLE_COLUMNS if c not in by_upper]
        if missing:
            raise InputError(f"spark_table {name!r}: missing column(s) {', '.join(missing)}")

        def column(upper: str) -> F.Column:
            return F.col(f"`{by_upper[upper]}`")

        records = source.select(
            column("SOURCE_FILE").cast("string").alias("source_file"),
            column("ROW_NUMBER").cast("bigint").alias("row_number"),
            *[column(c).cast("string").alias(c) for c in SUBMISSION_COLUMNS],
            (
                column("SUBMISSION_DATE").cast("date")
                if "SUBMISSION_DATE" in by_upper
                else F.lit(None).cast("date")
            ).alias("submission_date"),
        ).localCheckpoint(eager=True)
        self.reads.append(records)
        fingerprint = F.sha2(
            F.concat_ws(
                "\n",
                F.array_sort(
                    F.collect_list(
                        F.to_json(F.struct("row_number", *[F.col(c) for c in SUBMISSION_COLUMNS]))
                    )
                ),
            ),
            256,
        )
        stats = (
            records.groupBy("source_file")
            .agg(
                F.count(F.lit(1)).alias("records"),
                F.countDistinct("row_number").alias("numbers"),
                F.max("submission_date").alias("submission_date"),
                fingerprint.alias("sha256"),
            )
            .orderBy("source_file")
            .collect()
        )
        files = []
        names = {}
        for index, row in enumerate(stats, start=1):
            file_name = row["source_file"]
            if file_name is None or row["numbers"] != row["records"]:
                raise InputError(
                    f"spark_table {name!r}: source file {file_name!r}: "
                    + ("missing" if file_name is None else "a row_number is given twice")
                )
            names[file_name] = index
            files.append(
                InputFile(
                    file_id=index,
                    path=Path(file_name),
                    sha256=row["sha256"],
                    submission_date=submission_dates.get(
                        Path(file_name).name, row["submission_date"] or default_submission_date
                    ),
                    records_received=row["records"],
                )
            )
        order_files(files)
        ids = local_frame(
            self.spark,
            list(names.items()),
            T.StructType(
                [
                    T.StructField("source_file", T.StringType()),
                    T.StructField("file_id", T.IntegerType()),
                ]
            ),
        )
        part = records.join(F.broadcast(ids), "source_file").select(
            "file_id", "row_number", *SUBMISSION_COLUMNS
        )
        self.finish(files, [part])
        return files
