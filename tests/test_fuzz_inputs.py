"""Property-based tests: corrupted submission files never lose a record or crash a build.

Hypothesis starts from valid records (tests/conftest.py) and corrupts them: field values
replaced by arbitrary text (quotes, delimiters, NULs, line breaks, other date formats,
formula prefixes), duplicate keys, other line endings, a byte order mark, no header;
then, at the byte level, truncation, deleted bytes and inserted quotes, delimiters,
line breaks, NULs and bytes that are not UTF-8.

- In process (fast, many examples): ingest and validation never raise, and every record
  received is accepted or rejected; when only fields were changed (the record
  boundaries are intact) every record written is received. No message quotes a value.
- Through the command line (fewer examples): `did-publish build` either publishes with
  every file accounted for, or stops with exit 2 and a clear message, never a
  traceback, and leaves no partial output.

The same in-process property runs on XML submissions (DIDS-v1-0): field values
replaced by awkward text (which may make the file not well-formed: then it is rejected
whole), elements dropped, and the same byte-level damage; a file is read or rejected
whole, never half loaded, and every activity read is accepted or rejected.

FUZZ_EXAMPLES=2000 runs the in-process property longer (see docs/fuzzing.md).
"""

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publish import db
from publish.codes import SUBMISSION_COLUMNS
from publish.ingest.load import ingest_files, read_csv_records
from publish.reference import ReferenceFiles, load_reference_data
from publish.validate.rules import (
    derive_records,
    file_outcomes,
    resolve_resubmissions,
    validate_records,
    write_restricted,
)
from tests.conftest import (
    TEST_IMAGING_CODES,
    TEST_SITES,
    build,
    nhs_number,
    record,
    xml_submission,
)

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
CLI_EXAMPLES = int(os.environ.get("FUZZ_CLI_EXAMPLES", "8"))

# Values a RIS extract or a spreadsheet can put in a field.
AWKWARD_VALUES = [
    "",
    " ",
    '"',
    '""',
    ",",
    "\n",
    "\r",
    "\r\n",
    "\x00",
    "\t",
    "=1+1",
    '=HYPERLINK("http://example.invalid")',
    "+441134567890",
    "-2+3",
    "@SUM(A1)",
    "17/05/1960",
    "2024-4-1",
    "2024-02-30",
    "20240410",
    "10-Apr-2024",
    "2024-04-10T09:30:00",
    "é",
    "\ufeff",
    "9" * 25,
    "NHS_NUMBER",
    "x" * 1200,
]
BYTE_PAYLOADS = [b'"', b",", b"\x00", b"\xff", b"\xc3", b"\x80", b"\n", b"\r", b";", b'"",']


def csv_line(values: list[str], ending: str) -> str:
    """RFC 4180: a field with a delimiter, quote or line break (\\r too) is quoted."""
    out = []
    for value in values:
        if any(c in value for c in ',"\r\n'):
            value = '"' + value.replace('"', '""') + '"'
        out.append(value)
    return ",".join(out) + ending


@dataclass
class Submission:
    name: str
    data: bytes
    records: int  # records written
    countable: bool  # record boundaries intact: every record written must be received
    secrets: list[str]  # NHS and accession numbers: never in a message


@st.composite
def submissions(draw, name: str) -> Submission:
    count = draw(st.integers(0, 8))
    header = draw(st.booleans())
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    seed = draw(st.integers(0, 10**6))
    rows = [
        record(NHS_NUMBER=nhs_number(seed + i), RADIOLOGICAL_ACCESSION_NUM=f"FZ{seed}X{i}")
        for i in range(count)
    ]
    secrets = [
        value for row in rows for value in (row["NHS_NUMBER"], row["RADIOLOGICAL_ACCESSION_NUM"])
    ]
    if count:
        edits = draw(
            st.lists(
                st.tuples(
                    st.integers(0, count - 1),
                    st.sampled_from(SUBMISSION_COLUMNS),
                    st.one_of(st.sampled_from(AWKWARD_VALUES), st.text(max_size=20)),
                ),
                max_size=4,
            )
        )
        for index, column, value in edits:
            rows[index][column] = value
        if count >= 2 and draw(st.booleans()):  # a duplicate key: DIDS071
            rows[1]["RADIOLOGICAL_ACCESSION_NUM"] = rows[0]["RADIOLOGICAL_ACCESSION_NUM"]
            rows[1]["SITE_CODE_IMAGING"] = rows[0]["SITE_CODE_IMAGING"]
    text = csv_line(list(SUBMISSION_COLUMNS), ending) if header else ""
    text += "".join(csv_line([row[c] for c in SUBMISSION_COLUMNS], ending) for row in rows)
    data = (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + text.encode("utf-8")
    byte_edits = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["insert", "truncate", "delete"]),
                st.integers(0, max(len(data), 1)),
                st.sampled_from(BYTE_PAYLOADS),
                st.integers(1, 40),
            ),
            max_size=3,
        )
    )
    for kind, position, payload, length in byte_edits:
        position = min(position, len(data))
        if kind == "insert":
            data = data[:position] + payload + data[position:]
        elif kind == "truncate":
            data = data[:position]
        else:
            data = data[:position] + data[position + length :]
    # A line break or NUL at the very start of a header-less file's first field is the
    # only field edit that moves a record boundary: csv_line quotes it, so it does not.
    return Submission(name, data, count, countable=not byte_edits, secrets=secrets)


