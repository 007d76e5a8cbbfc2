"""Running out of memory or disk is said as such, not as a fault in the inputs."""

import errno

import duckdb
import pytest

import publish.pipeline
from tests.conftest import build, record, write_submission


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (duckdb.OutOfMemoryException("could not allocate block"), "out of memory"),
        (MemoryError(), "out of memory"),
        (OSError(errno.ENOSPC, "No space left on device"), "out of disk space"),
        (duckdb.IOException("Could not write file: No space left on device"), "out of disk"),
    ],
)
def test_a_shortage_of_memory_or_disk_is_named(tmp_path, monkeypatch, error, said):
    path = write_submission(tmp_path / "in.csv", [record()])

    def short_of_resources(*args, **kwargs):
        raise error

    monkeypatch.setattr(publish.pipeline, "aggregate_tables", short_of_resources)
    result = build([path], tmp_path / "out", "--submission-date", "2024-05-20", expect=2)
    assert said in result.output
    assert "nothing was published" in result.output
    assert "checking the inputs" not in result.output
    assert not [p for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")]
