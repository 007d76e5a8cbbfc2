"""The record store: a build that reuses stored files publishes exactly what a full build does."""

import hashlib
import json
from pathlib import Path

from tests.conftest import (
    TEST_IMAGING_CODES,
    TEST_SITES,
    build,
    record,
    run_cli,
    write_submission,
)
from tests.test_build_tables import test_record

IDENTIFIER = "did-2024-25-provisional-2024-06"


def month_files(folder: Path) -> list[Path]:
    files = []
    for month in (4, 5, 6):
        rows = [test_record(month, days, 1, SITE_CODE_IMAGING="RAA01") for days in range(7)]
        rows += [test_record(month, 3, days, SITE_CODE_IMAGING="RBB01") for days in range(4)]
        rows.append(test_record(month, 2, 1, DIAGNOSTIC_TEST_DATE="bad", SITE_CODE_IMAGING="RBB01"))
        files.append(write_submission(folder / f"2024-{month:02d}.csv", rows))
    # June also resubmits an April record as an MRI, and brings a malformed file.
    april = (folder / "2024-04.csv").read_text().splitlines()[1].split(",")
    resubmitted = record(
        SITE_CODE_IMAGING=april[16],
        RADIOLOGICAL_ACCESSION_NUM=april[17],
        IMAGING_CODE_NICIP="MBRAI",
    )
    files.append(write_submission(folder / "2024-06-resubmission.csv", [resubmitted]))
    ragged = folder / "2024-06-ragged.csv"
    ragged.write_text((folder / "2024-05.csv").read_text().replace("RAA01,", "RAA01,,", 2))
    files.append(ragged)
    manifest = folder / "submissions.csv"
    manifest.write_text(
        "file,submission_date\n2024-04.csv,2024-05-15\n2024-05.csv,2024-06-15\n"
        "2024-06.csv,2024-07-15\n2024-06-resubmission.csv,2024-07-16\n"
        "2024-06-ragged.csv,2024-07-16\n"
    )
    return [*files, manifest]


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def manifest_inputs(folder: Path) -> list[dict]:
    return json.loads((folder / "manifest.json").read_text())["inputs"]


def restricted_inputs(folder: Path) -> list[dict]:
    """Per file, with its counts: the restricted manifest beside the publication."""
    restricted = folder.parent / f"{folder.name}.restricted" / "manifest.json"
    return json.loads(restricted.read_text())["inputs"]


def test_adding_a_month_to_a_store_gives_the_full_build(tmp_path):
    *files, manifest = month_files(tmp_path / "in")
    options = ("--submissions", manifest, "--period", "2024-06")
    build(files, tmp_path / "full", *options)

    store = tmp_path / "store"
    first = build(files[:2], tmp_path / "first", *options, "--store", store)
    assert "2 new" in first.output
    added = build(files, tmp_path / "added", *options, "--store", store)
    assert "2 file(s) reused, 3 new" in added.output
    again = build(files, tmp_path / "again", *options, "--store", store)
    assert "5 file(s) reused, 0 new" in again.output

    for out in ("added", "again"):
        assert digests(tmp_path / out / IDENTIFIER) == digests(tmp_path / "full" / IDENTIFIER)
        restricted = f"{IDENTIFIER}.restricted"
        assert digests(tmp_path / out / restricted) == digests(tmp_path / "full" / restricted)
        assert restricted_inputs(tmp_path / out / IDENTIFIER) == restricted_inputs(
            tmp_path / "full" / IDENTIFIER
        )


def test_a_changed_submission_date_is_validated_again(tmp_path):
    *files, manifest = month_files(tmp_path / "in")
    store = tmp_path / "store"
    build(files[:1], tmp_path / "a", "--submissions", manifest, "--store", store)
    later = build(files[:1], tmp_path / "b", "--submission-date", "2024-05-20", "--store", store)
    assert "0 file(s) reused, 1 new" in later.output


