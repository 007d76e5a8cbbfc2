"""An outside attacker against whole publication folders (issue 13).

The attacker (`tests/attacker/`) shares no code with the package's disclosure control:
it reads a folder as anyone who downloads it would (the tidy CSV, every CSV under
`quality/`, `manifest.json`), writes every relation the contract justifies, and bounds
each suppressed count by linear programming. Under `strict` no suppressed count may be
narrowed below its protection interval; on the same data built with primary suppression
alone (`secondary_suppression = false`) the same attack must find recoveries, or it
proves nothing.

The folders are one synthetic month built with the shipped reference data (the demo
year takes minutes to build under `strict`, and its attack minutes more), each built
once for the module.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.attacker.folder import attack
from tests.conftest import run_cli

MONTH = "2024-04:2024-04"
HEADER = (
    "table,geography_level,region_code,region_name,provider_code,provider_name,"
    "modality,source_setting,period,measure,value,marker\n"
)


def _publication(out: Path) -> Path:
    folders = [p for p in out.iterdir() if p.is_dir() and not p.name.endswith(".restricted")]
    assert len(folders) == 1, folders
    return folders[0]


@pytest.fixture(scope="module")
def month_inputs(tmp_path_factory) -> Path:
    inputs = tmp_path_factory.mktemp("attacker-inputs")
    run_cli("synth", "--out", inputs, "--months", MONTH)
    return inputs


def _strict_build(inputs: Path, out: Path, *options: str | Path) -> Path:
    run_cli(
        "build", inputs, "--submissions", inputs / "submissions.csv", "--policy", "strict",
        "--out", out, *options,
    )  # fmt: skip
    return _publication(out)


@pytest.fixture(scope="module")
def strict_month(month_inputs, tmp_path_factory) -> Path:
    return _strict_build(month_inputs, tmp_path_factory.mktemp("attacker-strict"))


@pytest.fixture(scope="module")
def unprotected_month(month_inputs, tmp_path_factory) -> Path:
    """The same data under `strict` with primary suppression alone (no secondary cells)."""
    out = tmp_path_factory.mktemp("attacker-primary")
    config = out.parent / "primary-only.toml"
    config.write_text("[build]\nsecondary_suppression = false\n", encoding="utf-8")
    return _strict_build(month_inputs, out, "--config", config)


def test_strict_folder_gives_nothing_away(strict_month):
    found = attack(strict_month, exactness=False)
    print(found.summary())
    assert found.policy == "strict"
    assert f"{strict_month.name}.csv" in found.files_read
    assert found.cells.height > 100, "the month has suppressed counts to attack"
    assert found.count("infeasible") == 0, found.summary()
    narrowed = found.narrowed
    assert narrowed.height == 0, (found.summary(), narrowed.head(20).to_dicts())


def test_the_same_attack_finds_recoveries_when_nothing_protects_them(unprotected_month):
    found = attack(unprotected_month, exactness=False)
    print(found.summary())
    assert found.policy == "strict"
    assert found.count("infeasible") == 0, found.summary()
    # primary suppression alone: totals give hidden counts back; the attack must see it
    assert found.count("exact") + found.count("narrowed") >= 100, found.summary()


def _folder(tmp_path: Path, rows: list[str], policy: str = "strict") -> Path:
    folder = tmp_path / "did-2024-25-provisional-2024-05"
    folder.mkdir()
    (folder / f"{folder.name}.csv").write_text(HEADER + "".join(r + "\n" for r in rows))
    (folder / "manifest.json").write_text(json.dumps({"policy": policy, "k": 10}))
    return folder


def _t1(level: str, region: str, provider: str, period: str, value: str) -> str:
    marker = "c" if value == "c" else ""
    shown = "" if value == "c" else value
    return f"1,{level},{region},R,{provider},P,CT,All,{period},activity_count,{shown},{marker}"


YEAR = "2024-04/2024-05"


def test_a_provider_total_with_one_hidden_part_gives_it_away(tmp_path):
    folder = _folder(
        tmp_path,
        [
            _t1("provider", "Y56", "AAA", "2024-04", "c"),
            _t1("provider", "Y56", "AAA", "2024-05", "12"),
            _t1("provider", "Y56", "AAA", YEAR, "15"),
        ],
    )
    found = attack(folder)
    cells = found.cells.to_dicts()
    assert len(cells) == 1
    assert cells[0]["status"] == "exact"
    assert (cells[0]["lower"], cells[0]["upper"]) == (3, 3)
    assert cells[0]["cell"] == "t1|provider|Y56|AAA|CT|All|2024-04|activity_count"


def test_two_hidden_providers_under_a_shown_region_keep_their_interval(tmp_path):
    rows = []
    for provider in ("AAA", "BBB"):
        rows += [_t1("provider", "Y56", provider, p, "c") for p in ("2024-04", "2024-05", YEAR)]
    rows += [_t1("region", "Y56", "", p, v) for p, v in (("2024-04", "20"), ("2024-05", "20"))]
    rows.append(_t1("region", "Y56", "", YEAR, "40"))
    found = attack(_folder(tmp_path, rows))
    by_cell = {c["cell"]: c for c in found.cells.to_dicts()}
    assert len(by_cell) == 6
    assert {c["status"] for c in by_cell.values()} == {"ok"}, by_cell
    month = by_cell["t1|provider|Y56|AAA|CT|All|2024-04|activity_count"]
    assert (month["lower"], month["trivial"]) == (1, 1) and month["upper"] >= 9
    year = by_cell[f"t1|provider|Y56|AAA|CT|All|{YEAR}|activity_count"]
    # two hidden months: at least 2, and it must reach 2 + k - 2
    assert (year["lower"], year["trivial"], year["goal"]) == (2, 2, 10)


def test_a_manifest_file_count_gives_a_lone_hidden_cell_away(tmp_path):
    folder = _folder(
        tmp_path,
        [
            _t1("provider", "Y56", "AAA", "2024-04", "c"),
            _t1("provider", "Y56", "AAA", "2024-05", "c"),
            _t1("provider", "Y56", "AAA", YEAR, "c"),
            _t1("region", "Y56", "", "2024-04", "c"),
            _t1("region", "Y56", "", "2024-05", "c"),
            _t1("region", "Y56", "", YEAR, "c"),
        ],
    )
    manifest = {
        "policy": "strict",
        "k": 10,
        "totals": {"received": 9, "accepted": 9, "rejected": 0, "superseded": 0},
        "inputs": [
            {
                "file": "AAA-Y56-2024-04.csv",
                "records_received": 4,
                "records_accepted": 4,
                "records_rejected": 0,
                "records_superseded": 0,
            },
            {
                "file": "AAA-Y56-2024-05.csv",
                "records_received": 5,
                "records_accepted": 5,
                "records_rejected": 0,
                "records_superseded": 0,
            },
        ],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    exact = {
        c["cell"]: c["lower"] for c in attack(folder).cells.to_dicts() if c["status"] == "exact"
    }
    assert exact["t1|provider|Y56|AAA|CT|All|2024-04|activity_count"] == 4
    assert exact["t1|provider|Y56|AAA|CT|All|2024-05|activity_count"] == 5
    without_manifest = attack(folder, sources=("tidy",))
    assert without_manifest.count("exact") == 0
