"""Malformed submission files: each is named in a clear message, never quoted, and the
build goes on with every record counted as accepted or rejected.

All the malformed files go into one build beside a good file; each case then reads its
own file's entry in the manifest and its message. Every patient value written into a
damaged record is a sentinel that must appear nowhere but the restricted folder.
"""

import csv
import io
import json
import zipfile
from pathlib import Path

import polars as pl
import pytest

from publish.codes import SUBMISSION_COLUMNS
from publish.ingest.load import CSV_FIELD_LIMIT, MAX_FIELD_LENGTH, read_csv_records
from tests.conftest import TEST_IMAGING_CODES, TEST_SITES, build, record, run_cli

GOOD_RECORDS = 6
# Sentinel patient values of the damaged records: none may appear outside the restricted
# folder, in a message or in a log.
SECRET_NHS_NUMBER = "4010232137"
SECRET_POSTCODE = "QQ1 7ZZ"
SECRET_ACCESSION = "SECRETACC77"


def line(values: dict[str, str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([values[n] for n in SUBMISSION_COLUMNS])
    return buffer.getvalue()


HEADER = ",".join(SUBMISSION_COLUMNS) + "\n"


def secret(**fields: str) -> dict[str, str]:
    return record(NHS_NUMBER=SECRET_NHS_NUMBER, POSTCODE=SECRET_POSTCODE, **fields) | {
        "RADIOLOGICAL_ACCESSION_NUM": fields.get("RADIOLOGICAL_ACCESSION_NUM", SECRET_ACCESSION)
    }


def good_lines(count: int = 3) -> str:
    return "".join(line(record()) for _ in range(count))


def with_damage(damaged: str, before: int = 2, after: int = 2) -> bytes:
    """A header, good records, one damaged line (its text given), good records."""
    return (HEADER + good_lines(before) + damaged + good_lines(after)).encode()


def replace_in_line(values: dict[str, str], old: str, new: str) -> str:
    text = line(values)
    assert old in text
    return text.replace(old, new, 1)


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    return buffer.getvalue()


def _cases() -> dict[str, tuple[bytes, dict]]:
    """name -> (file bytes, expected: status, received, accepted, rejected, message words)."""
    semicolon_header = ";".join(SUBMISSION_COLUMNS) + "\n"
    semicolon_rows = "".join(
        ";".join(secret(RADIOLOGICAL_ACCESSION_NUM=f"SEMI{i}")[n] for n in SUBMISSION_COLUMNS)
        + "\n"
        for i in range(3)
    )
    short = secret()
    ragged_short = ",".join(short[n] for n in SUBMISSION_COLUMNS[:-1]) + "\n"
    long_ = line(secret(RADIOLOGICAL_ACCESSION_NUM="SECRETACC78")).rstrip("\n") + ",extra\n"
    return {
        "semicolons.csv": (
            (semicolon_header + semicolon_rows).encode(),
            dict(
                status="rejected",
                received=3,
                rejected=3,
                words=["1 column found in the header", "semicolons"],
            ),
        ),
        "semicolons-no-header.csv": (
            semicolon_rows.encode(),
            dict(status="rejected", received=3, rejected=3, words=["record 1", "semicolons"]),
        ),
        "ragged.csv": (
            (
                HEADER + good_lines(2) + ragged_short + good_lines(1) + long_ + good_lines(1)
            ).encode(),
            dict(
                status="loaded",
                received=6,
                accepted=4,
                rejected=2,
                words=["record 3 (line 4): 17 fields", "record 5 (line 6): 19 fields"],
            ),
        ),
        "unterminated-quote.csv": (
            with_damage(replace_in_line(secret(), "G1234567", '"G1234567')),
            dict(
                status="loaded",
                received=5,
                accepted=4,
                rejected=1,
                words=["record 3 (line 4): unterminated quote"],
            ),
        ),
        "stray-quote.csv": (
            with_damage(replace_in_line(secret(), "G1234567", '"G12"34567')),
            dict(status="loaded", received=5, accepted=4, rejected=1, words=["record 3 (line 4)"]),
        ),
        "embedded-newline.csv": (
            # RFC 4180: a quoted line break is data. The record counts once; its referrer
            # is not a valid code, so it is kept with warning DIDS023.
            with_damage(replace_in_line(secret(), "G1234567", '"G12\n34567"')),
            dict(status="loaded", received=5, accepted=5, rejected=0, warned=1, words=[]),
        ),
        "nul.csv": (
            with_damage(replace_in_line(secret(), SECRET_POSTCODE, "QQ1\x007ZZ")),
            dict(
                status="loaded",
                received=5,
                accepted=4,
                rejected=1,
                words=["record 3: field 6 (POSTCODE) holds a NUL character"],
            ),
        ),
        "nul-and-ragged.csv": (
            (
                HEADER
                + good_lines(1)
                + replace_in_line(secret(), SECRET_POSTCODE, "QQ1\x007ZZ")
                + ragged_short
                + good_lines(1)
            ).encode(),
            dict(
                status="loaded",
                received=4,
                accepted=2,
                rejected=2,
                words=["record 2 (line 3): field 6 (POSTCODE) holds a NUL", "record 3 (line 4)"],
            ),
        ),
        "latin-1.csv": (
            HEADER.encode()
            + good_lines(2).encode()
            + line(secret(REFERRER="G1234567"))
            .replace(SECRET_POSTCODE, "QQ1 7Z\xc9")
            .encode("latin-1")
            + good_lines(2).encode(),
            dict(
                status="loaded",
                received=5,
                accepted=4,
                rejected=1,
                words=["record 3 (line 4): field 6 (POSTCODE) is not valid UTF-8"],
            ),
        ),
        "empty.csv": (b"", dict(status="loaded", received=0, words=["empty file"])),
        "blank-lines.csv": (b"\r\n\n  \n", dict(status="loaded", received=0, words=["empty"])),
        "header-only.csv": (HEADER.encode(), dict(status="loaded", received=0, words=[])),
        "bom-crlf.csv": (
            b"\xef\xbb\xbf" + (HEADER + good_lines(2)).replace("\n", "\r\n").encode(),
            dict(status="loaded", received=2, accepted=2, words=[]),
        ),
        "huge-field.csv": (
            with_damage(replace_in_line(secret(), "G1234567", "G" * (10 * 1024 * 1024))),
            dict(
                status="loaded",
                received=5,
                accepted=4,
                rejected=1,
                words=["record 3 (line 4): field 9 (REFERRER) is longer than"],
            ),
        ),
        "other-date-formats.csv": (
            (
                HEADER
                + line(secret(DIAGNOSTIC_TEST_DATE="10/04/2024"))
                + line(secret(PERSON_BIRTH_DATE="17-05-1960", RADIOLOGICAL_ACCESSION_NUM="D2"))
                + line(
                    secret(DIAGNOSTIC_TEST_DATE="2024-04-10T09:00", RADIOLOGICAL_ACCESSION_NUM="D3")
                )
                + line(secret(SERVICE_REPORT_DATE="20240411", RADIOLOGICAL_ACCESSION_NUM="D4"))
                + good_lines(1)
            ).encode(),
            dict(status="loaded", received=5, accepted=1, rejected=4, words=[]),
        ),
        "formula-prefixes.csv": (
            (
                HEADER
                + line(secret(REFERRER='=HYPERLINK("http://example.invalid","x")'))
                + line(secret(REFERRING_ORG_CODE="+B86001", RADIOLOGICAL_ACCESSION_NUM="F2"))
                + line(secret(REFERRER="-2+3", RADIOLOGICAL_ACCESSION_NUM="F3"))
                + line(secret(REFERRER="@SUM(A1)", RADIOLOGICAL_ACCESSION_NUM="F4"))
                + line(secret(SITE_CODE_IMAGING="=RAA01", RADIOLOGICAL_ACCESSION_NUM="F5"))
            ).encode(),
            dict(status="loaded", received=5, accepted=4, rejected=1, warned=3, words=[]),
        ),
        "utf-16.csv": (
            (HEADER + good_lines(2)).encode("utf-16"),
            dict(status="rejected", received=2, rejected=2, words=["UTF-16"]),
        ),
        "workbook.csv": (
            xlsx_bytes(),
            dict(status="rejected", received=0, rejected=0, words=["Excel workbook"]),
        ),
        "header-19-columns.csv": (
            (HEADER.rstrip("\n") + ",\n" + good_lines(2)).encode(),
            dict(
                status="rejected", received=2, rejected=2, words=["19 columns found in the header"]
            ),
        ),
        "header-duplicate.csv": (
            (HEADER.replace("POSTCODE", "NHS_NUMBER") + good_lines(2)).encode(),
            dict(status="rejected", received=2, rejected=2, words=["missing: POSTCODE", "twice"]),
        ),
        "first-record-broken.csv": (
            ('"' + line(secret())).encode() + good_lines(2).encode(),
            dict(status="rejected", received=3, rejected=3, words=["first record (line 1)"]),
        ),
        "damaged.parquet": (
            b"PAR1" + b"\x00garbage" * 10 + b"PAR1",
            dict(status="rejected", received=0, rejected=0, words=["Parquet"]),
        ),
        "17-columns.parquet": (
            parquet_bytes(pl.DataFrame([record(), record()]).drop("POSTCODE")),
            dict(
                status="rejected",
                received=2,
                rejected=2,
                words=["17 columns found, the 18 submission columns", "missing: POSTCODE"],
            ),
        ),
    }


CASES = _cases()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("malformed")
    inputs = folder / "inputs"
    inputs.mkdir()
    for name, (data, _) in CASES.items():
        (inputs / name).write_bytes(data)
    (inputs / "good.csv").write_text(HEADER + good_lines(GOOD_RECORDS), encoding="utf-8")
    out = folder / "out"
    result = build([inputs], out, "--submission-date", "2024-05-20")
    publication = next(p for p in out.iterdir() if not p.name.endswith(".restricted"))
    restricted = out / f"{publication.name}.restricted"
    # per-file counts are the producer's only: the restricted manifest and files.csv
    manifest = json.loads((restricted / "manifest.json").read_text())
    return {
        "result": result,
        "publication": publication,
        "restricted": restricted,
        "by_file": {entry["file"]: entry for entry in manifest["inputs"]},
        "files_csv": pl.read_csv(restricted / "files.csv", infer_schema=False),
    }


def test_the_build_goes_on_and_publishes_the_good_records(built):
    good = built["by_file"]["good.csv"]
    assert good["records_accepted"] == GOOD_RECORDS
    assert (built["publication"] / f"{built['publication'].name}.csv").is_file()


@pytest.mark.parametrize("name", list(CASES))
def test_each_malformed_file_is_accounted_for_and_named(built, name):
    expected = CASES[name][1]
    entry = built["by_file"][name]
    assert entry["status"] == expected["status"], entry
    assert entry["records_received"] == expected["received"], entry
    for key in ("accepted", "rejected", "warned"):
        if key in expected:
            assert entry[f"records_{key}"] == expected[key], (key, entry)
    assert entry["records_received"] == entry["records_accepted"] + entry["records_rejected"]
    message = entry["message"] or ""
    for words in expected["words"]:
        assert words in message, message
    if expected["words"]:
        assert message.startswith(name), message
    # A file rejected whole or with damaged records is named on the command line too.
    if entry["status"] == "rejected" or "malformed" in message:
        assert message in built["result"].output


def test_no_value_from_a_damaged_record_reaches_messages_or_the_publication(built):
    texts = [built["result"].output]
    texts += [
        p.read_text(encoding="utf-8", errors="replace")
        for p in built["publication"].rglob("*")
        if p.is_file() and p.suffix in (".csv", ".json", ".html")
    ]
    for text in texts:
        for value in (SECRET_NHS_NUMBER, SECRET_POSTCODE, SECRET_ACCESSION, "QQ1", "HYPERLINK"):
            assert value not in text


def test_malformed_records_are_quarantined_whole_with_dids075(built):
    quarantine = pl.read_csv(built["restricted"] / "quarantine.csv", infer_schema=False)
    malformed = quarantine.filter(pl.col("rule_codes") == "DIDS075")
    per_file = dict(malformed.group_by("source_file").len().iter_rows())
    assert per_file["ragged.csv"] == 2
    assert per_file["nul.csv"] == 1
    assert per_file["latin-1.csv"] == 1
    assert per_file["unterminated-quote.csv"] == 1
    latin = malformed.filter(pl.col("source_file") == "latin-1.csv").row(0, named=True)
    assert latin["row_number"] == "3"
    assert latin["POSTCODE"] == "QQ1 7Z\ufffd"  # the byte that is not UTF-8, shown as U+FFFD
    assert latin["NHS_NUMBER"] == SECRET_NHS_NUMBER
    rejected = pl.read_csv(built["restricted"] / "rejected_files.csv", infer_schema=False)
    assert set(rejected["source_file"]) == {
        n for n, c in CASES.items() if c[1]["status"] == "rejected"
    }


def test_restricted_csvs_keep_formula_prefixes_exactly_as_received(built):
    # PUBLICATION.md section 5: the quarantine gives back the 18 columns as received,
    # so a value is never altered there (the published CSVs escape, see test_quality_report).
    text = (built["restricted"] / "warnings.csv").read_text(encoding="utf-8")
    assert ",@SUM(A1)," in text and "'@SUM(A1)" not in text
    assert "=HYPERLINK" in text and "'=HYPERLINK" not in text


def test_the_record_reader_restarts_after_a_broken_record(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b'a,"b,c\nd,e,f\n"g"h,i,j\nk,"l\nm",n\n\n' + b"o,p,q")
    got = [(r.line, r.fields, r.problem is not None) for r in read_csv_records(path)]
    assert got == [
        (1, ["a", "b,c"], True),  # the quote opened here closes on line 3: a stray
        (2, ["d", "e", "f"], False),
        (3, ["gh", "i", "j"], True),
        (4, ["k", "l\nm", "n"], False),
        (7, ["o", "p", "q"], False),
    ]
    assert MAX_FIELD_LENGTH < CSV_FIELD_LIMIT


def test_only_empty_files_stop_the_build_with_a_clear_message(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "header.csv").write_text(HEADER)
    result = build([tmp_path / "empty.csv", tmp_path / "header.csv"], tmp_path / "out", expect=2)
    assert "no record was accepted" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or not any(
        p
        for p in (tmp_path / "out").iterdir()
        if not p.name.startswith(".") and not p.name.endswith(".restricted")
    )


def test_validate_reports_malformed_files_without_a_traceback(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_bytes(CASES["ragged.csv"][0])
    result = run_cli(
        "validate",
        path,
        "--sites",
        TEST_SITES,
        "--imaging-codes",
        TEST_IMAGING_CODES,
        "--out",
        tmp_path / "out",
        expect=1,
    )
    assert "ragged.csv: 2 malformed record(s) quarantined (DIDS075)" in result.output
    assert SECRET_NHS_NUMBER not in result.output


def test_an_unreadable_input_is_a_usage_error_naming_it(tmp_path, monkeypatch):
    path = tmp_path / "locked.csv"
    path.write_text(HEADER)
    real_open = Path.open

    def refuse(self, *args, **kwargs):
        # chmod 0 does not stop root, who runs CI: refuse the read as the OS would.
        if self.name == "locked.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    result = build([path], tmp_path / "out", expect=2)
    assert "locked.csv: cannot be read" in result.output
