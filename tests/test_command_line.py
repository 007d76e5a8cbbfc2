"""The command line as a new analyst meets it (issue 18): the no-input guard, the release
details and their warnings, `--json`, one-line errors, `serve`, `init`, `--version`.

Builds here are of a few records with the small test reference data (about a second).
"""

import json
import threading
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from publish import __version__
from publish.config import load_config
from publish.render.release import (
    ReleaseDetails,
    default_next_update,
    default_publication_date,
    release_warnings,
)
from publish.render.site import make_server
from publish.render.workbook import load_cover_text
from tests.conftest import build, record, run_cli, validate, write_submission


def cover_words(publication_dir: Path) -> str:
    book = openpyxl.load_workbook(publication_dir / f"{publication_dir.name}.xlsx", read_only=True)
    return " ".join(str(row[0]) for row in book["Cover"].iter_rows(values_only=True) if row[0])


def one_line_error(result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


# --------------------------------------------------------------------------- no input


@pytest.mark.parametrize(
    "options",
    [("--period", "2024-11"), ("--policy", "strict"), ("--status", "final")],
)
def test_a_publication_option_without_input_is_an_error_not_the_demo(tmp_path, options):
    result = run_cli("build", *options, "--out", tmp_path, expect=2)
    line = one_line_error(result)
    assert "missing INPUT" in line and options[0] in line
    assert not list(tmp_path.iterdir())  # nothing built, no demo


def test_a_config_without_inputs_is_an_error_naming_it(tmp_path):
    config = tmp_path / "did.toml"
    config.write_text('[build]\npolicy = "hes"\n')
    result = run_cli("build", "--config", config, "--out", tmp_path / "out", expect=2)
    line = one_line_error(result)
    assert "missing INPUT" in line and f"no inputs in {config}" in line


# --------------------------------------------------------------------------- release


def test_release_dates_are_derived_from_the_period():
    assert default_publication_date("2025-03") == date(2025, 5, 8)  # second Thursday of May
    assert default_publication_date("2024-11") == date(2025, 1, 9)
    assert default_next_update("2025-03", date(2025, 5, 8)) == (
        "June 2025, with data up to April 2025."
    )
    details = ReleaseDetails(date(2025, 3, 20), "x", "did@example.org")
    warned = release_warnings(details, "2025-03", ("2024-05",))
    assert len(warned) == 3
    assert "placeholder" in warned[0] and "2025-03-20" in warned[1] and "May 2024" in warned[2]
    assert not release_warnings(ReleaseDetails(date(2025, 5, 8), "x", "a@nhs.net"), "2025-03", ())


@pytest.fixture(scope="module")
def april_and_june(tmp_path_factory) -> Path:
    """Records in April and June 2024, none in May."""
    folder = tmp_path_factory.mktemp("april-june")
    write_submission(folder / "april.csv", [record() for _ in range(4)])
    june = dict(
        DIAGNOSTIC_TEST_REQUEST_DATE="2024-06-01",
        DIAG_TEST_REQUEST_REC_DATE="2024-06-01",
        DIAGNOSTIC_TEST_DATE="2024-06-03",
        SERVICE_REPORT_DATE="2024-06-04",
    )
    write_submission(folder / "june.csv", [record(**june) for _ in range(4)])
    return folder


def test_default_cover_dates_contact_warning_and_months_without_records_in_json(
    april_and_june, tmp_path
):
    result = build([april_and_june], tmp_path, "--submission-date", "2024-07-05", "--json")
    summary = json.loads(result.stdout)
    identifier = "did-2024-25-provisional-2024-06"
    assert summary["identifier"] == identifier and summary["demo"] is False
    assert summary["records"] == {"received": 8, "accepted": 8, "rejected": 0}
    assert summary["published_on"] == "2024-08-08"  # second Thursday of August
    assert summary["months_without_records"] == ["2024-05"]
    assert summary["audit"]["passed"] is True and "Disclosure audit" in summary["audit"]["summary"]
    assert "only figures that contradict each other fail" in summary["audit"]["policy_allows"]
    assert summary["audit"]["policy_allows"] in result.stderr  # said after the audit line
    assert Path(summary["paths"]["csv"]).is_file()
    warnings = " | ".join(summary["warnings"])
    assert "did-statistics@example.org is a placeholder" in warnings
    assert "no record for May 2024" in warnings
    words = cover_words(tmp_path / identifier)
    assert "Publication date 8 August 2024" in words
    assert "Next update September 2024, with data up to July 2024." in words
    assert "No record was received for May 2024" in words
    page = (tmp_path / identifier / "html" / "index.html").read_text()
    assert "Published 8 August 2024" in page and "No record was received for May 2024" in page


def test_publication_table_sets_date_next_update_and_contact(april_and_june, tmp_path):
    config = tmp_path / "did.toml"
    config.write_text(
        "[publication]\npublished_on = 2024-06-20\n"
        'next_update = "Soon."\ncontact_email = "did.team@nhs.net"\n'
    )
    result = build(
        [april_and_june], tmp_path / "out", "--config", config, "--submission-date",
        "2024-07-05", "--json",
    )  # fmt: skip
    warnings = " | ".join(json.loads(result.stdout)["warnings"])
    assert "placeholder" not in warnings
    assert "publication date 2024-06-20 is not after the end of the period" in warnings
    words = cover_words(tmp_path / "out" / "did-2024-25-provisional-2024-06")
    assert "Publication date 20 June 2024" in words and "Next update Soon." in words
    assert "did.team@nhs.net" in words


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[publication]\ncontact_email = 5\n", "publication.contact_email = 5: expected an email"),
        ('[publication]\npublished_on = "soon"\n', "publication.published_on = 'soon'"),
        ("[publication]\nwhen = 1\n", "unknown setting 'publication.when'"),
        ("[bulid]\nk = 3\n[publication]\n", "unknown table or setting 'bulid'"),
        ("[build]\ninputs = 5\n", "inputs = 5: expected a list of file or folder paths"),
    ],
)
def test_each_wrong_publication_setting_is_one_line(tmp_path, text, named):
    config = tmp_path / "did.toml"
    config.write_text(text)
    path = write_submission(tmp_path / "a.csv", [record()])
    line = one_line_error(build([path], tmp_path / "out", "--config", config, expect=2))
    assert named in line


