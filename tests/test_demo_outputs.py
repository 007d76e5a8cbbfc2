"""The shipped demo: `did-publish build` with no inputs, and what a publication holds.

The demo build runs once per test session (it is the README's first command); the tests
then read its real outputs.
"""

import hashlib
import json
from pathlib import Path

import openpyxl
import polars as pl
from frictionless import Package

from tests.conftest import DEMO_ID, run_cli

STAMP = "Synthetic data: not official statistics"


def digest_tree(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    }


def test_demo_has_every_table(demo):
    tidy = pl.read_csv(demo / f"{DEMO_ID}.csv", infer_schema=False)
    # in publication order: NHS England's 7a and 7b between 6 and 8
    assert tidy["table"].unique(maintain_order=True).to_list() == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7a",
        "7b",
        "8",
        "9",
        "10",
        "11",
        "12",
        "13",
    ]
    # every commissioner of the demo's practices (and Unknown) has rows of table 7a
    commissioners = tidy.filter(
        (pl.col("table") == "7a") & (pl.col("geography_level") == "commissioner")
    )["provider_code"].unique()
    assert "Unknown" in commissioners.to_list() and commissioners.len() > 50
    # synth's patients are registered with practices of the provider's own and
    # neighbouring sub-ICBs (scripts/make_demo_practices.py), a small share unknown
    totals = tidy.filter(
        (pl.col("table") == "7a")
        & (pl.col("measure") == "activity_count")
        & (pl.col("marker").fill_null("") == "")
    ).with_columns(pl.col("value").cast(pl.Int64))
    england = totals.filter(pl.col("geography_level") == "england")["value"].sum()
    unknown = totals.filter(pl.col("provider_code") == "Unknown")["value"].sum()
    assert 0.01 < unknown / england < 0.15, (unknown, england)
    assert set(tidy["marker"].drop_nulls().unique()) <= {"c", "x", "z"}
    # Every provider-region of the published 2023-24 table 1 appears in the demo.
    providers = (
        tidy.filter(pl.col("geography_level") == "provider")
        .select("region_code", "provider_code")
        .unique()
    )
    assert providers.height >= 200


def test_the_demos_workbook_passes_the_checker(demo):
    """Every table's sheet, 7a, 7b, 8 and 13 among them (tests/workbook_checker.py)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from workbook_checker import check_workbook

    assert check_workbook(demo / f"{DEMO_ID}.xlsx") == []


def test_demo_writes_every_output(demo):
    for name in (f"{DEMO_ID}.csv", f"{DEMO_ID}.xlsx", "datapackage.json", "manifest.json"):
        assert (demo / name).is_file(), name
    assert (demo / "html" / "index.html").is_file()
    assert (demo / "quality").is_dir()
    restricted = demo.parent / f"{DEMO_ID}.restricted"
    assert (restricted / "quarantine.csv").is_file()


def test_datapackage_validates_with_frictionless(demo):
    report = Package(str(demo / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]


def test_manifest_accounts_for_every_record(demo):
    manifest = json.loads((demo / "manifest.json").read_text())
    assert manifest["policy"] == "did"
    # the accounting per file is the producer's: in the restricted manifest
    restricted = json.loads((demo.parent / f"{DEMO_ID}.restricted" / "manifest.json").read_text())
    assert [e["file"] for e in restricted["inputs"]] == [e["file"] for e in manifest["inputs"]]
    for entry in restricted["inputs"]:
        assert entry["records_received"] == entry["records_accepted"] + entry["records_rejected"]
        assert entry["size_bytes"] > 0
    totals = restricted["totals"]
    assert totals["received"] == totals["accepted"] + totals["rejected"]
    assert totals["rejected"] > 0  # the synthetic data carries a known share of bad records
    assert totals["received"] == sum(e["records_received"] for e in restricted["inputs"])
    # the public totals are England's, rounded as the did policy rounds England
    public = manifest["totals"]
    for key, true in totals.items():
        assert public[key] % 5 == 0 and abs(public[key] - true) <= 2, key
    for entry in manifest["inputs"]:
        assert set(entry) == {"file", "sha256", "submission_date", "status", "message"}
    listed = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    assert listed == digest_tree(demo)


def test_same_inputs_give_byte_identical_outputs(demo, tmp_path):
    run_cli("build", "--out", tmp_path)
    again = tmp_path / DEMO_ID
    assert digest_tree(again) == digest_tree(demo)
    first = json.loads((demo / "manifest.json").read_text())
    second = json.loads((again / "manifest.json").read_text())
    first.pop("build_time"), second.pop("build_time")
    assert first == second


def test_the_demo_is_stamped_synthetic_on_every_page_sheet_and_title(demo):
    """A forgotten INPUT never passes for official statistics (issue 18)."""
    pages = sorted((demo / "html").rglob("*.html")) + [demo / "quality" / "index.html"]
    assert len(pages) > 200
    unstamped = [p.name for p in pages if STAMP not in p.read_text(encoding="utf-8")]
    assert not unstamped, unstamped[:5]
    for workbook in (demo / f"{DEMO_ID}.xlsx", demo / "quality" / "data-quality.xlsx"):
        book = openpyxl.load_workbook(workbook, read_only=True)
        for sheet in book.worksheets:
            top = [row[0] for row in sheet.iter_rows(min_row=1, max_row=3, values_only=True)]
            assert STAMP in top, (workbook.name, sheet.title, top)
    package = json.loads((demo / "datapackage.json").read_text())
    assert package["title"].endswith(STAMP)
    cover = openpyxl.load_workbook(demo / f"{DEMO_ID}.xlsx", read_only=True)["Cover"]
    words = " ".join(str(row[0]) for row in cover.iter_rows(values_only=True) if row[0])
    assert "tables of official statistics" not in words
    assert "8 May 2025" in words  # derived from the period: the second Thursday of May


# The sheets' key columns (geography, and table 13's provider details): "[z]" there is
# not a figure.
KEY_HEADERS = (
    "Region code",
    "Org code",
    "Region name",
    "Provider name",
    "Commissioner code",
    "Commissioner name",
    "ICB code",
    "Imaging network",
)


def test_the_ods_copy_reads_back_with_the_figures_of_the_tidy_csv(demo):
    """Every figure and marker of each table, as many times as in the tidy CSV."""
    from collections import Counter

    from tests.ods_reader import read_ods, table_body

    sheets, ranges = read_ods(demo / f"{DEMO_ID}.ods")
    tidy = pl.read_csv(demo / f"{DEMO_ID}.csv", infer_schema=False)
    named = {address.split(".")[0].strip("'"): name for name, address in ranges.items()}
    for number in tidy["table"].unique(maintain_order=True).to_list():
        rows = tidy.filter(pl.col("table") == number)
        expected = Counter(
            f"[{marker}]" if marker else float(value)
            for value, marker in rows.select("value", "marker").iter_rows()
        )
        headers, body = table_body(sheets[f"Table_{number}"], ranges[named[f"Table_{number}"]])
        found = Counter(
            cell
            for row in body
            for header, cell in row.items()
            if isinstance(cell, float) or str(cell).startswith("[")
            if header not in KEY_HEADERS
        )
        assert found == expected, number
