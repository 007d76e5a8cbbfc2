"""A build that fails or is interrupted half-way leaves the previous publication as it
was, byte for byte, and no half-written folder behind (folders.write_atomically)."""

import hashlib
import shutil
from pathlib import Path

import pytest

import publish.pipeline as pipeline
from publish.config import load_config
from tests.conftest import TEST_IMAGING_CODES, TEST_SITES, build, record, write_submission


def digest_tree(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder`, with the SHA-256 of each file."""
    return {
        path.relative_to(folder).as_posix(): (
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
        )
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="module")
def first_publication(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("atomic")
    first = write_submission(folder / "in" / "a.csv", [record() for _ in range(5)])
    build([first], folder / "out")
    # The next build adds a file, so that it would change the publication if it finished.
    write_submission(folder / "in" / "b.csv", [record() for _ in range(4)])
    return folder


@pytest.fixture
def published(first_publication, tmp_path) -> tuple[Path, Path, dict[str, str]]:
    """A copy of the first publication and its inputs, and the digest of its output."""
    shutil.copytree(first_publication, tmp_path, dirs_exist_ok=True)
    return tmp_path / "in", tmp_path / "out", digest_tree(tmp_path / "out")


def config_for(inputs: Path, out: Path):
    return load_config(
        None,
        {
            "inputs": (inputs,),
            "out_dir": out,
            "sites": TEST_SITES,
            "imaging_codes": TEST_IMAGING_CODES,
        },
    )


def half_written_workbook(exception: BaseException):
    def write(publication, path, cover, ods_path=None):
        path.write_bytes(b"PK\x03\x04 half a workbook")
        raise exception

    return write


@pytest.mark.parametrize(
    "exception", [RuntimeError("disk full"), KeyboardInterrupt()], ids=["error", "interrupt"]
)
def test_an_interrupted_build_leaves_the_previous_publication_untouched(
    published, monkeypatch, exception
):
    inputs, out, before = published
    monkeypatch.setattr(pipeline, "write_workbook", half_written_workbook(exception))
    with pytest.raises(type(exception)):
        pipeline.build_publication(config_for(inputs, out))
    after = digest_tree(out)
    # The restricted folder is written first, and completely, by its own atomic swap; the
    # publication is exactly the previous one.
    publication = next(
        name for name in before if "/" not in name and not name.endswith(".restricted")
    )
    assert {k: v for k, v in after.items() if k.startswith(publication)} == {
        k: v for k, v in before.items() if k.startswith(publication)
    }
    assert not [name for name in after if name.startswith(".")], "a partial folder was left"


def test_a_failure_in_the_quality_report_is_atomic_too(published, monkeypatch):
    inputs, out, before = published

    def broken_report(report, folder, published_on=None, **pages):
        (folder / "quality").mkdir(exist_ok=True)
        (folder / "quality" / "index.html").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "write_quality_pages", broken_report)
    with pytest.raises(KeyboardInterrupt):
        pipeline.build_publication(config_for(inputs, out))
    after = digest_tree(out)
    assert {k: v for k, v in after.items() if ".restricted" not in k} == {
        k: v for k, v in before.items() if ".restricted" not in k
    }
    assert not [name for name in after if name.startswith(".")]


def test_an_error_through_the_command_line_is_reported_and_atomic(published, monkeypatch):
    import duckdb

    inputs, out, before = published

    def failing(publication, path, cover, ods_path=None):
        path.write_bytes(b"half")
        raise duckdb.InvalidInputException("Original Line: 9434765919,01,1960-05-17")

    monkeypatch.setattr(pipeline, "write_workbook", failing)
    result = build([inputs], out, expect=2)
    assert "InvalidInputException" in result.output
    assert "9434765919" not in result.output  # the error's own text is withheld
    assert "Traceback" not in result.output
    after = digest_tree(out)
    assert {k: v for k, v in after.items() if ".restricted" not in k} == {
        k: v for k, v in before.items() if ".restricted" not in k
    }
    assert not [name for name in after if name.startswith(".")]


def test_a_finished_build_replaces_the_publication(published):
    inputs, out, before = published
    build([inputs], out)
    after = digest_tree(out)
    assert after != before
    assert not [name for name in after if name.startswith(".")]