def file_sets(max_files: int = 3):
    return st.integers(1, max_files).flatmap(
        lambda n: st.tuples(*(submissions(f"file{i}.csv") for i in range(n)))
    )


@pytest.fixture(scope="module")
def connection():
    con = db.connect("1GB")
    load_reference_data(con, ReferenceFiles(TEST_SITES, TEST_IMAGING_CODES))
    yield con
    con.close()


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=file_sets())
def test_ingest_and_validation_account_for_every_record(connection, batch):
    with tempfile.TemporaryDirectory(prefix="did-fuzz-") as folder:
        paths = []
        for submission in batch:
            path = Path(folder) / submission.name
            path.write_bytes(submission.data)
            paths.append(path)
        files = ingest_files(connection, paths)
        validate_records(connection)
        derive_records(connection)
        resolve_resubmissions(connection)
        outcomes = file_outcomes(connection, files)
        write_restricted(connection, files, Path(folder) / "restricted")
    loaded = dict(
        db.rows(connection, "SELECT file_id, count(*) FROM submission_records GROUP BY ALL")
    )
    for submission, input_file in zip(batch, sorted(files, key=lambda f: f.name), strict=True):
        outcome = outcomes[input_file.file_id]
        assert outcome.received == outcome.accepted + outcome.rejected, (input_file, outcome)
        if input_file.status == "rejected":
            assert input_file.file_id not in loaded
            assert outcome.rejected == input_file.records_received
        else:
            in_table = loaded.get(input_file.file_id, 0)
            assert input_file.records_received == in_table + len(input_file.malformed_records)
        if submission.countable:
            assert outcome.received == submission.records, (input_file.message, outcome)
        message = input_file.message or ""
        assert not [s for s in submission.secrets if s in message], message
        if input_file.status == "rejected" or input_file.malformed_records:
            assert message.startswith(input_file.name)


XML_BYTE_PAYLOADS = [b"<", b">", b"&", b'"', b"\x00", b"\xff", b"</DIDSRecord>", b"<x/>", b"\n"]


