"""No patient-level value from the input reaches a publication, a message or a log.

A synthetic build (`did-publish synth --months 2024-04:2024-06 --seed 3`, the files of
one region to keep the test quick) is scanned: every file under `output/<identifier>/`
(CSV, JSON, HTML, SVG, and the XML inside the workbooks), the command's output and the
log, for every NHS number, postcode, GP practice code, accession number and birth date
of the input. The restricted folder beside the publication is where record-level data
belongs, and is not scanned.

Birth dates are dates, and a publication legitimately shows some dates: submission
dates (files.csv, manifest), the publication date, the build time and reference-data
validity dates. A birth date that equals one of those cannot be told apart from it and
is not a disclosure (the date is shown for what it is, with nothing linking it to a
patient), so the scan looks for the birth dates of the input that are not also one of
those dates: in ISO form (1960-05-17) and as a page would write it (17 May 1960,
17/05/1960). Dates stored as spreadsheet serial numbers are not searched for: the
workbooks store no dates in cells, and a serial is indistinguishable from a count.
"""

import io
import logging
import re
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from publish.codes import SUBMISSION_COLUMNS
from tests.conftest import run_cli

REGION = "Y58"
TEXT_SUFFIXES = {".csv", ".json", ".html", ".htm", ".svg", ".txt", ".js", ".css", ".md", ".xml"}


def published_texts(folder: Path) -> dict[str, str]:
    """Every file under `folder` as text; a zip (xlsx, ods) as the text of each entry."""
    texts: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(folder).as_posix()
        data = path.read_bytes()
        if data[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for entry in archive.namelist():
                    texts[f"{name}!{entry}"] = archive.read(entry).decode("utf-8", "replace")
        else:
            assert path.suffix.lower() in TEXT_SUFFIXES, f"unexpected kind of file {name}"
            texts[name] = data.decode("utf-8", "replace")
    return texts


def tokens_of(text: str) -> set[str]:
    """Letter-and-digit runs, upper-cased, each pair of neighbours joined (for postcodes
    written with a space), and every 10-digit window of a longer digit run."""
    words = re.findall(r"[A-Za-z0-9]+", text.upper())
    found = set(words) | {a + b for a, b in zip(words, words[1:], strict=False)}
    for run in re.findall(r"[0-9]{11,}", text):
        found |= {run[i : i + 10] for i in range(len(run) - 9)}
    return found


def date_forms(day: date) -> set[str]:
    return {day.isoformat(), f"{day.day} {day:%B %Y}", f"{day:%d/%m/%Y}"}


def find_leaks(texts: dict[str, str], secrets: dict[str, set[str]], dates: set[str]):
    """(where, kind, value) for every secret found in the texts."""
    leaks = []
    for where, text in texts.items():
        tokens = tokens_of(text)
        for kind, values in secrets.items():
            leaks += [(where, kind, value) for value in sorted(values & tokens)[:3]]
        found_dates = set(
            re.findall(r"\d{4}-\d{2}-\d{2}|\d{1,2} [A-Z][a-z]+ \d{4}|\d{2}/\d{2}/\d{4}", text)
        )
        leaks += [(where, "birth date", value) for value in sorted(found_dates & dates)[:3]]
    return leaks


@pytest.fixture(scope="module")
def synthetic_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("leaks")
    synth = folder / "synth"
    run_cli("synth", "--out", synth, "--months", "2024-04:2024-06", "--seed", "3")
    inputs = folder / "inputs"
    inputs.mkdir()
    for path in synth.glob(f"*-{REGION}-*.csv"):
        path.rename(inputs / path.name)
    (synth / "submissions.csv").rename(inputs / "submissions.csv")
    out = folder / "out"
    logger = logging.getLogger("did_publish")
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        result = run_cli("build", inputs, "--submissions", inputs / "submissions.csv", "--out", out)
    finally:
        logger.removeHandler(handler)
    publication = next(p for p in out.iterdir() if not p.name.endswith(".restricted"))
    return inputs, publication, result.output + "\n".join(records)


def input_values(inputs: Path) -> dict[str, set[str]]:
    values: dict[str, set[str]] = {}
    frames = [
        pl.read_csv(path, infer_schema=False, columns=list(SUBMISSION_COLUMNS))
        for path in sorted(inputs.glob(f"*-{REGION}-*.csv"))
    ]
    submissions = pl.concat(frames)
    for kind, column in [
        ("NHS number", "NHS_NUMBER"),
        ("postcode", "POSTCODE"),
        ("practice code", "PRACTICE_CODE"),
        ("accession number", "RADIOLOGICAL_ACCESSION_NUM"),
        ("birth date", "PERSON_BIRTH_DATE"),
    ]:
        cleaned = submissions[column].drop_nulls().str.strip_chars().str.to_uppercase()
        values[kind] = {v.replace(" ", "") for v in cleaned.to_list() if v}
    return values


def legitimate_dates(inputs: Path, publication: Path) -> set[str]:
    """Dates a publication shows for what they are: submission, publication, build and
    reference-validity dates."""
    known = set(pl.read_csv(inputs / "submissions.csv", infer_schema=False)["submission_date"])
    manifest = (publication / "manifest.json").read_text()
    known |= set(re.findall(r"\d{4}-\d{2}-\d{2}", manifest))  # build time, published on
    codes = pl.read_csv(
        Path(__file__).parent.parent / "publish" / "reference_data" / "imaging_codes.csv",
        infer_schema=False,
    )
    for column in ("valid_from", "valid_to"):
        known |= set(codes[column].drop_nulls())
    return known


def test_the_synthetic_input_has_every_kind_of_patient_value(synthetic_build):
    inputs, _, _ = synthetic_build
    values = input_values(inputs)
    for kind, found in values.items():
        assert len(found) > 100, kind


def test_no_patient_value_appears_in_any_published_file(synthetic_build):
    inputs, publication, _ = synthetic_build
    values = input_values(inputs)
    births = values.pop("birth date")
    legitimate = legitimate_dates(inputs, publication)
    birth_forms = {
        form for text in births - legitimate for form in date_forms(date.fromisoformat(text))
    }
    texts = published_texts(publication)
    assert any(name.endswith(".xlsx!xl/sharedStrings.xml") for name in texts)
    assert any(name.startswith("quality/") for name in texts)
    assert find_leaks(texts, values, birth_forms) == []


def test_no_patient_value_appears_in_the_command_output_or_the_log(synthetic_build):
    inputs, _, output = synthetic_build
    values = input_values(inputs)
    births = {
        form for text in values.pop("birth date") for form in date_forms(date.fromisoformat(text))
    }
    assert "records received" in output
    assert find_leaks({"output": output}, values, births) == []


def test_the_scan_finds_a_planted_value(synthetic_build, tmp_path):
    """The scanner itself works: a value planted in a copy is found, in CSV and xlsx."""
    inputs, publication, _ = synthetic_build
    values = input_values(inputs)
    nhs_number = sorted(values["NHS number"])[0]
    postcode = sorted(values["postcode"])[0]
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "a.csv").write_text(f"x,{nhs_number}\n{postcode[:-3]} {postcode[-3:]},y\n")
    with zipfile.ZipFile(planted / "b.xlsx", "w") as archive:
        archive.writestr("xl/sharedStrings.xml", f"<t>{nhs_number}</t>")
    kinds = {kind for _, kind, _ in find_leaks(published_texts(planted), values, set())}
    assert kinds == {"NHS number", "postcode"}
