"""Every record rule of INPUT.md shows its DIDS code, and every record is accounted for.

All cases go in one submission file (one record each, distinct accession numbers) and
one `did-publish validate` run; each case then looks up its own record's codes.
"""

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import (
    NHSE_FIXTURES,
    build,
    record,
    validate,
    write_submission,
)

SUBMITTED = "2024-05-20"  # submission month starts 2024-05-01

# (case name, overrides, expected code, "rejected" or "warned")
CASES = [
    ("bad check digit", {"NHS_NUMBER": "9434765918"}, "DIDS001", "rejected"),
    ("nhs number not 10 digits", {"NHS_NUMBER": "94347659"}, "DIDS002", "rejected"),
    (
        "nhs number not 10 digits also fails check",
        {"NHS_NUMBER": "94347659"},
        "DIDS001",
        "rejected",
    ),
    ("status not in list", {"NHS_NUMBER_STATUS_IND": "09"}, "DIDS003", "rejected"),
    ("birth date invalid", {"PERSON_BIRTH_DATE": "17/05/1960"}, "DIDS005", "rejected"),
    ("birth after test", {"PERSON_BIRTH_DATE": "2024-05-01"}, "DIDS006", "rejected"),
    ("birth on 1900-01-01", {"PERSON_BIRTH_DATE": "1900-01-01"}, "DIDS009", "rejected"),
    ("ethnic not in list", {"ETHNIC_CATEGORY": "I"}, "DIDS012", "rejected"),
    # Codes are compared as given (NHS England rejects `a`); only NICIP is case-insensitive.
    ("ethnic in lower case", {"ETHNIC_CATEGORY": "a"}, "DIDS012", "rejected"),
    ("status without its zero", {"NHS_NUMBER_STATUS_IND": "1"}, "DIDS003", "rejected"),
    ("setting without its zero", {"PATIENT_SOURCE_SETTING": "3"}, "DIDS021", "rejected"),
    ("gender not in list", {"PERSON_GENDER_CODE": "02"}, "DIDS014", "rejected"),
    ("setting missing", {"PATIENT_SOURCE_SETTING": ""}, "DIDS020", "rejected"),
    ("setting not 01-07", {"PATIENT_SOURCE_SETTING": "08"}, "DIDS021", "rejected"),
    ("referrer format", {"REFERRER": "Q12"}, "DIDS023", "warned"),
    ("request date invalid", {"DIAGNOSTIC_TEST_REQUEST_DATE": "2024-02-30"}, "DIDS026", "rejected"),
    (
        "request after received",
        {"DIAGNOSTIC_TEST_REQUEST_DATE": "2024-04-05", "DIAG_TEST_REQUEST_REC_DATE": "2024-04-03"},
        "DIDS027",
        "rejected",
    ),
    (
        "request over a year before test",
        {"DIAGNOSTIC_TEST_REQUEST_DATE": "2023-04-01", "DIAG_TEST_REQUEST_REC_DATE": "2024-04-01"},
        "DIDS028",
        "warned",
    ),
    (
        "request before 1970",
        {"DIAGNOSTIC_TEST_REQUEST_DATE": "1969-12-31", "DIAG_TEST_REQUEST_REC_DATE": ""},
        "DIDS031",
        "rejected",
    ),
    (
        "request after test",
        {"DIAGNOSTIC_TEST_REQUEST_DATE": "2024-04-12", "DIAG_TEST_REQUEST_REC_DATE": ""},
        "DIDS034",
        "rejected",
    ),
    (
        "report before request",
        {
            "DIAGNOSTIC_TEST_REQUEST_DATE": "2024-04-12",
            "DIAG_TEST_REQUEST_REC_DATE": "",
            "SERVICE_REPORT_DATE": "2024-04-11",
        },
        "DIDS035",
        "rejected",
    ),
    ("received date invalid", {"DIAG_TEST_REQUEST_REC_DATE": "2024/04/01"}, "DIDS036", "rejected"),
    (
        "received over a year before test",
        {"DIAGNOSTIC_TEST_REQUEST_DATE": "", "DIAG_TEST_REQUEST_REC_DATE": "2023-03-01"},
        "DIDS038",
        "warned",
    ),
    (
        "received before 1970",
        {"DIAGNOSTIC_TEST_REQUEST_DATE": "", "DIAG_TEST_REQUEST_REC_DATE": "1969-01-01"},
        "DIDS041",
        "rejected",
    ),
    ("received after test", {"DIAG_TEST_REQUEST_REC_DATE": "2024-04-11"}, "DIDS043", "rejected"),
    ("test date invalid", {"DIAGNOSTIC_TEST_DATE": "2024-13-01"}, "DIDS045", "rejected"),
    ("report before test", {"SERVICE_REPORT_DATE": "2024-04-09"}, "DIDS048", "rejected"),
    (
        "test over 3 months before submission month",
        {
            "DIAGNOSTIC_TEST_DATE": "2024-01-15",
            "DIAGNOSTIC_TEST_REQUEST_DATE": "2024-01-10",
            "DIAG_TEST_REQUEST_REC_DATE": "2024-01-10",
            "SERVICE_REPORT_DATE": "2024-01-16",
        },
        "DIDS049",
        "warned",
    ),
    ("test date missing", {"DIAGNOSTIC_TEST_DATE": ""}, "DIDS050", "rejected"),
    (
        "test after submission",
        {"DIAGNOSTIC_TEST_DATE": "2024-05-25", "SERVICE_REPORT_DATE": ""},
        "DIDS051",
        "rejected",
    ),
    (
        "test over 6 months before submission month",
        {
            "DIAGNOSTIC_TEST_DATE": "2023-10-15",
            "DIAGNOSTIC_TEST_REQUEST_DATE": "2023-10-10",
            "DIAG_TEST_REQUEST_REC_DATE": "2023-10-10",
            "SERVICE_REPORT_DATE": "2023-10-16",
        },
        "DIDS055",
        "rejected",
    ),
    (
        "no imaging code",
        {"IMAGING_CODE_NICIP": "", "IMAGING_CODE_SNOMED": ""},
        "DIDS056",
        "rejected",
    ),
    ("unknown NICIP", {"IMAGING_CODE_NICIP": "ZZZZZ"}, "DIDS057", "rejected"),
    ("NICIP retired at the test date", {"IMAGING_CODE_NICIP": "XOLDC"}, "DIDS057", "rejected"),
    (
        "unknown SNOMED beside a valid NICIP",
        {"IMAGING_CODE_SNOMED": "123456789"},
        "DIDS059",
        "rejected",
    ),
    ("report date invalid", {"SERVICE_REPORT_DATE": "11-04-2024"}, "DIDS061", "rejected"),
    ("report over a month after test", {"SERVICE_REPORT_DATE": "2024-05-15"}, "DIDS062", "warned"),
    (
        "report after submission",
        {"SERVICE_REPORT_DATE": "2024-05-21"},
        "DIDS066",
        "rejected",
    ),
    ("site missing", {"SITE_CODE_IMAGING": ""}, "DIDS067", "rejected"),
    ("site not in reference", {"SITE_CODE_IMAGING": "RZZ99"}, "DIDS068", "rejected"),
    ("site bad format", {"SITE_CODE_IMAGING": "RA-1"}, "DIDS069", "rejected"),
    ("accession missing", {"RADIOLOGICAL_ACCESSION_NUM": ""}, "DIDS070", "rejected"),
    ("accession too long", {"RADIOLOGICAL_ACCESSION_NUM": "A" * 21}, "DIDS072", "rejected"),
    (
        "no patient identifier",
        {
            "NHS_NUMBER": "",
            "PERSON_BIRTH_DATE": "",
            "ETHNIC_CATEGORY": "",
            "PERSON_GENDER_CODE": "",
            "POSTCODE": "",
            "PRACTICE_CODE": "",
        },
        "DIDS073",
        "rejected",
    ),
]

