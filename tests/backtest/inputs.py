"""What a back test of NHS England's published tables writes, and its build: the
records (grouped: one row per kind of record and how many), the reference data they
need (`sites.csv`, `imaging_codes.csv`, in `publish.reference`'s columns) and the real
CLI's build of them under `did`, final, as NHS England's tables are.

Shared by the back tests of tables 4, 5, 6, 12 (`tests.backtest.cancer`) and 13
(`tests.backtest.turnaround`), in the suite and from their commands.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from publish.codes import REGIONS, SUBMISSION_COLUMNS  # noqa: E402
from publish.reference import IMAGING_CODE_COLUMNS, SITE_COLUMNS  # noqa: E402

# The columns a back test's records vary; `count` says how many records of each.
GROUP_COLUMNS = (
    "SITE_CODE_IMAGING",
    "PATIENT_SOURCE_SETTING",
    "IMAGING_CODE_NICIP",
    "DIAGNOSTIC_TEST_DATE",
    "DIAGNOSTIC_TEST_REQUEST_DATE",
    "SERVICE_REPORT_DATE",
)
# The others, the same in every record (valid: INPUT.md; none of them is published).
FIXED_FIELDS = {
    "NHS_NUMBER": "",
    "NHS_NUMBER_STATUS_IND": "",
    "PERSON_BIRTH_DATE": "1955-05-17",
    "ETHNIC_CATEGORY": "A",
    "PERSON_GENDER_CODE": "2",
    "POSTCODE": "LS1 4AP",
    "PRACTICE_CODE": "B86001",
    "REFERRER": "",
    "REFERRING_ORG_CODE": "",
    "IMAGING_CODE_SNOMED": "",
}
RECORDS_PER_FILE = 2_000_000  # a national year is some 47 million records: many files


@dataclass
class Generated:
    """A back test's inputs: its submission files, its reference data and what could
    not be generated (published rows or cells no records reproduce)."""

    submissions: list[Path]
    sites: Path
    imaging_codes: Path
    records: int
    infeasible: list[tuple] = field(default_factory=list)


def site_code(org_code: str, region_code: str) -> str:
    """One site per provider-region (a multi-region provider has one in each)."""
    return f"{org_code}{region_code}"


def write_sites(path: Path, providers: pl.DataFrame) -> Path:
    """sites.csv of the (region_code, org_code, provider_name) rows, in their order."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SITE_COLUMNS)
        for region, org, name in providers.select(
            "region_code", "org_code", "provider_name"
        ).iter_rows():
            writer.writerow([site_code(org, region), org, name, region, REGIONS[region]])
    return path


def imaging_code(
    code: str, description: str, modality: str, interventional: bool = False, cancer_group: str = ""
) -> dict[str, str]:
    """A NICIP code of imaging_codes.csv, valid all along."""
    return {
        "code_system": "NICIP",
        "code": code,
        "description": description,
        "modality": modality,
        "body_region": "",
        "interventional": "Y" if interventional else "N",
        "cancer_test_group": cancer_group,
        "valid_from": "2010-01-01",
        "valid_to": "",
    }


def write_imaging_codes(path: Path, codes: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(IMAGING_CODE_COLUMNS)
        writer.writerows([code[c] for c in IMAGING_CODE_COLUMNS] for code in codes)
    return path


def write_submissions(folder: Path, groups: pl.DataFrame, accession_prefix: str) -> list[Path]:
    """The records of `groups` (GROUP_COLUMNS and `count`), in their order, as CSV
    submission files of at most RECORDS_PER_FILE records in `folder`. The request's
    received date is its request date; accession numbers run from 1 with the prefix."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = groups["count"].to_numpy().astype(np.int64)
    ends = np.cumsum(counts)
    paths: list[Path] = []
    first_group, written = 0, 0
    while first_group < groups.height:
        last_group = int(np.searchsorted(ends, written + RECORDS_PER_FILE, side="right"))
        last_group = max(last_group, first_group + 1)
        part = groups.slice(first_group, last_group - first_group)
        index = np.repeat(np.arange(part.height), counts[first_group:last_group])
        records = (
            part.select(GROUP_COLUMNS)
            .with_columns(pl.all().fill_null(""))[index]
            .with_columns(
                pl.col("DIAGNOSTIC_TEST_REQUEST_DATE").alias("DIAG_TEST_REQUEST_REC_DATE"),
                (
                    pl.lit(accession_prefix)
                    + (pl.int_range(pl.len(), dtype=pl.Int64) + written + 1)
                    .cast(pl.Utf8)
                    .str.zfill(12 - len(accession_prefix))
                ).alias("RADIOLOGICAL_ACCESSION_NUM"),
                *[pl.lit(value, pl.Utf8).alias(name) for name, value in FIXED_FIELDS.items()],
            )
            .select(SUBMISSION_COLUMNS)
        )
        path = folder / f"submissions-{len(paths) + 1:03d}.csv"
        records.write_csv(path, line_terminator="\n")
        paths.append(path)
        written += records.height
        first_group = last_group
    return paths


def build(generated: Generated, out: Path, period: str) -> Path:
    """Build the generated records with the real CLI (`did`, final, to `period`) and
    return the tidy CSV; a failed build raises with its output."""
    from typer.testing import CliRunner

    from publish.cli import app

    args = [
        "build",
        *[str(path) for path in generated.submissions],
        "--sites",
        str(generated.sites),
        "--imaging-codes",
        str(generated.imaging_codes),
        "--policy",
        "did",
        "--status",
        "final",
        "--period",
        period,
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    if result.exit_code != 0:
        raise RuntimeError(f"build: exit {result.exit_code}\n{result.output}") from result.exception
    year = int(period[:4]) - (1 if int(period[5:]) < 4 else 0)
    identifier = f"did-{year}-{(year + 1) % 100:02d}-final-{period}"
    return out / identifier / f"{identifier}.csv"
