"""No change in what a build publishes: every file of a few fixed builds, byte for byte.

Each case of `tests.golden.reference` is built and each file of its publication and
restricted folders compared, by SHA-256, with `tests/golden/reference.json` (the
manifests' build time aside). A refactor passes unchanged; a change that is meant to
change an output regenerates the reference, as that module's docstring says, and its
diff names every file the change touched.

It is also the suite's check that the same inputs give byte-identical outputs (the
brief's standard): each case's digests were written by another build, in another
folder, at another time, the demo's among them (a second demo build beside the
session's, which this replaced, cost 50-90 s of the suite).
"""

import json
from pathlib import Path

import pytest

from tests.golden.reference import CASES, REFERENCE, build_case, digests

REFERENCE_DIGESTS: dict[str, dict[str, str]] = json.loads(REFERENCE.read_text())


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("golden")


def test_the_reference_covers_every_case():
    assert sorted(REFERENCE_DIGESTS) == sorted(case.name for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_build_publishes_the_reference_files(case, work, request):
    if case.inputs == "demo":
        out = request.getfixturevalue("demo").parent  # the session's demo build
    else:
        out = build_case(case, work)
    published = digests(out)
    expected = REFERENCE_DIGESTS[case.name]
    assert sorted(published) == sorted(expected), "files added or missing"
    changed = sorted(path for path in expected if published[path] != expected[path])
    assert changed == [], f"{len(changed)} files differ from the reference: {changed[:20]}"
