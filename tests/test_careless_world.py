"""Nothing lost, nothing executed, nothing hangs: the inputs and settings a careless or
hostile world sends (issue 20), one test per case.

Each test that reads records also checks received = accepted + rejected, file by file,
in the restricted manifest or the public one.
"""

import ast
import fcntl
import hashlib
import json
import logging
import os
import re
import signal
import stat
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest

import publish
import publish.ingest.load as ingest
from publish import db
from publish.codes import SUBMISSION_COLUMNS
from publish.periods import financial_year_of
from tests.conftest import (
    TEST_IMAGING_CODES,
    TEST_SITES,
    build,
    record,
    run_cli,
    write_submission,
)

APRIL = "did-2024-25-provisional-2024-04"
PACKAGE = Path(publish.__file__).parent


def manifest_of(out: Path, identifier: str = APRIL) -> dict:
    return json.loads((out / identifier / "manifest.json").read_text(encoding="utf-8"))


def restricted_manifest_of(out: Path, identifier: str = APRIL) -> dict:
    path = out / f"{identifier}.restricted" / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))


def accounted(out: Path, identifier: str = APRIL) -> dict[str, dict]:
    """The restricted manifest's inputs by name (a file's counts are the producer's
    only), each checked: received = accepted + rejected; the public manifest lists the
    same files."""
    restricted = restricted_manifest_of(out, identifier)
    inputs = {entry["file"]: entry for entry in restricted["inputs"]}
    public = [entry["file"] for entry in manifest_of(out, identifier)["inputs"]]
    assert public == [entry["file"] for entry in restricted["inputs"]]
    for name, entry in inputs.items():
        received = entry["records_received"]
        assert received == entry["records_accepted"] + entry["records_rejected"], name
    totals = restricted["totals"]
    assert totals["received"] == totals["accepted"] + totals["rejected"]
    return inputs


def quarantine_of(out: Path, identifier: str = APRIL) -> pl.DataFrame:
    return pl.read_csv(out / f"{identifier}.restricted" / "quarantine.csv", infer_schema=False)


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def public_digest(folder: Path) -> dict[str, str]:
    """A publication's files, the manifest aside (it holds the build time)."""
    return {k: v for k, v in tree_digest(folder).items() if k != "manifest.json"}


