"""The Spark engine publishes exactly what the DuckDB engine publishes (docs/spark.md).

The same inputs are built (or validated) once on each engine and the outputs compared
byte for byte: the tidy CSV table by table, then every file of the publication (the
manifest aside: it records the engine and the build time), the quarantine and warnings,
and the data-quality report. Spark runs in local mode, in one session for the module.
Needs the `spark` extra (PySpark, sqlglot) and Java 17 or later.
"""

import json
import sys
from pathlib import Path

import polars as pl
import pytest

from publish.codes import SUBMISSION_COLUMNS
from publish.config import load_config
from tests.conftest import run_cli

pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)
MONTHS = "2024-04:2024-06"
YEAR_TO_DATE = "2024-04/2024-06"


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("did-publish-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session  # builds find it as the active session
    session.stop()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("synthetic")
    run_cli("synth", "--out", folder, "--months", MONTHS, "--seed", "1")
    return folder


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def assert_same_tree(duckdb_dir: Path, spark_dir: Path, skip: tuple[str, ...] = ()) -> None:
    expected, actual = tree(duckdb_dir), tree(spark_dir)
    assert sorted(actual) == sorted(expected)
    different = [name for name in expected if name not in skip and actual[name] != expected[name]]
    assert not different, f"differ between the engines: {different}"


@pytest.fixture(scope="module")
def builds(spark, synthetic, tmp_path_factory) -> dict[str, Path]:
    """The publication folder built by each engine from the same synthetic quarter."""
    folders = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path_factory.mktemp(f"build-{engine}")
        run_cli(
            "build", synthetic, "--submissions", synthetic / "submissions.csv", "--out", out,
            "--engine", engine,
        )  # fmt: skip
        (folders[engine],) = [p for p in out.iterdir() if not p.name.endswith(".restricted")]
    return folders


def test_the_tidy_csv_is_identical_table_by_table(builds):
    name = f"{builds['duckdb'].name}.csv"
    expected = (builds["duckdb"] / name).read_text(encoding="utf-8").splitlines()
    actual = (builds["spark"] / name).read_text(encoding="utf-8").splitlines()
    assert actual[0] == expected[0]

    def by_table(lines: list[str]) -> dict[str, list[str]]:
        tables: dict[str, list[str]] = {}
        for text in lines[1:]:
            tables.setdefault(text.split(",", 1)[0], []).append(text)
        return tables

    expected_tables, actual_tables = by_table(expected), by_table(actual)
    assert sorted(actual_tables) == sorted(expected_tables)
    for table, rows in expected_tables.items():
        assert actual_tables[table] == rows, f"table {table} differs between the engines"
    assert (builds["spark"] / name).read_bytes() == (builds["duckdb"] / name).read_bytes()


def test_medians_are_exact_on_spark_halves_included(builds):
    tidy = pl.read_csv(builds["spark"] / f"{builds['spark'].name}.csv", infer_schema=False)
    medians = tidy.filter(pl.col("measure").str.starts_with("median_days"))
    assert medians.filter(pl.col("value").str.ends_with(".5")).height > 0
    assert medians.filter(pl.col("period") == YEAR_TO_DATE).height > 0


def test_every_file_of_the_publication_is_identical(builds):
    assert_same_tree(builds["duckdb"], builds["spark"], skip=("manifest.json",))
    manifests = {
        engine: json.loads((folder / "manifest.json").read_text())
        for engine, folder in builds.items()
    }
    for manifest in manifests.values():
        manifest.pop("build_time")
    assert manifests["duckdb"]["config"].pop("engine") == "duckdb"
    assert manifests["spark"]["config"].pop("engine") == "spark"
    assert manifests["spark"] == manifests["duckdb"]


def test_the_restricted_folder_is_identical(builds):
    duckdb_dir, spark_dir = (
        folder.with_name(f"{folder.name}.restricted") for folder in builds.values()
    )
    assert len((duckdb_dir / "quarantine.csv").read_text().splitlines()) > 1
    assert_same_tree(duckdb_dir, spark_dir)


@pytest.fixture(scope="module")
def damaged_inputs(tmp_path_factory) -> Path:
    """Every malformed file of test_malformed_inputs, a good CSV and a good Parquet file."""
    from tests.conftest import record
    from tests.test_malformed_inputs import CASES, GOOD_RECORDS, HEADER, good_lines

    folder = tmp_path_factory.mktemp("damaged")
    for name, (data, _) in CASES.items():
        (folder / name).write_bytes(data)
    (folder / "good.csv").write_text(HEADER + good_lines(GOOD_RECORDS), encoding="utf-8")
    records = [record() for _ in range(4)] + [record(DIAGNOSTIC_TEST_DATE="2024-13-01")]
    pl.DataFrame(records).select(SUBMISSION_COLUMNS).write_parquet(folder / "good.parquet")
    return folder


def test_damaged_files_come_out_the_same(spark, damaged_inputs, tmp_path):
    """File by file, the same records accepted, quarantined and reported, whichever engine."""
    from tests.conftest import TEST_IMAGING_CODES, TEST_SITES

    outs = {}
    for engine in ("duckdb", "spark"):
        outs[engine] = tmp_path / engine
        run_cli(
            "validate", damaged_inputs, "--sites", TEST_SITES, "--imaging-codes",
            TEST_IMAGING_CODES, "--submission-date", "2024-05-20", "--out", outs[engine],
            "--engine", engine, expect=1,
        )  # fmt: skip
    assert_same_tree(outs["duckdb"], outs["spark"])


@pytest.fixture(scope="module")
def xml_and_packed_inputs(tmp_path_factory) -> Path:
    """XML (good, and NHS England's malformed fixture), gzip and zip inputs (issue 19)."""
    import gzip
    import shutil
    import zipfile

    from tests.conftest import (
        NHSE_XML_FIXTURES,
        record,
        write_submission,
        write_xml_submission,
        xml_submission,
    )

    folder = tmp_path_factory.mktemp("xml")
    shutil.copyfile(
        NHSE_XML_FIXTURES / "00014_invalid_file_format" / "input.xml", folder / "broken.xml"
    )
    rows = [record() for _ in range(4)] + [record(ETHNIC_CATEGORY="a"), record(POSTCODE="")]
    write_xml_submission(folder / "good.xml", rows)
    csv_bytes = write_submission(tmp_path_factory.mktemp("plain") / "p.csv", rows).read_bytes()
    (folder / "good.csv.gz").write_bytes(gzip.compress(csv_bytes))
    (folder / "good.xml.gz").write_bytes(gzip.compress(xml_submission(rows)))
    (folder / "cut.xml.gz").write_bytes(gzip.compress(xml_submission(rows))[:-20])
    with zipfile.ZipFile(folder / "month.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.csv", csv_bytes)
        archive.writestr("b.xml", xml_submission(rows))
    return folder


def test_xml_and_compressed_files_come_out_the_same(spark, xml_and_packed_inputs, tmp_path):
    """Spark reads XML, zip members and compressed Parquet through the same Python
    readers, and gzip CSV itself: the same quarantine and report as DuckDB."""
    from tests.conftest import TEST_IMAGING_CODES, TEST_SITES

    outs = {}
    for engine in ("duckdb", "spark"):
        outs[engine] = tmp_path / engine
        run_cli(
            "validate", xml_and_packed_inputs, "--sites", TEST_SITES, "--imaging-codes",
            TEST_IMAGING_CODES, "--submission-date", "2024-05-20", "--out", outs[engine],
            "--engine", engine, expect=1,
        )  # fmt: skip
    assert_same_tree(outs["duckdb"], outs["spark"])
    files = pl.read_csv(outs["spark"] / "validation.restricted" / "files.csv")  # counts: restricted
    assert sorted(files["source_file"]) == [
        "broken.xml", "cut.xml.gz", "good.csv.gz", "good.xml", "good.xml.gz",
        "month.zip/a.csv", "month.zip/b.xml",
    ]  # fmt: skip
    loaded = files.filter(pl.col("status") == "loaded")
    assert loaded["records_accepted"].to_list() == [5] * 5


def test_records_from_a_spark_table_give_the_same_report(spark, synthetic, tmp_path):
    """Records held in a Spark table (a Databricks table, say) rather than in files: the
    same quality report and restricted folder as the files give on DuckDB."""
    from publish.pipeline import validate_only

    frames = []
    for path in sorted(synthetic.glob("*-2024-04.csv")):
        frame = pl.read_csv(path, infer_schema=False)
        frames.append(
            frame.select(
                pl.lit(path.name).alias("source_file"),
                pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("row_number"),
                *SUBMISSION_COLUMNS,
            )
        )
        (tmp_path / "april").mkdir(exist_ok=True)
        (tmp_path / "april" / path.name).write_bytes(path.read_bytes())
    spark.createDataFrame(pl.concat(frames).to_arrow()).createOrReplaceTempView("did_submissions")
    common = {"submissions": synthetic / "submissions.csv"}
    files = validate_only(
        load_config(None, common | {"inputs": (tmp_path / "april",), "out_dir": tmp_path / "files"})
    )
    table = validate_only(
        load_config(
            None,
            common
            | {"engine": "spark", "spark_table": "did_submissions", "out_dir": tmp_path / "table"},
        )
    )
    assert (table.received, table.accepted, table.rejected) == (
        files.received,
        files.accepted,
        files.rejected,
    )
    # A Spark table has no file bytes: the restricted size and SHA-256 are the files' own;
    # every record's accounting is the same.
    restricted = ("validation.restricted/manifest.json", "validation.restricted/files.csv")
    assert_same_tree(tmp_path / "files", tmp_path / "table", skip=restricted)
    by_file, by_table = (
        pl.read_csv(tmp_path / side / "validation.restricted" / "files.csv").drop("size_bytes")
        for side in ("files", "table")
    )
    assert by_file.equals(by_table)


def test_every_query_translates_to_spark_sql():
    from publish.engines.sql import Translator
    from publish.resources import resource_dir

    translator = Translator()
    translator.translate((resource_dir("queries") / "macros.sql").read_text())
    for path in sorted(resource_dir("queries").rglob("*.sql")):
        for statement in translator.translate(path.read_text()):
            upper = statement.upper()
            for duckdb_only in ("REGEXP_FULL_MATCH", "LIST_FILTER", "QUALIFY", "LATERAL ("):
                assert duckdb_only not in upper, f"{path.name}: {duckdb_only} left untranslated"


def test_without_pyspark_the_spark_engine_says_how_to_install_it(synthetic, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark now fails
    result = run_cli("build", synthetic, "--engine", "spark", "--out", tmp_path, expect=2)
    assert "pip install 'did-publish[spark]'" in result.output


def test_an_unknown_engine_is_a_usage_error(synthetic, tmp_path):
    result = run_cli("build", synthetic, "--engine", "postgres", "--out", tmp_path, expect=2)
    assert "'postgres' is not one of 'duckdb', 'spark'" in result.output