def test_resubmissions_resolved_from_the_store_match_a_fresh_resolution(tmp_path):
    """The store keeps each resolved set of files: the same set again, a larger one and an
    unrelated one must all supersede exactly the records a store-less build does."""
    *files, manifest = month_files(tmp_path / "in")
    april, may, june, resubmission, _ = files
    options = ("--submissions", manifest, "--period", "2024-06")
    store = tmp_path / "store"
    for name, chosen in (
        ("april", [april]),
        ("april-may", [april, may]),  # adds May to a resolved set
        ("with-resubmission", [april, may, june, resubmission]),  # adds two more
        ("no-may", [april, june, resubmission]),  # not a superset: resolved afresh
        ("no-may-again", [april, june, resubmission]),  # read back
    ):
        build(chosen, tmp_path / name, *options, "--store", store)
        fresh = tmp_path / f"{name}-fresh"
        build(chosen, fresh, *options)
        assert digests(tmp_path / name / IDENTIFIER) == digests(fresh / IDENTIFIER), name
    for name in ("no-may", "no-may-again"):
        manifest_inputs_ = restricted_inputs(tmp_path / name / IDENTIFIER)
        by_file = {i["file"]: i["records_superseded"] for i in manifest_inputs_}
        assert by_file == {"2024-04.csv": 1, "2024-06.csv": 0, "2024-06-resubmission.csv": 0}


def test_the_same_file_twice_is_resolved_without_the_store_mixing_them_up(tmp_path):
    """Two files with the same bytes and submission date share a store key: each must
    still count as its own file (the later copy, by name, supersedes every record of the
    earlier: "2024-04-copy.csv" sorts before "2024-04.csv")."""
    *files, manifest = month_files(tmp_path / "in")
    april = files[0]
    copy = april.with_name("2024-04-copy.csv")
    copy.write_bytes(april.read_bytes())
    chosen = [april, copy, files[1]]
    options = ("--submission-date", "2024-07-20", "--period", "2024-06")
    store = tmp_path / "store"
    for name in ("first", "again"):
        build(chosen, tmp_path / name, *options, "--store", store)
    build(chosen, tmp_path / "fresh", *options)
    identifier = "did-2024-25-provisional-2024-06"
    for name in ("first", "again"):
        assert digests(tmp_path / name / identifier) == digests(tmp_path / "fresh" / identifier)
    by_file = {
        i["file"]: (i["records_accepted"], i["records_superseded"])
        for i in restricted_inputs(tmp_path / "again" / identifier)
    }
    accepted = by_file["2024-04.csv"][0]
    assert accepted > 0
    assert by_file["2024-04-copy.csv"] == (accepted, accepted)  # all replaced
    assert by_file["2024-04.csv"] == (accepted, 0)
    assert not list((store / "resolved").glob("*.json"))  # nothing kept for this set


def test_a_pruned_store_keeps_what_a_build_of_the_kept_files_reads(tmp_path):
    *files, manifest = month_files(tmp_path / "in")
    options = ("--submissions", manifest, "--period", "2024-06")
    store = tmp_path / "store"
    build(files, tmp_path / "all", *options, "--store", store)  # one batch of five files
    kept = files[1:]  # April dropped; the June resubmission of an April record kept
    before = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())

    reference = ("--sites", TEST_SITES, "--imaging-codes", TEST_IMAGING_CODES)
    wrong = run_cli("store", "prune", store, *kept, "--submissions", manifest, expect=2)
    assert "none of the 4 file(s) given is in the record store" in wrong.output  # other sites
    pruned = run_cli("store", "prune", store, *kept, "--submissions", manifest, *reference)
    assert "kept 4 input file(s)" in pruned.output
    after = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    assert f"{before / 2**20:,.1f} MB before, {after / 2**20:,.1f} MB after" in pruned.output
    assert after < before
    assert len(list((store / "files").glob("*.json"))) == 4
    # the batch was written again without April's rows: one batch of each kind, sealed
    for kind in ("derived", "cube", "waits", "outcomes", "flagged"):
        [batch] = (store / kind).glob("*.parquet")
        assert (store / kind / f"{batch.name}.sha256").exists()

    reused = build(kept, tmp_path / "reused", *options, "--store", store)
    assert "4 file(s) reused, 0 new" in reused.output
    build(kept, tmp_path / "fresh", *options)
    assert digests(tmp_path / "reused" / IDENTIFIER) == digests(tmp_path / "fresh" / IDENTIFIER)
    restricted = f"{IDENTIFIER}.restricted"
    assert digests(tmp_path / "reused" / restricted) == digests(tmp_path / "fresh" / restricted)

    # a file the store no longer holds is said beside those kept
    again = run_cli("store", "prune", store, *files, "--submissions", manifest, *reference)
    assert "kept 4 input file(s) (1 of those given not in it), removed 0" in again.output
    not_a_store = run_cli("store", "prune", tmp_path / "in", files[0], expect=2)
    assert "not a record store" in not_a_store.output