def cli_process(*args: str | Path, env: dict | None = None, **kwargs) -> subprocess.Popen:
    """`did-publish` in a process of its own (for signals and concurrent builds)."""
    return subprocess.Popen(
        [sys.executable, "-c", "from publish.cli import app; app()", *map(str, args)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def run_process(*args: str | Path, env: dict | None = None) -> subprocess.CompletedProcess:
    process = cli_process(*args, env=env)
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def reference_options() -> list[str | Path]:
    return ["--sites", TEST_SITES, "--imaging-codes", TEST_IMAGING_CODES]


# --------------------------------------------------------------------------- discovery


def test_every_file_of_a_folder_is_read_or_rejected_whole_with_its_reason(tmp_path, caplog):
    import gzip

    folder = tmp_path / "in"
    write_submission(folder / "a.csv", [record() for _ in range(3)])
    packed = write_submission(tmp_path / "b.csv", [record() for _ in range(2)])
    (folder / "b.csv.gz").write_bytes(gzip.compress(packed.read_bytes()))
    (folder / "c.xml").write_bytes(b"<not-closed>")
    for name in ("notes.docx", "README"):
        (folder / name).write_bytes(b"not a submission\n")
    result = build([folder], tmp_path / "out")
    inputs = accounted(tmp_path / "out")
    assert set(inputs) == {"a.csv", "b.csv.gz", "c.xml", "notes.docx", "README"}
    assert inputs["a.csv"]["records_accepted"] == 3
    assert inputs["b.csv.gz"]["records_accepted"] == 2
    assert inputs["c.xml"]["status"] == "rejected"  # damaged: rejected with its reason
    for name in ("notes.docx", "README"):
        entry = inputs[name]
        assert entry["status"] == "rejected", name
        assert "unsupported type" in entry["message"], entry["message"]
        assert f"{name}: rejected: unsupported type" in result.output


def test_a_compressed_file_given_directly_is_read_or_said_to_be_unsupported(tmp_path):
    import gzip

    plain = write_submission(tmp_path / "a.csv", [record() for _ in range(3)])
    packed = tmp_path / "a.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    build([packed], tmp_path / "out", expect=None)
    entry = accounted(tmp_path / "out")["a.csv.gz"] if (tmp_path / "out" / APRIL).exists() else None
    if entry is not None and entry["status"] == "loaded":
        assert entry["records_accepted"] == 3  # read (issue 19)
    else:
        result = build([packed], tmp_path / "out2", expect=2)
        assert "a.csv.gz: rejected: unsupported type (.gz)" in result.output
        assert "columns found" not in result.output


def test_a_fifo_is_rejected_not_read_and_nothing_hangs(tmp_path):
    write_submission(tmp_path / "in" / "a.csv", [record() for _ in range(3)])
    os.mkfifo(tmp_path / "in" / "pipe.csv")
    os.mkfifo(tmp_path / "given.csv")
    result = run_process(
        "build", tmp_path / "in", tmp_path / "given.csv", *reference_options(),
        "--out", tmp_path / "out",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    inputs = accounted(tmp_path / "out")
    for name in ("pipe.csv", "given.csv"):
        assert inputs[name]["status"] == "rejected"
        assert "not a regular file" in inputs[name]["message"]
    assert inputs["a.csv"]["records_accepted"] == 3


def test_the_builds_own_output_and_store_are_never_read_as_input(tmp_path, caplog):
    folder = tmp_path / "in"
    write_submission(folder / "a.csv", [record() for _ in range(4)])
    out, store = folder / "out", folder / "store"
    build([folder], out, "--store", store)
    first = accounted(out)
    caplog.clear()
    caplog.set_level(logging.INFO, "did_publish")
    build([folder], out, "--store", store)
    assert accounted(out) == first
    assert set(first) == {"a.csv"}
    said = [line for line in caplog.text.splitlines() if "not read as input" in line]
    assert len(said) == 2, caplog.text  # once each: the output folder and the store


def test_two_inputs_of_one_name_in_two_folders_are_named_apart(tmp_path):
    first = write_submission(tmp_path / "one" / "a.csv", [record() for _ in range(2)])
    write_submission(tmp_path / "two" / "a.csv", [record() for _ in range(3)])
    write_submission(tmp_path / "one" / "april" / "b.csv", [record()])
    build([tmp_path / "one", tmp_path / "two"], tmp_path / "out")
    inputs = accounted(tmp_path / "out")
    assert set(inputs) == {f"{tmp_path}/one/a.csv", f"{tmp_path}/two/a.csv", "april/b.csv"}
    assert inputs[f"{tmp_path}/two/a.csv"]["records_accepted"] == 3
    assert (
        inputs[f"{tmp_path}/one/a.csv"]["sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    )


def test_two_rejected_files_of_one_name_from_two_folders_are_both_kept(tmp_path):
    for folder, columns in (("one", 3), ("two", 4)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "bad.csv").write_text(",".join(["x"] * columns) + "\n")
    write_submission(tmp_path / "one" / "good.csv", [record()])
    build([tmp_path / "one", tmp_path / "two"], tmp_path / "out")
    restricted = tmp_path / "out" / f"{APRIL}.restricted"
    listed = pl.read_csv(restricted / "rejected_files.csv")
    assert listed.height == 2
    copies = [restricted / copy for copy in listed["copy"]]
    assert len(set(copies)) == 2
    assert sorted(path.read_text().count("x") for path in copies) == [3, 4]


# --------------------------------------------------------------------------- records


def test_a_record_too_large_for_the_reader_is_quarantined_and_counted(tmp_path):
    path = write_submission(tmp_path / "a.csv", [record() for _ in range(3)])
    huge = record(REFERRER="x" * (50 * 1024 * 1024))  # DuckDB 2.0 drops it silently
    with path.open("a") as handle:
        handle.write(",".join(huge[name] for name in SUBMISSION_COLUMNS) + "\n")
    build([path], tmp_path / "out")
    entry = accounted(tmp_path / "out")["a.csv"]
    assert (entry["records_received"], entry["records_accepted"]) == (4, 3)
    quarantine = quarantine_of(tmp_path / "out")
    assert quarantine["rule_codes"].to_list() == ["DIDS075"]
    assert quarantine["row_number"].to_list() == ["4"]


def test_a_long_last_record_without_a_newline_is_read_or_quarantined(tmp_path):
    path = write_submission(tmp_path / "a.csv", [record() for _ in range(3)])
    last = record(REFERRER="x" * 40_000_000)
    with path.open("a") as handle:
        handle.write(",".join(last[name] for name in SUBMISSION_COLUMNS))  # no newline
    build([path], tmp_path / "out")
    entry = accounted(tmp_path / "out")["a.csv"]
    assert (entry["records_received"], entry["records_accepted"]) == (4, 3)
    assert quarantine_of(tmp_path / "out")["rule_codes"].to_list() == ["DIDS075"]


def test_tab_and_no_break_space_padding_are_trimmed_like_spaces(tmp_path):
    padded = [
        record(DIAGNOSTIC_TEST_DATE="\t2024-04-10"),
        record(DIAGNOSTIC_TEST_DATE="2024-04-10\u00a0", SITE_CODE_IMAGING="\u00a0RAA01\t"),
        record(PATIENT_SOURCE_SETTING=" \t03"),
    ]
    path = write_submission(tmp_path / "a.csv", padded)
    build([path], tmp_path / "out")
    entry = accounted(tmp_path / "out")["a.csv"]
    assert (entry["records_received"], entry["records_accepted"]) == (3, 3)


def test_a_date_after_the_build_date_breaks_dids051_and_dids066_without_submission_date(
    tmp_path, caplog
):
    real = [record() for _ in range(5)]
    future = record(DIAGNOSTIC_TEST_DATE="2042-05-10", SERVICE_REPORT_DATE="2042-05-11")
    report = record(SERVICE_REPORT_DATE=(date.today() + timedelta(days=30)).isoformat())
    path = write_submission(tmp_path / "a.csv", [*real, future, report])
    build([path], tmp_path / "out")
    # The default period is the latest month of the accepted records, not 2042-05.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [APRIL, f"{APRIL}.restricted"]
    entry = accounted(tmp_path / "out")["a.csv"]
    assert (entry["records_accepted"], entry["records_rejected"]) == (5, 2)
    codes = [set(c.split()) for c in quarantine_of(tmp_path / "out")["rule_codes"]]
    assert {"DIDS051", "DIDS066"} <= codes[0] and "DIDS066" in codes[1]
    assert "DIDS051 and DIDS066 compare with the build date" in caplog.text


def test_a_test_date_of_9999_12_31_gets_a_rule_code(tmp_path):
    far = record(DIAGNOSTIC_TEST_DATE="9999-12-31", SERVICE_REPORT_DATE="")
    path = write_submission(tmp_path / "a.csv", [record(), far])
    result = build([path], tmp_path / "out")
    assert "Traceback" not in result.output
    entry = accounted(tmp_path / "out")["a.csv"]
    assert (entry["records_accepted"], entry["records_rejected"]) == (1, 1)
    assert "DIDS051" in quarantine_of(tmp_path / "out")["rule_codes"][0]


def test_a_test_date_of_9999_12_31_submitted_then_is_a_clear_error(tmp_path):
    far = record(DIAGNOSTIC_TEST_DATE="9999-12-31", SERVICE_REPORT_DATE="")
    path = write_submission(tmp_path / "a.csv", [far])
    result = build([path], tmp_path / "out", "--submission-date", "9999-12-31", expect=2)
    assert "latest accepted month, 9999-12, is past 9998-12" in result.output


def test_a_test_date_after_today_with_a_later_submission_date_is_warned(tmp_path, caplog):
    soon = (date.today() + timedelta(days=62)).replace(day=1)
    path = write_submission(
        tmp_path / "a.csv",
        [record(), record(DIAGNOSTIC_TEST_DATE=soon.isoformat(), SERVICE_REPORT_DATE="")],
    )
    later = (soon + timedelta(days=3)).isoformat()
    build([path], tmp_path / "out", "--submission-date", later)
    assert "have a test date after this month" in caplog.text
    accounted(
        tmp_path / "out",
        f"did-{financial_year_of(soon.strftime('%Y-%m'))}-provisional-{soon:%Y-%m}",
    )


def test_a_period_outside_the_data_is_a_clear_error(tmp_path):
    path = write_submission(tmp_path / "a.csv", [record() for _ in range(3)])
    result = build([path], tmp_path / "out", "--period", "2019-06", expect=2)
    assert "--period 2019-06: no accepted record in 2019-04 to 2019-06" in result.output
    assert "2024-04" in result.output
    assert not (tmp_path / "out" / "did-2019-20-provisional-2019-06").exists()


def test_files_not_in_the_submissions_manifest_are_named_on_the_console(tmp_path, caplog):
    write_submission(tmp_path / "in" / "listed.csv", [record()])
    write_submission(tmp_path / "in" / "forgotten.csv", [record()])
    dates = tmp_path / "dates.csv"
    dates.write_text("file,submission_date\nlisted.csv,2024-05-03\n")
    build([tmp_path / "in"], tmp_path / "out", "--submissions", dates)
    warning = next(line for line in caplog.text.splitlines() if "not in dates.csv" in line)
    assert "forgotten.csv" in warning and "listed.csv" not in warning
    accounted(tmp_path / "out")


def test_an_input_that_changes_during_the_build_is_refused(tmp_path, monkeypatch):
    path = write_submission(tmp_path / "a.csv", [record() for _ in range(3)])
    hashed = ingest.digest_of

    def hash_then_grow(target: Path):
        digest = hashed(target)
        with target.open("a") as handle:  # a provider's extract still being written
            handle.write(",".join(record()[name] for name in SUBMISSION_COLUMNS) + "\n")
        return digest

    monkeypatch.setattr(ingest, "digest_of", hash_then_grow)
    result = build([path], tmp_path / "out", expect=None)
    if result.exit_code == 0:  # then the manifest's hash is of the bytes read
        entry = accounted(tmp_path / "out")["a.csv"]
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    else:
        assert result.exit_code == 2
        assert "changed while the build read it" in result.output


# --------------------------------------------------------------------------- SQL


def test_settings_never_reach_sql_as_text(tmp_path):
    leak = tmp_path / "leak.csv"
    config = tmp_path / "config.toml"
    config.write_text(
        "[build]\nmemory_limit = \"3GB'; COPY (SELECT 42) TO '"
        + leak.as_posix()
        + "' (FORMAT csv); SET memory_limit = '3GB\"\n"
    )
    path = write_submission(tmp_path / "a.csv", [record()])
    result = build([path], tmp_path / "out", "--config", config, expect=2)
    assert "memory_limit" in result.output and "expected a memory size" in result.output
    assert not leak.exists()


def test_paths_with_quotes_are_only_paths(tmp_path):
    path = write_submission(tmp_path / "in'put" / "a'b.csv", [record() for _ in range(2)])
    out, store = tmp_path / "o'ut", tmp_path / "st'ore"
    build([path.parent], out, "--store", store)
    build([path.parent], out, "--store", store)  # and read back from the store
    assert accounted(out)["a'b.csv"]["records_accepted"] == 2


SQL_WORDS = re.compile(
    r"\b(SELECT|COPY|SET|INSERT|CREATE|DELETE|UPDATE|FROM)\b|read_(csv|parquet)\("
)


def test_no_f_string_pastes_a_value_into_sql_between_quotes():
    """A value inside quotes in an f-string of SQL ('{path}') is SQL built from text; it
    must be a bound parameter, or go through db.quote_literal."""
    offences = []
    for source in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.JoinedStr):
                continue
            parts = node.values
            text = "".join(p.value for p in parts if isinstance(p, ast.Constant))
            if not SQL_WORDS.search(text):
                continue
            for before, value in zip(parts, parts[1:], strict=False):
                quoted = isinstance(before, ast.Constant) and str(before.value).endswith("'")
                if quoted and isinstance(value, ast.FormattedValue):
                    offences.append(f"{source.name}:{node.lineno}")
    assert not offences, offences


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ('k = "ten"', "k = 'ten': expected a whole number of at least 2"),
        ("period = 202411", "period = 202411: expected a month as text, YYYY-MM"),
        ("sites = 5", "sites = 5: expected a file or folder path as text"),
        ('submission_date = "2024-13-01"', "submission_date = '2024-13-01': expected a date"),
        ("submission_date = 20241201", "submission_date = 20241201: expected a date"),
        ("memory_limit = 3", "memory_limit = 3: expected a memory size as text"),
        ('policy = "open"', "policy = 'open': expected one of"),
        ("colour = 1", "unknown setting 'colour'"),
    ],
)
def test_each_wrong_setting_is_one_line_naming_the_key(tmp_path, setting, named):
    config = tmp_path / "config.toml"
    config.write_text(f"[build]\n{setting}\n")
    path = write_submission(tmp_path / "a.csv", [record()])
    result = build([path], tmp_path / "out", "--config", config, expect=2)
    assert named in result.output, result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_inputs_as_one_path_is_one_input(tmp_path):
    write_submission(tmp_path / "x.csv", [record() for _ in range(2)])
    config = tmp_path / "config.toml"
    config.write_text('[build]\ninputs = "x.csv"\n')
    run_cli(
        "build", "--config", config, *reference_options(), "--out", tmp_path / "out",
    )  # fmt: skip
    assert accounted(tmp_path / "out")["x.csv"]["records_accepted"] == 2


# --------------------------------------------------------------------------- folders


def test_record_level_folders_are_private_whatever_the_umask(tmp_path):
    path = write_submission(tmp_path / "a.csv", [record(), record(DIAGNOSTIC_TEST_DATE="bad")])
    previous = os.umask(0o000)
    try:
        build([path], tmp_path / "out", "--store", tmp_path / "store")
    finally:
        os.umask(previous)
    for folder in (tmp_path / "out" / f"{APRIL}.restricted", tmp_path / "store"):
        for item in [folder, *folder.rglob("*")]:
            mode = stat.S_IMODE(item.stat().st_mode)
            assert mode == (0o700 if item.is_dir() else 0o600), (item, oct(mode))


def test_the_work_folder_of_a_killed_build_is_private_and_removed_by_the_next(tmp_path, caplog):
    path = write_submission(tmp_path / "in" / "a.csv", [record() for _ in range(3)])
    out = tmp_path / "out"
    killed = run_process(
        "build", path.parent, *reference_options(), "--out", out,
        env={"DID_PUBLISH_KILL_AT": "render"},
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    left = [p for p in out.iterdir() if p.name.startswith(".")]
    assert any(p.name.startswith(".did-work-") for p in left), left
    for folder in left:
        if folder.name.startswith(".did-work-") or ".restricted.building-" in folder.name:
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    build([path.parent], out)
    assert "left by a build that was stopped" in caplog.text
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_ctrl_c_is_one_line_exit_130_and_the_previous_publication_stays(tmp_path):
    path = write_submission(tmp_path / "in" / "a.csv", [record() for _ in range(3)])
    out = tmp_path / "out"
    build([path.parent], out)
    before = tree_digest(out)
    write_submission(tmp_path / "in" / "b.csv", [record() for _ in range(2)])
    result = run_process(
        "build", path.parent, *reference_options(), "--out", out,
        env={"DID_PUBLISH_INTERRUPT_AT": "ingest"},
    )  # fmt: skip
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("did-publish: interrupted")
    assert "Traceback" not in result.stderr
    assert tree_digest(out) == before


KILL_POINTS = ("ingest", "render", "before-swaps", "between-swaps", "after-exchange-publication")


@pytest.fixture(scope="module")
def killed_builds(tmp_path_factory):
    """A first publication, then a build killed (SIGKILL) at each point, each on a copy."""
    base = tmp_path_factory.mktemp("killed")
    inputs = base / "in"
    write_submission(inputs / "a.csv", [record(), record(DIAGNOSTIC_TEST_DATE="bad")])
    build([inputs], base / "clean-first")
    write_submission(inputs / "b.csv", [record(), record(), record(SITE_CODE_IMAGING="")])
    build([inputs], base / "clean")
    results = {}
    for point in KILL_POINTS:
        out = base / point
        build([inputs / "a.csv"], out)
        old = public_digest(out / APRIL)
        killed = run_process(
            "build", inputs, *reference_options(), "--out", out,
            env={"DID_PUBLISH_KILL_AT": point},
        )  # fmt: skip
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr)
        visible = public_digest(out / APRIL)
        results[point] = (out, old, visible)
    return base, inputs, results


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_build_killed_at_any_point_leaves_a_complete_consistent_pair(
    killed_builds, point, caplog
):
    from publish.pipeline import folder_digest

    base, inputs, results = killed_builds
    out, old, visible = results[point]
    new = public_digest(base / "clean" / APRIL)
    # A complete publication is visible: the old one, or (once swapped) the new one.
    assert visible == (new if point == "after-exchange-publication" else old)
    manifest = manifest_of(out)
    restricted = folder_digest(out / f"{APRIL}.restricted")
    if point == "between-swaps":
        # The restricted folder is swapped in first; the publication's manifest names the
        # restricted folder it belongs to, so the pair is told apart until the next build.
        assert manifest["restricted_folder_sha256"] != restricted
    else:
        assert manifest["restricted_folder_sha256"] == restricted
    # The next build removes what the killed one left and gives the clean build's output.
    build([inputs], out)
    assert "left by a build that was stopped" in caplog.text
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    assert public_digest(out / APRIL) == new
    assert tree_digest(out / f"{APRIL}.restricted") == tree_digest(
        base / "clean" / f"{APRIL}.restricted"
    )


def test_a_second_build_on_the_same_out_refuses_clearly(tmp_path):
    path = write_submission(tmp_path / "a.csv", [record()])
    out = tmp_path / "out"
    out.mkdir()
    descriptor = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # as a running build holds it
        result = build([path], out, expect=2)
        assert "another build is using this output folder" in result.output
    finally:
        os.close(descriptor)
    build([path], out)


def test_two_builds_at_once_on_one_out_and_store_leave_a_correct_publication(tmp_path):
    inputs = tmp_path / "in"
    for name in ("a", "b", "c"):
        write_submission(inputs / f"{name}.csv", [record() for _ in range(3)])
    build([inputs], tmp_path / "clean")
    out, store = tmp_path / "out", tmp_path / "store"
    options = [inputs, *reference_options(), "--out", out, "--store", store]
    processes = [cli_process("build", *options) for _ in range(2)]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in processes]
    for code, stderr in outcomes:
        assert code == 0 or (code == 2 and "another build is using" in stderr), stderr
    assert any(code == 0 for code, _ in outcomes)
    assert public_digest(out / APRIL) == public_digest(tmp_path / "clean" / APRIL)
    accounted(out)


# --------------------------------------------------------------------------- store


@pytest.fixture
def stored(tmp_path):
    inputs = tmp_path / "in"
    write_submission(inputs / "a.csv", [record() for _ in range(4)])
    write_submission(inputs / "b.csv", [record(), record(DIAGNOSTIC_TEST_DATE="bad")])
    store = tmp_path / "store"
    build([inputs], tmp_path / "first", "--store", store)
    return inputs, store, public_digest(tmp_path / "first" / APRIL)


def test_a_changed_input_with_size_and_mtime_kept_is_read_again(tmp_path, stored):
    inputs, store, _ = stored
    path = inputs / "a.csv"
    before = path.stat()
    text = path.read_text()
    changed = text.replace("2024-04-10", "2024-04-12", 1)  # same size
    assert len(changed) == len(text)
    path.write_text(changed)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    result = build([inputs], tmp_path / "again", "--store", store)
    assert "1 file(s) reused, 1 new" in result.output
    build([inputs], tmp_path / "clean")
    assert public_digest(tmp_path / "again" / APRIL) == public_digest(tmp_path / "clean" / APRIL)


@pytest.mark.parametrize("damage", ["tripled", "truncated", "deleted", "record"])
def test_a_damaged_store_file_is_named_and_made_again(tmp_path, stored, damage, caplog):
    inputs, store, first = stored
    damaged = sorted((store / "cube").glob("*.parquet"))[0]
    if damage == "tripled":
        frame = pl.read_parquet(damaged)
        frame.with_columns(pl.col("n") * 3).write_parquet(damaged)
    elif damage == "truncated":
        damaged.write_bytes(damaged.read_bytes()[:100])
    elif damage == "deleted":
        damaged.unlink()
    else:  # a file's record: its count of records received changed
        damaged = sorted((store / "files").glob("*.json"))[0]
        record = json.loads(damaged.read_text())
        record["records_received"] *= 3
        damaged.write_text(json.dumps(record))
    for counted in (store / "resolved").glob("*.counted_cube.parquet"):
        frame = pl.read_parquet(counted)
        frame.with_columns(pl.col("n") * 3).write_parquet(counted)
    build([inputs], tmp_path / "again", "--store", store)
    assert f"record store: {damaged}" in caplog.text  # the damaged file is named
    assert public_digest(tmp_path / "again" / APRIL) == first
    assert accounted(tmp_path / "again") == accounted(tmp_path / "first")


# --------------------------------------------------------------------------- quarantine


def test_the_quarantine_workbook_holds_every_value_as_text(tmp_path):
    hostile = record(
        NHS_NUMBER='=HYPERLINK("http://example.invalid","x")',
        DIAGNOSTIC_TEST_DATE="+1+1",
        POSTCODE="@SUM(1)",
    )
    path = write_submission(tmp_path / "a.csv", [record(), hostile])
    build([path], tmp_path / "out")
    restricted = tmp_path / "out" / f"{APRIL}.restricted"
    # quarantine.csv keeps the value as received (the contract) ...
    assert quarantine_of(tmp_path / "out")["NHS_NUMBER"][0].startswith("=HYPERLINK")
    # ... and quarantine.xlsx offers it as text: no cell is a formula or a number.
    sheet = openpyxl.load_workbook(restricted / "quarantine.xlsx").active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert cells and all(cell.data_type == "s" for cell in cells if cell.value is not None)
    values = [cell.value for cell in cells]
    assert '=HYPERLINK("http://example.invalid","x")' in values and "+1+1" in values


@pytest.mark.parametrize(
    "error", [duckdb.InterruptException("INTERRUPT"), RuntimeError("Query interrupted")]
)
def test_a_query_stopped_by_ctrl_c_stops_the_build_rather_than_rejecting_a_file(error):
    """DuckDB reports Ctrl-C as a DuckDB error (or a bare RuntimeError): ingest would
    take it for a damaged file and go on. Every query runs through db.interruptible."""
    with pytest.raises(KeyboardInterrupt), db.interruptible():
        raise error
    with pytest.raises(RuntimeError), db.interruptible():
        raise RuntimeError("another error")