@st.composite
def xml_submissions(draw, name: str) -> Submission:
    count = draw(st.integers(0, 6))
    seed = draw(st.integers(0, 10**6))
    rows = [
        record(NHS_NUMBER=nhs_number(seed + i), RADIOLOGICAL_ACCESSION_NUM=f"FX{seed}X{i}")
        for i in range(count)
    ]
    secrets = [
        value for row in rows for value in (row["NHS_NUMBER"], row["RADIOLOGICAL_ACCESSION_NUM"])
    ]
    if count:
        edits = draw(
            st.lists(
                st.tuples(
                    st.integers(0, count - 1),
                    st.sampled_from(SUBMISSION_COLUMNS),
                    st.one_of(st.sampled_from(AWKWARD_VALUES), st.text(max_size=20)),
                ),
                max_size=4,
            )
        )
        for index, column, value in edits:
            rows[index][column] = value  # "" drops the element: a missing value
    data = xml_submission(rows)
    byte_edits = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["insert", "truncate", "delete"]),
                st.integers(0, max(len(data), 1)),
                st.sampled_from(XML_BYTE_PAYLOADS),
                st.integers(1, 40),
            ),
            max_size=3,
        )
    )
    for kind, position, payload, length in byte_edits:
        position = min(position, len(data))
        if kind == "insert":
            data = data[:position] + payload + data[position:]
        elif kind == "truncate":
            data = data[:position]
        else:
            data = data[:position] + data[position + length :]
    return Submission(name, data, count, countable=not byte_edits, secrets=secrets)


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.integers(1, 3).flatmap(
        lambda n: st.tuples(*(xml_submissions(f"file{i}.xml") for i in range(n)))
    )
)
def test_xml_ingest_and_validation_account_for_every_record(connection, batch):
    with tempfile.TemporaryDirectory(prefix="did-fuzz-") as folder:
        paths = []
        for submission in batch:
            path = Path(folder) / submission.name
            path.write_bytes(submission.data)
            paths.append(path)
        files = ingest_files(connection, paths)
        validate_records(connection)
        derive_records(connection)
        resolve_resubmissions(connection)
        outcomes = file_outcomes(connection, files)
        write_restricted(connection, files, Path(folder) / "restricted")
    loaded = dict(
        db.rows(connection, "SELECT file_id, count(*) FROM submission_records GROUP BY ALL")
    )
    for submission, input_file in zip(batch, sorted(files, key=lambda f: f.name), strict=True):
        outcome = outcomes[input_file.file_id]
        assert outcome.received == outcome.accepted + outcome.rejected, (input_file, outcome)
        if input_file.status == "rejected":  # malformed XML: the whole file, nothing loaded
            assert input_file.file_id not in loaded
            assert input_file.rule_code == "DIDS075"
            assert outcome.rejected == input_file.records_received
            assert input_file.message.startswith(f"{input_file.name}: rejected: ")
        else:
            in_table = loaded.get(input_file.file_id, 0)  # overlong values: quarantined
            assert input_file.records_received == in_table + len(input_file.malformed_records)
            if submission.countable:
                assert outcome.received == submission.records, (input_file.message, outcome)
        message = input_file.message or ""
        assert not [s for s in submission.secrets if s in message], message


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.one_of(
        st.binary(max_size=3000),
        st.lists(
            st.sampled_from([b",", b'"', b"\n", b"\r", b"\x00", b"\xff", b"a", b"1"]), max_size=200
        ).map(b"".join),
    )
)
def test_the_reader_takes_any_bytes(connection, data):
    """Arbitrary bytes: the record reader and ingest never raise, and account for all."""
    with tempfile.TemporaryDirectory(prefix="did-fuzz-") as folder:
        path = Path(folder) / "any.csv"
        path.write_bytes(data)
        lines = [r.line for r in read_csv_records(path)]
        assert lines == sorted(set(lines))
        (input_file,) = ingest_files(connection, [path])
    in_table = db.scalar(connection, "SELECT count(*) FROM submission_records")
    if input_file.status == "rejected":
        assert in_table == 0
    else:
        assert input_file.records_received == in_table + len(input_file.malformed_records)


@settings(
    max_examples=CLI_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=file_sets(max_files=3))
def test_a_build_publishes_everything_accounted_for_or_stops_cleanly(tmp_path_factory, batch):
    folder = tmp_path_factory.mktemp("fuzz-build")
    inputs = folder / "inputs"
    inputs.mkdir()
    for submission in batch:
        (inputs / submission.name).write_bytes(submission.data)
    out = folder / "out"
    result = build([inputs], out, "--submission-date", "2024-05-20", expect=None)
    assert "Traceback" not in result.output
    secrets = [s for submission in batch for s in submission.secrets]
    assert not [s for s in secrets if s in result.output], result.output
    if result.exit_code == 0:
        publication = next(p for p in out.iterdir() if not p.name.endswith(".restricted"))
        restricted = out / f"{publication.name}.restricted"
        manifest = json.loads((restricted / "manifest.json").read_text())
        by_file = {entry["file"]: entry for entry in manifest["inputs"]}
        for submission in batch:
            entry = by_file[submission.name]
            assert (
                entry["records_received"] == entry["records_accepted"] + entry["records_rejected"]
            )
            if submission.countable:
                assert entry["records_received"] == submission.records
        totals = manifest["totals"]
        assert totals["received"] == sum(e["records_received"] for e in manifest["inputs"])
    else:
        assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
        assert result.output.startswith("did-publish: ") or "\ndid-publish: " in result.output
        # Nothing half-written: no publication and no staging folder.
        left = [p.name for p in out.iterdir()] if out.exists() else []
        assert not [name for name in left if name.startswith(".")], left
        assert not [n for n in left if n.startswith("did-") and not n.endswith(".restricted")]