VALID_EDGE_CASES = [
    ("lower-case NICIP is upper-cased", {"IMAGING_CODE_NICIP": "xches"}),
    ("SNOMED only", {"IMAGING_CODE_NICIP": "", "IMAGING_CODE_SNOMED": "399208008"}),
    ("padded values are trimmed", {"ETHNIC_CATEGORY": " A ", "PATIENT_SOURCE_SETTING": " 03"}),
    ("nurse referrer", {"REFERRER": "12A3456B"}),
    (
        "missing request and received dates",
        {"DIAGNOSTIC_TEST_REQUEST_DATE": "", "DIAG_TEST_REQUEST_REC_DATE": ""},
    ),
]


@pytest.fixture(scope="module")
def validated(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("rules")
    records = []
    for index, (_, overrides, _, _) in enumerate(
        CASES + [(n, o, "", "") for n, o in VALID_EDGE_CASES]
    ):
        values = record(**overrides)
        if "RADIOLOGICAL_ACCESSION_NUM" not in overrides:
            values["RADIOLOGICAL_ACCESSION_NUM"] = f"CASE{index:04d}"
        records.append(values)
    duplicate = record(RADIOLOGICAL_ACCESSION_NUM="DUPLICATE1")
    records += [duplicate, duplicate | {"PATIENT_SOURCE_SETTING": "04"}]
    path = write_submission(folder / "cases.csv", records)
    out = folder / "out"
    result = validate(path, out, "--submission-date", SUBMITTED, expect=1)
    restricted = out / "validation.restricted"
    read = lambda name: pl.read_csv(restricted / name, infer_schema=False)  # noqa: E731
    return {
        "quarantine": read("quarantine.csv"),
        "warnings": read("warnings.csv"),
        "records": len(records),
        "output": result.output,
    }


def codes_of(frame: pl.DataFrame, row_number: int) -> list[str] | None:
    rows = frame.filter(pl.col("row_number") == str(row_number))
    return rows["rule_codes"][0].split() if rows.height else None


@pytest.mark.parametrize(("index", "case"), list(enumerate(CASES)), ids=[c[0] for c in CASES])
def test_each_rule_shows_its_code(validated, index, case):
    _, _, code, outcome = case
    row_number = index + 1
    quarantined = codes_of(validated["quarantine"], row_number)
    warned = codes_of(validated["warnings"], row_number)
    if outcome == "rejected":
        assert quarantined is not None and code in quarantined, quarantined
    else:
        assert quarantined is None, f"a warning must not reject: {quarantined}"
        assert warned is not None and code in warned, warned


@pytest.mark.parametrize(
    ("index", "case"), list(enumerate(VALID_EDGE_CASES)), ids=[c[0] for c in VALID_EDGE_CASES]
)
def test_valid_edge_cases_are_accepted(validated, index, case):
    row_number = len(CASES) + index + 1
    assert codes_of(validated["quarantine"], row_number) is None


def test_duplicate_key_in_one_file_rejects_every_record_with_it(validated):
    last = validated["records"]
    assert "DIDS071" in codes_of(validated["quarantine"], last)
    assert "DIDS071" in codes_of(validated["quarantine"], last - 1)


def test_quarantine_codes_are_ascending_and_columns_as_received(validated):
    quarantine = validated["quarantine"]
    assert quarantine.columns[:3] == ["source_file", "row_number", "rule_codes"]
    assert len(quarantine.columns) == 21
    for codes in quarantine["rule_codes"]:
        assert codes.split() == sorted(codes.split())
    padded = validated["warnings"]  # no trimming of what is given back
    assert padded.height >= 5


def test_rules_needing_submission_date_are_not_applied_without_it(tmp_path):
    # Without a submission date DIDS055 (too old) is not applied, but a test or report
    # date after the build date still breaks DIDS051 / DIDS066: the build date stands in.
    future = (date.today() + timedelta(days=400)).isoformat()
    old = record(DIAGNOSTIC_TEST_DATE="2024-04-10")
    late = record(DIAGNOSTIC_TEST_DATE=future, SERVICE_REPORT_DATE="")
    late_report = record(SERVICE_REPORT_DATE=future)
    path = write_submission(tmp_path / "late.csv", [old, late, late_report])
    build([path], tmp_path / "out")
    publication = tmp_path / "out" / "did-2024-25-provisional-2024-04"
    files = pl.read_csv(publication / "quality" / "files.csv")
    assert files["submission_date_rules_applied"].to_list() == ["no"]
    restricted_files = pl.read_csv(
        publication.parent / f"{publication.name}.restricted" / "files.csv"
    )
    assert restricted_files["records_accepted"].to_list() == [1]
    quarantine = pl.read_csv(
        tmp_path / "out" / f"{publication.name}.restricted" / "quarantine.csv",
        infer_schema=False,
    )
    codes = [set(codes.split()) for codes in quarantine["rule_codes"]]
    assert len(codes) == 2
    assert "DIDS051" in codes[0] | codes[1] and "DIDS066" in codes[0] | codes[1]


def test_nhse_fixtures_load_and_invalid_format_file_is_rejected_with_dids075(tmp_path):
    out = tmp_path / "out"
    result = validate(NHSE_FIXTURES, out, expect=1)
    files = pl.read_csv(out / "validation" / "quality" / "files.csv")
    rejected = files.filter(pl.col("status") == "rejected")
    assert rejected.height == 1
    assert "17 columns" in rejected["message"][0]
    listed = pl.read_csv(out / "validation.restricted" / "rejected_files.csv")
    assert listed["rule_code"].to_list() == ["DIDS075"]
    # Kept by its path under the folder given: every fixture is called input.csv.
    assert listed["copy"].to_list() == ["rejected_files/00016_invalid_file_format/input.csv"]
    assert (out / "validation.restricted" / listed["copy"][0]).exists()
    loaded = files.filter(pl.col("status") == "loaded")
    assert loaded.height == 6
    # The two clean NHS England files are accepted whole (3 and 8 records): a file's
    # counts are in the restricted files.csv only.
    files = pl.read_csv(out / "validation.restricted" / "files.csv")
    assert files.height == 7
    for name, received in [
        ("valid_scenarios_with_warnings.csv", 2),
        ("whitespace_in_input_fields.csv", 8),
    ]:
        row = files.filter(pl.col("source_file") == name).row(0, named=True)
        assert row["records_received"] == received == row["records_accepted"]
    assert (
        files["records_received"] == files["records_accepted"] + files["records_rejected"]
    ).all()
    assert "DIDS075" in result.output or "17 columns" in result.output


def test_manifest_accounts_for_every_record_of_every_file(tmp_path):
    good = [record() for _ in range(4)]
    bad = [record(DIAGNOSTIC_TEST_DATE="") for _ in range(2)]
    files = [
        write_submission(tmp_path / "a.csv", good + bad),
        write_submission(tmp_path / "b.csv", [record()], header=False),
        NHSE_FIXTURES / "00016_invalid_file_format" / "input.csv",
    ]
    build(files, tmp_path / "out")
    folder = next(p for p in (tmp_path / "out").iterdir() if not p.name.endswith(".restricted"))
    manifest = json.loads((folder / "manifest.json").read_text())
    # per-file counts are the producer's: the restricted manifest
    restricted = json.loads(
        (folder.parent / f"{folder.name}.restricted" / "manifest.json").read_text()
    )
    assert [e["file"] for e in restricted["inputs"]] == [e["file"] for e in manifest["inputs"]]
    assert all(len(entry["sha256"]) == 64 for entry in manifest["inputs"])
    manifest = restricted
    by_file = {entry["file"]: entry for entry in manifest["inputs"]}
    assert by_file["a.csv"]["records_received"] == 6
    assert by_file["a.csv"]["records_rejected"] == 2
    assert by_file["input.csv"]["status"] == "rejected"
    assert by_file["input.csv"]["records_rejected"] == 3
    for entry in manifest["inputs"]:
        assert entry["records_received"] == entry["records_accepted"] + entry["records_rejected"]
        assert len(entry["sha256"]) == 64
    public = json.loads((folder / "manifest.json").read_text())
    assert all(len(o["sha256"]) == 64 for o in public["outputs"])


def test_unknown_input_path_is_a_usage_error(tmp_path):
    result = build([tmp_path / "nope.csv"], tmp_path / "out", expect=2)
    assert "nope.csv" in result.output


def test_restricted_folder_sits_beside_the_publication(tmp_path: Path):
    path = write_submission(tmp_path / "s.csv", [record(), record(DIAGNOSTIC_TEST_DATE="x")])
    build([path], tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [
        "did-2024-25-provisional-2024-04",
        "did-2024-25-provisional-2024-04.restricted",
    ]
    publication = tmp_path / "out" / names[0]
    assert not any("quarantine" in p.name for p in publication.rglob("*"))


BLANKS = [" ", "\t", "\u00a0", "\r", "\n"]


def test_a_field_is_trimmed_alike_whether_or_not_its_record_is_searched_first():
    """validate.sql trims only the records `edge_blank_in` finds: for every blank, at
    either edge of the first, a middle or the last field, beside empty and missing
    fields, the value it reads is the field trimmed on its own."""
    import duckdb

    from publish.resources import query

    fields = ["RAA01", "x y", "", None, "2024-04-10", "A\x1f B", "  ", "\u00a0\t"]
    records = []
    for blank in BLANKS:
        for position in range(3):
            for edge in ("before", "after"):
                record_fields = ["RAA01", None, "01", "", "Z"]
                index = [0, 2, 4][position]
                value = record_fields[index]
                record_fields[index] = blank + value if edge == "before" else value + blank
                records.append(record_fields)
    records += [[value, "01", None, "", "Z"] for value in fields]
    con = duckdb.connect()
    con.execute(query("macros"))
    con.execute("CREATE TABLE r (a VARCHAR, b VARCHAR, c VARCHAR, d VARCHAR, e VARCHAR)")
    con.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)", records)
    columns = ["a", "b", "c", "d", "e"]
    read = ", ".join(f"received_value({c}, searched) AS {c}" for c in columns)
    alone = ", ".join(f"nullif(trim_blank({c}), '') AS {c}" for c in columns)
    searched = f"edge_blank_in(concat_ws(chr(31), {', '.join(columns)})) AS searched"
    got = con.sql(f"SELECT {read} FROM (SELECT *, {searched} FROM r)").fetchall()
    expected = con.sql(f"SELECT {alone} FROM r").fetchall()
    assert got == expected
    # and the search is what trims: the padded records are found, a clean one is not
    flags = con.sql(f"SELECT {searched} FROM r").fetchall()
    assert [flag for (flag,) in flags[: len(BLANKS) * 6]] == [True] * (len(BLANKS) * 6)
    clean = "(VALUES ('RAA01', 'A', NULL, '', 'Z')) AS r(a, b, c, d, e)"
    assert con.sql(f"SELECT {searched} FROM {clean}").fetchall() == [(False,)]
