"""XML submissions (DIDS-v1-0), compressed files and zip archives (issue 19).

NHS England's own XML test submissions are read as its pipeline reads them; malformed
XML is rejected whole with DIDS075 and a message naming the file and the line; a
synthetic month gives the same publication from XML as from CSV; `.gz` and `.zip`
inputs give what the plain files give, read in place.
"""

import csv
import gzip
import io
import json
import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest

from publish import db
from publish.demo.synth import generate_submissions
from publish.ingest.load import discover_input_files, ingest_files, unreadable_type
from publish.ingest.submission_files import submission_type
from publish.reference import ReferenceFiles, load_reference_data
from publish.validate.rules import (
    derive_records,
    file_outcomes,
    resolve_resubmissions,
    validate_records,
)
from tests.conftest import (
    NHSE_XML_FIXTURES,
    TEST_IMAGING_CODES,
    TEST_SITES,
    build,
    record,
    run_cli,
    validate,
    write_submission,
    write_xml_submission,
    xml_submission,
)

XML_REFERENCE = ReferenceFiles(
    NHSE_XML_FIXTURES / "reference" / "sites.csv",
    NHSE_XML_FIXTURES / "reference" / "imaging_codes.csv",
)


@pytest.fixture
def con():
    connection = db.connect("1GB")
    yield connection
    connection.close()


def copy_fixture(case: str, folder: Path) -> Path:
    target = folder / f"{case}.xml"
    shutil.copyfile(NHSE_XML_FIXTURES / case / "input.xml", target)
    return target


def loaded_records(con) -> pl.DataFrame:
    return db.frame(con, "SELECT * FROM submission_records ORDER BY file_id, row_number")


# --------------------------------------------------------------------------- fixtures


def test_the_example_gives_one_record_per_imaging_activity(con, tmp_path):
    path = copy_fixture("00001_example", tmp_path)
    (input_file,) = ingest_files(con, [path])
    assert input_file.status == "loaded" and input_file.records_received == 2
    records = loaded_records(con)
    assert records["row_number"].to_list() == [1, 2]
    assert records["RADIOLOGICAL_ACCESSION_NUM"].to_list() == ["5121", "5122"]
    first = records.row(0, named=True)
    # Patient and referral items repeated into each activity, mapped as INPUT.md says.
    assert first == {
        "file_id": 1,
        "row_number": 1,
        "NHS_NUMBER": "9018978892",
        "NHS_NUMBER_STATUS_IND": "01",
        "PERSON_BIRTH_DATE": "1999-04-12",
        "ETHNIC_CATEGORY": "A",
        "PERSON_GENDER_CODE": "2",
        "POSTCODE": "LS1 4BT",
        "PRACTICE_CODE": "V81997",
        "PATIENT_SOURCE_SETTING": "02",
        "REFERRER": "C9999998",
        "REFERRING_ORG_CODE": "RR8",
        "DIAGNOSTIC_TEST_REQUEST_DATE": "2018-08-01",
        "DIAG_TEST_REQUEST_REC_DATE": "2018-08-02",
        "DIAGNOSTIC_TEST_DATE": "2018-08-03",
        "IMAGING_CODE_NICIP": "CSHRB",
        "IMAGING_CODE_SNOMED": "303686006",
        "SERVICE_REPORT_DATE": "2018-08-06",
        "SITE_CODE_IMAGING": "RR801",
        "RADIOLOGICAL_ACCESSION_NUM": "5121",
    }
    assert (
        records.row(1, named=True) | {"row_number": 1, "RADIOLOGICAL_ACCESSION_NUM": "5121"}
        == first
    )


