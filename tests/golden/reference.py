"""The golden reference: SHA-256 of every file a build publishes, for a few fixed builds.

A refactor must not change what a build publishes (issue 14). `tests/test_golden.py`
builds each case below and compares every file of its publication folder and its
restricted folder, byte for byte, with the digests in `reference.json`; the manifests'
build time is the one field left out (it is the clock).

Regenerate the reference with

    .venv/bin/python -m tests.golden.reference

and commit `reference.json` ONLY when a change is meant to change what a build publishes
(a new table, a fixed figure, new wording), never to make a refactor pass: the diff of
`reference.json` then names every file the change touched, and the commit says why.
After `git merge main`, regenerate it on main's own tree (a worktree of main with this
folder copied in) when main changed outputs, so the reference is main's output and not
this branch's.
"""

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from publish.cli import app

TESTS_DIR = Path(__file__).resolve().parent.parent
TEST_DATA = TESTS_DIR / "data"
REFERENCE = Path(__file__).with_name("reference.json")
TEST_REFERENCE_DATA = (
    "--sites",
    str(TEST_DATA / "sites.csv"),
    "--imaging-codes",
    str(TEST_DATA / "imaging_codes.csv"),
)
# Fixed, so the rules that compare with the submission date never read the clock.
FIXTURES_OPTIONS = ("--period", "2025-07", "--submission-date", "2025-08-15")


@dataclass(frozen=True)
class Case:
    """One build: `inputs` is "demo" (the shipped demo, `build --out` alone), "demo-files"
    (the demo's synthetic year built as submissions), "fixtures" (NHS England's test
    files with the test reference data).

    Strict on the demo takes minutes: strict is checked on the test files."""

    name: str
    inputs: str
    policy: str


CASES: tuple[Case, ...] = (
    Case("demo-did", "demo", "did"),
    Case("demo-hes", "demo-files", "hes"),
    Case("fixtures-did", "fixtures", "did"),
    Case("fixtures-hes", "fixtures", "hes"),
    Case("fixtures-strict", "fixtures", "strict"),
)


def run(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    if result.exit_code != 0:
        raise RuntimeError(
            f"did-publish {' '.join(args)}: exit {result.exit_code}\n{result.output}"
        )


def synthetic(folder: Path, months: str) -> Path:
    """The synthetic submissions of `months` (seed 0, the demo's scale), made once."""
    if not (folder / "submissions.csv").exists():
        run("synth", "--out", str(folder), "--months", months)
    return folder


def build_case(case: Case, work: Path) -> Path:
    """Build `case` under `work`; returns the folder holding the publication and its
    restricted folder (nothing else)."""
    out = work / case.name
    policy = ("--policy", case.policy)
    if case.inputs == "demo":
        run("build", "--out", str(out))
    elif case.inputs == "demo-files":
        data = synthetic(work / "synthetic-demo", "2024-04:2025-03")
        run(
            "build",
            str(data),
            "--submissions",
            str(data / "submissions.csv"),
            *policy,
            "--out",
            str(out),
        )
    elif case.inputs == "fixtures":
        run(
            "build",
            str(TEST_DATA / "nhse-dids-fixtures"),
            *TEST_REFERENCE_DATA,
            *FIXTURES_OPTIONS,
            *policy,
            "--out",
            str(out),
        )
    else:
        raise ValueError(case.inputs)
    return out


def file_digest(path: Path) -> str:
    """SHA-256 of the file; a manifest without its build time."""
    data = path.read_bytes()
    if path.name == "manifest.json":
        manifest = json.loads(data)
        manifest.pop("build_time", None)
        data = json.dumps(manifest, sort_keys=True, indent=1).encode()
    return hashlib.sha256(data).hexdigest()


def digests(out: Path) -> dict[str, str]:
    """Every file under `out` (the publication and restricted folders), by path."""
    return {
        path.relative_to(out).as_posix(): file_digest(path)
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def main(work: Path) -> None:
    reference = {case.name: digests(build_case(case, work)) for case in CASES}
    REFERENCE.write_text(json.dumps(reference, indent=1, sort_keys=True) + "\n")
    print(f"wrote {REFERENCE}: {sum(map(len, reference.values()))} files in {len(CASES)} builds")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="did-golden-") as folder:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(folder))
