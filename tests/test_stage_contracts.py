"""The stage contracts (`publish/stage_tables.py`): every table a stage hands on is
declared once, with the stage that writes it and its columns; a build checks them at
the end of each stage when DID_PUBLISH_CHECK_STAGES is set (issue 14)."""

from dataclasses import replace

import pytest

from publish import stage_tables
from publish.errors import StageContractBroken
from publish.resources import resource_dir
from publish.stage_tables import (
    CHECK_ENV,
    contract_problems,
    declarations,
    sql_writes_undeclared,
)
from tests.conftest import NHSE_FIXTURES, build

OPTIONS = ("--period", "2025-07", "--submission-date", "2025-08-15")


@pytest.fixture(autouse=True)
def checked(monkeypatch):
    monkeypatch.setenv(CHECK_ENV, "1")


def test_a_build_keeps_every_contract_fresh_and_from_the_store(tmp_path):
    store = tmp_path / "store"
    build([NHSE_FIXTURES], tmp_path / "first", *OPTIONS, "--store", store)
    result = build([NHSE_FIXTURES], tmp_path / "again", *OPTIONS, "--store", store)
    assert "file(s) reused, 0 new" in result.output


def without(name: str) -> tuple:
    return tuple(t for t in stage_tables.DECLARED if t.name != name)


def test_a_table_no_stage_declares_fails_the_build(tmp_path, monkeypatch):
    monkeypatch.setattr(stage_tables, "DECLARED", without("counted_cube"))
    result = build([NHSE_FIXTURES], tmp_path, *OPTIONS, expect=None)
    assert isinstance(result.exception, StageContractBroken)
    assert "after stage resolve: counted_cube: on the connection after stage resolve, " in str(
        result.exception
    )


def test_columns_other_than_declared_fail_the_build(tmp_path, monkeypatch):
    changed = tuple(
        replace(t, columns_text=t.columns_text.replace("test_month", "month_of_test"))
        if t.name == "activity_cube"
        else t
        for t in stage_tables.DECLARED
    )
    monkeypatch.setattr(stage_tables, "DECLARED", changed)
    result = build([NHSE_FIXTURES], tmp_path, *OPTIONS, expect=None)
    assert isinstance(result.exception, StageContractBroken)
    message = str(result.exception)
    assert message.startswith("after stage aggregate: activity_cube: undeclared columns")
    assert "['test_month'], declared but absent ['month_of_test']" in message


def test_a_table_of_a_later_stage_is_a_broken_contract():
    counted = sorted(declarations()["counted_cube"].columns)
    assert contract_problems({"counted_cube": counted}, "ingest") == [
        "counted_cube: declared for stage resolve, there after ingest"
    ]
    assert contract_problems({"counted_cube": counted}, "aggregate") == []


def test_every_sql_file_declares_the_tables_it_writes_in_its_header():
    root = resource_dir("queries")
    problems = [
        problem
        for path in sorted(root.rglob("*.sql"))
        for problem in sql_writes_undeclared(path.read_text(), path.relative_to(root).as_posix())
    ]
    assert problems == []
    declared = {t.name: t for t in stage_tables.sql_declarations()}
    assert declared["activity_cube"].stage == "aggregate"
    assert declared["counted_cube"].columns == declarations()["counted_cube"].columns
    assert "test_month" in declared["counted_cube"].columns


def test_a_sql_file_that_writes_an_undeclared_table_is_caught():
    text = (resource_dir("queries") / "aggregate" / "activity_cube.sql").read_text()
    broken = text.replace("--   submitted_periods:", "--   submitted_period:")
    assert sql_writes_undeclared(broken, "aggregate/activity_cube.sql") == [
        "aggregate/activity_cube.sql: creates submitted_periods, not declared",
        "aggregate/activity_cube.sql: declares submitted_period, never creates it",
    ]