def test_the_simple_submission_derives_what_nhs_england_derives(con, tmp_path):
    load_reference_data(con, XML_REFERENCE)
    files = ingest_files(con, [copy_fixture("00002_simple", tmp_path)])
    validate_records(con)
    derive_records(con)
    resolve_resubmissions(con)
    outcome = file_outcomes(con, files)[1]
    assert (outcome.received, outcome.accepted, outcome.rejected) == (1, 1, 0)
    with (NHSE_XML_FIXTURES / "00002_simple" / "expected.csv").open(encoding="utf-8") as handle:
        (expected,) = list(csv.DictReader(handle))
    (derived,) = db.frame(con, "SELECT * FROM derived_records").iter_rows(named=True)
    assert derived["provider_code"] == expected["PROVIDER_CODE"] == "RR8"
    assert derived["site_code"] == expected["PROVIDER_SITE_CODE"]
    assert derived["accession_number"] == expected["RADIOLOGICAL_ACCESSION_NUMBER"]
    # NHS England names the modality by its SNOMED concept; ours is the published name.
    assert expected["MODALITY"] == "Computerized axial tomography (procedure)"
    assert derived["modality"] == "Computerized Axial Tomography"
    assert derived["days_request_to_test"] == int(expected["TEST_REQUEST_TO_TEST"]) == 2
    assert derived["days_test_to_report"] == int(expected["TEST_TO_SERVICE_REPORT_ISSUED"]) == 3
    assert derived["days_request_to_report"] == int(
        expected["TEST_REQUEST_TO_SERVICE_REPORT_ISSUED"]
    )
    assert (
        derived["test_month"] == f"{expected['YEAR_OF_TEST']}-{int(expected['MONTH_OF_TEST']):02d}"
    )
    assert derived["source_setting_code"] == expected["PATIENT_SOURCE_SETTING"]


