"""Shared test helpers: small real submission files and the real command line."""

import csv
import os
from pathlib import Path

import polars as pl
import pytest
from filelock import FileLock
from typer.testing import CliRunner

from publish.cli import app
from publish.codes import SUBMISSION_COLUMNS

TESTS_DIR = Path(__file__).parent
TEST_DATA = TESTS_DIR / "data"
TEST_SITES = TEST_DATA / "sites.csv"
TEST_IMAGING_CODES = TEST_DATA / "imaging_codes.csv"


DEMO_ID = "did-demo-2024-25-2025-03"  # PUBLICATION.md section 6: did-demo-<FY>-<latest>

# The files that take longest, longest first: collected before the others, so that
# pytest-xdist (`--dist loadfile --no-loadscope-reorder`) starts them first and the
# short files fill in beside them, rather than a long file starting last on one worker
# while the other has finished (the attacker's strict build alone is about 6 minutes).
LONGEST_FIRST = (
    "test_attacker.py",
    "test_spark.py",
    "test_golden.py",
    "test_demo_outputs.py",
    "test_careless_world.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files of LONGEST_FIRST first, in that order; the rest as collected."""

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each file's tests keep their order


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Path:
    """The shipped demo (`did-publish build --out DIR`), built once for the whole run;
    its restricted folder is beside it. Tests read it and never write into it.

    Under pytest-xdist every worker has its own session: the first worker to ask builds
    the demo in the run's shared temporary folder while holding a lock, and the others
    wait for it and read the same folder (pytest-xdist's recipe for a session fixture
    made once), so the run pays for one demo build, not one per worker."""
    if "PYTEST_XDIST_WORKER" not in os.environ:  # one process: nothing to share
        out = tmp_path_factory.mktemp("demo")
        run_cli("build", "--out", out)
        return out / DEMO_ID
    shared = tmp_path_factory.getbasetemp().parent / "shared-demo"
    # the marker lies beside the folder: the golden test digests every file in it
    built = shared.with_name("shared-demo.built")
    with FileLock(str(shared) + ".lock"):
        if not built.exists():
            run_cli("build", "--out", shared)
            built.touch()
    return shared / DEMO_ID


def nhs_number(seed: int) -> str:
    """A 10-digit NHS number with a valid modulus-11 check digit."""
    while True:
        digits = [int(d) for d in f"{(seed * 7919 + 400000000) % 1000000000:09d}"]
        check = (11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)
        seed += 1


_accession_counter = iter(range(1, 10**9))


def record(**fields: str) -> dict[str, str]:
    """A valid submission record; keyword arguments override any column."""
    number = next(_accession_counter)
    values = {
        "NHS_NUMBER": nhs_number(number),
        "NHS_NUMBER_STATUS_IND": "01",
        "PERSON_BIRTH_DATE": "1960-05-17",
        "ETHNIC_CATEGORY": "A",
        "PERSON_GENDER_CODE": "2",
        "POSTCODE": "LS1 4AP",
        "PRACTICE_CODE": "B86001",
        "PATIENT_SOURCE_SETTING": "03",
        "REFERRER": "G1234567",
        "REFERRING_ORG_CODE": "B86001",
        "DIAGNOSTIC_TEST_REQUEST_DATE": "2024-04-01",
        "DIAG_TEST_REQUEST_REC_DATE": "2024-04-01",
        "DIAGNOSTIC_TEST_DATE": "2024-04-10",
        "IMAGING_CODE_NICIP": "XCHES",
        "IMAGING_CODE_SNOMED": "",
        "SERVICE_REPORT_DATE": "2024-04-11",
        "SITE_CODE_IMAGING": "RAA01",
        "RADIOLOGICAL_ACCESSION_NUM": f"ACC{number:08d}",
    }
    unknown = set(fields) - set(values)
    assert not unknown, f"unknown columns {unknown}"
    return values | fields


def write_submission(path: Path, records: list[dict[str, str]], header: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if header:
            writer.writerow(SUBMISSION_COLUMNS)
        for values in records:
            writer.writerow([values[name] for name in SUBMISSION_COLUMNS])
    return path


def run_cli(*args: str | Path, expect: int | None = 0):
    result = CliRunner().invoke(app, [str(a) for a in args])
    if expect is not None:
        assert result.exit_code == expect, (result.exit_code, result.output, result.exception)
    return result


def build(inputs: list[Path], out: Path, *options: str | Path, expect: int | None = 0):
    """Run `did-publish build` with the small test reference data."""
    return _with_test_reference("build", inputs, out, *options, expect=expect)


def validate(inputs: list[Path] | Path, out: Path, *options: str | Path, expect: int | None = 0):
    """Run `did-publish validate` with the small test reference data."""
    inputs = inputs if isinstance(inputs, list) else [inputs]
    return _with_test_reference("validate", inputs, out, *options, expect=expect)


def _with_test_reference(
    command: str, inputs: list[Path], out: Path, *options: str | Path, expect: int | None
):
    return run_cli(
        command,
        *inputs,
        "--sites",
        TEST_SITES,
        "--imaging-codes",
        TEST_IMAGING_CODES,
        "--out",
        out,
        *options,
        expect=expect,
    )


def read_tidy(publication_dir: Path) -> pl.DataFrame:
    return pl.read_csv(publication_dir / f"{publication_dir.name}.csv", infer_schema=False)


def cell(tidy: pl.DataFrame, **key: str) -> tuple[str, str]:
    """(value, marker) of the one tidy row matching key; value "" when empty."""
    matches = tidy.filter(
        pl.all_horizontal(
            [(pl.col(column).fill_null("") == value) for column, value in key.items()]
        )
    )
    assert matches.height == 1, f"{matches.height} rows match {key}"
    row = matches.row(0, named=True)
    return (row["value"] or "", row["marker"] or "")


NHSE_FIXTURES = TEST_DATA / "nhse-dids-fixtures"


NHSE_XML_FIXTURES = TEST_DATA / "nhse-dids-fixtures-xml"


def xml_submission(records: list[dict[str, str]]) -> bytes:
    """Records as NHS England's DIDS-v1-0 XML: a DIDSRecord per record, one activity each;
    an empty value has no element."""
    from xml.sax.saxutils import escape, quoteattr

    from publish.ingest.xml_reader import ITEMS, NAMESPACE

    def group(name: str, values: dict[str, str], extra: str = "") -> str:
        parts = []
        for tag, (column, attribute) in ITEMS[name].items():
            value = values[column]
            if tag == "GPCodeRegistration":
                parts.append(extra)
            if value == "":
                continue
            if attribute is None:
                parts.append(f"<{tag}>{escape(value)}</{tag}>")
            else:
                parts.append(f"<{tag} {attribute}={quoteattr(value)} />")
        return f"<{name}>{''.join(parts)}</{name}>"

    lines = ['<?xml version="1.0" encoding="utf-8"?>', f'<DIDS xmlns="{NAMESPACE}">']
    for values in records:
        postcode = values["POSTCODE"]
        address = (
            f"<Address><postalCode>{escape(postcode)}</postalCode></Address>" if postcode else ""
        )
        lines.append(
            "<DIDSRecord>"
            + group("PersonalAndDemographics", values, address)
            + group("Referrals", values)
            + group("ImagingActivity", values)
            + "</DIDSRecord>"
        )
    lines.append("</DIDS>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_xml_submission(path: Path, records: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(xml_submission(records))
    return path