def test_validate_takes_a_config_and_names_the_top_rejection_rules(tmp_path):
    config = tmp_path / "did.toml"
    config.write_text('[build]\nsubmission_date = "2024-07-05"\n')
    bad = [record(SITE_CODE_IMAGING="ZZZ99") for _ in range(3)] + [record()]
    path = write_submission(tmp_path / "a.csv", bad)
    result = validate(path, tmp_path / "out", "--config", config, "--json", expect=1)
    summary = json.loads(result.stdout)
    assert summary["records"] == {"received": 4, "accepted": 1, "rejected": 3}
    assert summary["rejection_rules"][0] == {"rule": "DIDS068", "records": 3}
    assert "no submission dates given" not in " ".join(summary["warnings"])  # from the config
    assert "rejected under DIDS068 (3 records)" in result.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("build", "--polcy", "did"), "did-publish build: No such option: --polcy"),
        (("build", "--policy", "open"), "'open' is not one of 'did', 'hes', 'strict'"),
        (("build", "--engine", "postgres"), "'postgres' is not one of 'duckdb', 'spark'"),
        (("synth", "--out", "x", "--scale", "huge"), "'huge' is not one of 'demo', 'national'"),
        (("serve", "/nonexistent"), "/nonexistent: no such folder to serve"),
        (("audit",), "Missing argument"),
    ],
)
def test_every_cli_error_is_one_line_exit_2(args, says):
    assert says in one_line_error(run_cli(*args, expect=2))


def test_help_shows_choices_and_defaults():
    text = run_cli("build", "--help").output
    for shown in ("provisional|final", "did|hes|strict", "duckdb|spark", "--json", "--quiet"):
        assert shown in text


def test_version():
    assert run_cli("--version").output.strip() == f"did-publish {__version__}"


def test_quiet_shows_no_progress_and_verbose_no_less(tmp_path):
    path = write_submission(tmp_path / "a.csv", [record() for _ in range(3)])
    quiet = build([path], tmp_path / "q", "--submission-date", "2024-07-05", "--quiet")
    assert "aggregate:" not in quiet.stderr and "audit:" not in quiet.stderr
    assert "placeholder" in quiet.stderr  # warnings still shown
    loud = build([path], tmp_path / "v", "--submission-date", "2024-07-05", "--verbose")
    for name in ("ingest and validate:", "aggregate:", "protect:", "render:", "quality:"):
        assert name in loud.stderr, loud.stderr
    assert "HiGHS" not in loud.output


# --------------------------------------------------------------------------- serve, init


def test_serve_never_serves_a_restricted_folder(tmp_path):
    publication = tmp_path / "did-2024-25-provisional-2024-04"
    restricted = tmp_path / "did-2024-25-provisional-2024-04.restricted"
    (publication / "html").mkdir(parents=True)
    (publication / "html" / "index.html").write_text("<p>hi</p>")
    restricted.mkdir()
    (restricted / "quarantine.csv").write_text("record-level\n")
    line = one_line_error(run_cli("serve", restricted, expect=2))
    assert "restricted" in line and "never served" in line
    server, _url = make_server(tmp_path, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        listing = urllib.request.urlopen(base).read().decode()
        assert publication.name + "/" in listing and ".restricted" not in listing
        for path in (f"{restricted.name}/quarantine.csv", f"{restricted.name}/"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + path)
            assert refused.value.code == 404
        page = urllib.request.urlopen(base + f"{publication.name}/html/index.html").read()
        assert page == b"<p>hi</p>"
    finally:
        server.shutdown()
        server.server_close()


def test_init_writes_a_config_and_cover_text_that_load(tmp_path):
    folder = tmp_path / "team"
    result = run_cli("init", folder)
    assert "did-publish.toml" in result.output
    config = load_config(folder / "did-publish.toml", {})
    assert config.inputs == ((folder / "submissions" / "2024-25").resolve(),)
    assert config.publication_text == (folder / "cover.toml").resolve()
    assert config.contact_email == "did-statistics@example.org"
    assert load_cover_text(config.publication_text).title.startswith("Diagnostic Imaging")
    assert "already exists" in one_line_error(run_cli("init", folder, expect=2))


def test_validate_on_nhs_englands_fixture_00001_says_why_its_records_are_rejected(tmp_path):
    from tests.conftest import NHSE_FIXTURES

    result = validate(NHSE_FIXTURES / "00001_example_500" / "input.csv", tmp_path, expect=1)
    assert "495 rejected; rejected under DIDS059 (495 records)" in result.output