def test_a_file_ending_inside_a_tag_is_rejected_whole_with_dids075(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    copy_fixture("00014_invalid_file_format", inputs)
    copy_fixture("00002_simple", inputs)
    out = tmp_path / "out"
    result = run_cli(
        "validate",
        inputs,
        "--sites",
        XML_REFERENCE.sites,
        "--imaging-codes",
        XML_REFERENCE.imaging_codes,
        "--out",
        out,
        expect=1,
    )
    listed = pl.read_csv(out / "validation.restricted" / "rejected_files.csv")
    assert listed["source_file"].to_list() == ["00014_invalid_file_format.xml"]
    assert listed["rule_code"].to_list() == ["DIDS075"]
    assert listed["records"].to_list() == [7]  # every activity counted as received
    message = listed["message"][0]
    assert message.startswith("00014_invalid_file_format.xml: rejected: line 200:")
    assert "not well-formed XML" in message
    assert "3187944337" not in message and "3187944337" not in result.output
    assert (
        out / "validation.restricted" / "rejected_files" / "00014_invalid_file_format.xml"
    ).exists()
    files = pl.read_csv(out / "validation.restricted" / "files.csv")  # counts: restricted
    good = files.filter(pl.col("source_file") == "00002_simple.xml").row(0, named=True)
    assert good["records_accepted"] == 1
    assert (
        files["records_received"] == files["records_accepted"] + files["records_rejected"]
    ).all()


# --------------------------------------------------------------------------- malformed XML

NS = 'xmlns="http://www.datadictionary.nhs.uk/data_dictionary/messages/DIDS-v1-0/"'
ACTIVITY = (
    "<ImagingActivity><DiagnosticTestDate>2024-04-10</DiagnosticTestDate>"
    '<ImagingCodeNICIP code="XCHES" /><ImagingSiteCode extension="RAA01" />'
    '<RadiologicalAccessionNumber extension="SECRETACC1" /></ImagingActivity>'
)
PATIENT = (
    '<PersonalAndDemographics><NHSNumber extension="9434765919" /></PersonalAndDemographics>'
    '<Referrals><PatientSourceSetting code="03" /></Referrals>'
)


def document(body: str, root: str = f"<DIDS {NS}>", end: str = "</DIDS>") -> str:
    return f'<?xml version="1.0" encoding="utf-8"?>\n{root}\n{body}\n{end}\n'


GOOD_RECORD = f"<DIDSRecord>{PATIENT}{ACTIVITY}</DIDSRecord>"
MALFORMED = [
    # (case, text, line named, words of the message)
    ("not well formed", document(GOOD_RECORD + "\n<DIDSRecord>" + PATIENT), 5, "not well-formed"),
    ("ends inside a tag", document(GOOD_RECORD, end="</DIDS"), 5, "not well-formed"),
    ("empty", "", None, "not well-formed"),
    (
        "wrong root",
        document(GOOD_RECORD, root=f"<Submission {NS}>", end="</Submission>"),
        2,
        "root element is Submission",
    ),
    ("no namespace", document(GOOD_RECORD, root="<DIDS>"), 2, "no namespace"),
    ("wrong namespace", document(GOOD_RECORD, root='<DIDS xmlns="urn:other">'), 2, "urn:other"),
    (
        "unknown element in an activity",
        document(
            GOOD_RECORD.replace("<ImagingCodeNICIP", '<Modality code="CT" /><ImagingCodeNICIP')
        ),
        3,
        "Modality is not part of ImagingActivity",
    ),
    (
        "unknown group",
        document(GOOD_RECORD.replace("<Referrals>", "<Notes>x</Notes><Referrals>")),
        3,
        "Notes is not part of DIDSRecord",
    ),
    (
        "unknown element under the root",
        document(GOOD_RECORD + "\n<Trailer />"),
        4,
        "Trailer is not part of DIDS",
    ),
    (
        "element in another namespace",
        document(
            GOOD_RECORD.replace("<ImagingCodeNICIP", '<x:Code xmlns:x="urn:x" /><ImagingCodeNICIP')
        ),
        3,
        "namespace urn:x",
    ),
    (
        "an item given twice",
        document(
            GOOD_RECORD.replace(
                "<ImagingCodeNICIP",
                "<DiagnosticTestDate>2024-04-11</DiagnosticTestDate><ImagingCodeNICIP",
            )
        ),
        3,
        "DiagnosticTestDate given twice",
    ),
    (
        "a record nested too deep",
        document(f"<Batch>{GOOD_RECORD}</Batch>"),
        3,
        "Batch is not part of DIDS",
    ),
]


@pytest.mark.parametrize("case,text,line,words", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_xml_rejects_the_whole_file(con, tmp_path, case, text, line, words):
    path = tmp_path / "sub.xml"
    path.write_text(text, encoding="utf-8")
    (input_file,) = ingest_files(con, [path])
    assert input_file.status == "rejected" and input_file.rule_code == "DIDS075"
    assert db.scalar(con, "SELECT count(*) FROM submission_records") == 0
    assert input_file.message.startswith("sub.xml: rejected: ")
    if line is not None:
        assert f"line {line}: " in input_file.message
    assert words in input_file.message
    assert "9434765919" not in input_file.message and "SECRETACC1" not in input_file.message


def test_missing_elements_are_missing_values_for_the_record_rules(con, tmp_path):
    load_reference_data(con, ReferenceFiles(TEST_SITES, TEST_IMAGING_CODES))
    no_site = ACTIVITY.replace('<ImagingSiteCode extension="RAA01" />', "")
    no_patient = f"<DIDSRecord>{ACTIVITY.replace('SECRETACC1', 'ACC2')}</DIDSRecord>"
    path = tmp_path / "sub.xml"
    path.write_text(
        document(
            f"<DIDSRecord>{PATIENT}{no_site}</DIDSRecord>\n{no_patient}\n{GOOD_RECORD.replace('SECRETACC1', 'ACC3')}"
        ),
        encoding="utf-8",
    )
    ingest_files(con, [path])
    validate_records(con)
    codes = dict(db.rows(con, "SELECT row_number, rejection_codes FROM checked_records ORDER BY 1"))
    assert "DIDS067" in codes[1]  # site code missing
    assert "DIDS020" in codes[2] and "DIDS073" in codes[2]  # no setting, no patient items
    assert codes[3] == []


# --------------------------------------------------------------------------- XML = CSV


def test_a_synthetic_month_publishes_the_same_from_xml_as_from_csv(tmp_path):
    outputs = {}
    for file_format in ("csv", "xml"):
        data = tmp_path / f"data-{file_format}"
        generate_submissions(data, ["2024-04"], scale="demo", seed=3, file_format=file_format)
        out = tmp_path / f"out-{file_format}"
        run_cli("build", data, "--submissions", data / "submissions.csv", "--out", out)
        outputs[file_format] = out
    csv_names = sorted(p.name for p in (tmp_path / "data-csv").glob("*.csv"))
    assert sorted(p.name for p in (tmp_path / "data-xml").glob("*.xml")) == [
        n.replace(".csv", ".xml") for n in csv_names if n != "submissions.csv"
    ]
    (publication,) = [
        p.name for p in outputs["csv"].iterdir() if not p.name.endswith(".restricted")
    ]
    compared = 0
    for path in sorted((outputs["csv"] / publication).rglob("*")):
        relative = path.relative_to(outputs["csv"])
        if not path.is_file() or path.name in ("manifest.json", "data-quality.xlsx"):
            continue
        mine = path.read_bytes()
        theirs = (outputs["xml"] / relative).read_bytes()
        if relative.parts[1] == "quality":  # the data-quality report names the files
            theirs = theirs.replace(b".xml", b".csv")
        assert mine == theirs, relative
        compared += 1
    assert compared > 10
    restricted = f"{publication}.restricted"
    for name in ("quarantine.csv", "warnings.csv"):
        csv_side = (outputs["csv"] / restricted / name).read_bytes()
        xml_side = (outputs["xml"] / restricted / name).read_bytes().replace(b".xml,", b".csv,")
        assert csv_side == xml_side and csv_side.count(b"\n") > 10, name


# --------------------------------------------------------------------------- compressed


def small_inputs(folder: Path) -> list[dict[str, str]]:
    rows = [record() for _ in range(5)] + [record(ETHNIC_CATEGORY="a")]
    write_submission(folder / "plain.csv", rows)
    write_xml_submission(folder / "plain.xml", rows)
    return rows


def quarantine(out: Path) -> pl.DataFrame:
    return pl.read_csv(out / "validation.restricted" / "quarantine.csv", infer_schema=False)


def test_gzip_and_zip_inputs_give_what_the_plain_files_give(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    small_inputs(plain)
    packed = tmp_path / "packed"
    packed.mkdir()
    for name in ("plain.csv", "plain.xml"):
        with gzip.open(packed / f"{name}.gz", "wb") as handle:
            handle.write((plain / name).read_bytes())
    with zipfile.ZipFile(packed / "month.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(plain / "plain.csv", "plain.csv")
        archive.write(plain / "plain.xml", "inner/plain.xml")
        with gzip.open(buffer := io.BytesIO(), "wb") as handle:
            handle.write((plain / "plain.csv").read_bytes())
        archive.writestr("again.csv.gz", buffer.getvalue())
    before = sorted(p.name for p in packed.iterdir())
    results = {}
    for name, folder in (("plain", plain), ("packed", packed)):
        out = tmp_path / f"out-{name}"
        validate(folder, out, expect=1)
        results[name] = out
    assert sorted(p.name for p in packed.iterdir()) == before  # nothing unpacked beside
    expected = quarantine(results["plain"])
    assert expected.height == 2 and set(expected["rule_codes"]) == {"DIDS012"}
    got = quarantine(results["packed"])
    assert sorted(got["source_file"].unique()) == [
        "month.zip/again.csv.gz",
        "month.zip/inner/plain.xml",
        "month.zip/plain.csv",
        "plain.csv.gz",
        "plain.xml.gz",
    ]
    for source, plain_name in [
        ("plain.csv.gz", "plain.csv"),
        ("plain.xml.gz", "plain.xml"),
        ("month.zip/plain.csv", "plain.csv"),
        ("month.zip/inner/plain.xml", "plain.xml"),
        ("month.zip/again.csv.gz", "plain.csv"),
    ]:
        mine = got.filter(pl.col("source_file") == source).drop("source_file")
        theirs = expected.filter(pl.col("source_file") == plain_name).drop("source_file")
        assert mine.equals(theirs), source
    files = pl.read_csv(results["packed"] / "validation.restricted" / "files.csv")
    assert files["records_received"].to_list() == [6] * 5
    assert files["records_accepted"].to_list() == [5] * 5


def test_the_manifest_hashes_the_file_as_received(tmp_path):
    import hashlib

    inputs = tmp_path / "in"
    inputs.mkdir()
    rows = [record(), record()]
    with gzip.open(inputs / "a.csv.gz", "wt", encoding="utf-8", newline="") as handle:
        handle.write((write_submission(tmp_path / "a.csv", rows)).read_text())
    with zipfile.ZipFile(inputs / "b.zip", "w") as archive:
        archive.writestr("b1.xml", xml_submission([record()]))
        archive.writestr("b2.csv", (write_submission(tmp_path / "b2.csv", [record()])).read_text())
    build([inputs], tmp_path / "out", "--submission-date", "2024-05-20")
    publication = next(
        p for p in (tmp_path / "out").iterdir() if not p.name.endswith(".restricted")
    )
    manifest = json.loads((publication / "manifest.json").read_text())
    by_file = {entry["file"]: entry for entry in manifest["inputs"]}
    assert sorted(by_file) == ["a.csv.gz", "b.zip/b1.xml", "b.zip/b2.csv"]
    digest = {
        name: hashlib.sha256((inputs / name).read_bytes()).hexdigest()
        for name in ("a.csv.gz", "b.zip")
    }
    assert by_file["a.csv.gz"]["sha256"] == digest["a.csv.gz"]
    assert by_file["b.zip/b1.xml"]["sha256"] == by_file["b.zip/b2.csv"]["sha256"] == digest["b.zip"]
    restricted = json.loads(
        (publication.parent / f"{publication.name}.restricted" / "manifest.json").read_text()
    )
    counts = {entry["file"]: entry["records_accepted"] for entry in restricted["inputs"]}
    assert [counts[n] for n in sorted(by_file)] == [2, 1, 1]


def test_damaged_compressed_files_are_rejected_whole_with_a_clear_message(con, tmp_path):
    good = xml_submission([record() for _ in range(3)])
    csv_text = write_submission(tmp_path / "x.csv", [record() for _ in range(3)]).read_bytes()
    (tmp_path / "cut.xml.gz").write_bytes(gzip.compress(good)[:-30])
    (tmp_path / "cut.csv.gz").write_bytes(gzip.compress(csv_text * 200)[:-40])
    (tmp_path / "notgzip.csv.gz").write_bytes(csv_text)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("m1.csv", csv_text)
        archive.writestr("m2.xml", good)
    data = bytearray(buffer.getvalue())
    data[60] ^= 0xFF  # inside the first member's compressed bytes: its CRC fails
    (tmp_path / "damaged.zip").write_bytes(bytes(data))
    (tmp_path / "cut.zip").write_bytes(buffer.getvalue()[:100])
    names = ["cut.xml.gz", "cut.csv.gz", "notgzip.csv.gz", "damaged.zip", "cut.zip"]
    files = ingest_files(con, [tmp_path / n for n in names])
    by_name = {f.name: f for f in files}
    assert sorted(by_name) == sorted(names)  # an archive that cannot be read is one file
    for name, input_file in by_name.items():
        assert input_file.status == "rejected" and input_file.rule_code == "DIDS075", name
        assert input_file.message.startswith(f"{name}: rejected: "), input_file.message
    assert "damaged" in by_name["cut.csv.gz"].message
    assert "zip archive" in by_name["damaged.zip"].message
    assert "damaged" in by_name["damaged.zip"].message
    assert "not a readable zip archive" in by_name["cut.zip"].message
    assert db.scalar(con, "SELECT count(*) FROM submission_records") == 0


def test_one_registry_says_which_files_are_submissions(tmp_path):
    for name, expected in [
        ("a.csv", ("csv", False)),
        ("A.CSV.GZ", ("csv", True)),
        ("a.xml", ("xml", False)),
        ("a.xml.gz", ("xml", True)),
        ("a.parquet", ("parquet", False)),
        ("a.zip", ("zip", False)),
        ("a.txt", ("csv", False)),
    ]:
        found = submission_type(name)
        assert (found.format, found.gzip) == expected, name
    for name in ("a.zip.gz", "a.gz", "notes.md", "a.xlsx"):
        assert submission_type(name) is None, name
    for name in ("a.csv.gz", "b.xml", "c.zip", "d.md", "e.xml.gz"):
        (tmp_path / name).write_bytes(b"")
    # Every file of a folder is found; one of a type not read is rejected whole, with
    # its reason (issue 20), never skipped.
    found = discover_input_files([tmp_path])
    assert [f.path.name for f in found] == ["a.csv.gz", "b.xml", "c.zip", "d.md", "e.xml.gz"]
    assert [f.path.name for f in found if unreadable_type(f)] == ["d.md"]


def test_entities_are_never_expanded_or_fetched(con, tmp_path):
    """A billion-laughs bomb and an external entity: rejected whole, nothing read from disk."""
    laughs = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    secret = tmp_path / "secret.txt"
    secret.write_text("9434765919", encoding="utf-8")
    cases = {
        "bomb.xml": (laughs, "<DiagnosticTestDate>&l9;</DiagnosticTestDate>"),
        "bomb-attribute.xml": (laughs, '<ImagingSiteCode extension="&l9;" />'),
        "external.xml": (
            f'<!ENTITY x SYSTEM "{secret.as_uri()}">',
            "<DiagnosticTestDate>&x;</DiagnosticTestDate>",
        ),
    }
    paths = []
    for name, (entities, item) in cases.items():
        path = tmp_path / name
        path.write_text(
            f'<?xml version="1.0"?>\n<!DOCTYPE DIDS [{entities}]>\n<DIDS {NS}><DIDSRecord>'
            f"<ImagingActivity>{item}</ImagingActivity></DIDSRecord></DIDS>\n",
            encoding="utf-8",
        )
        paths.append(path)
    files = ingest_files(con, paths)
    for input_file in files:
        assert input_file.status == "rejected" and input_file.rule_code == "DIDS075"
        assert "9434765919" not in input_file.message
    assert db.scalar(con, "SELECT count(*) FROM submission_records") == 0


def test_a_rejected_zip_member_is_copied_inside_the_restricted_folder(tmp_path):
    """A member named `../../x.xml` (zip slip) is copied under the restricted folder."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    with zipfile.ZipFile(inputs / "month.zip", "w") as archive:
        archive.writestr("../../escaped.xml", "<DIDS")
        archive.writestr("good.csv", write_submission(tmp_path / "g.csv", [record()]).read_text())
    out = tmp_path / "out"
    validate(inputs, out)  # a file of no records rejected: no record rejected
    (copy,) = tmp_path.rglob("escaped.xml")  # exactly one copy, and it is inside
    restricted = out / "validation.restricted" / "rejected_files"
    assert copy.is_relative_to(restricted / "month.zip"), copy
    assert copy.read_bytes() == b"<DIDS"
    listed = pl.read_csv(out / "validation.restricted" / "rejected_files.csv")
    assert listed["source_file"].to_list() == ["month.zip/../../escaped.xml"]
