"""Stage 7, manifest: what went in, what came out, and how (PUBLICATION.md section 5).

Two manifests: the public one in the publication (inputs by name and SHA-256, England's
totals under the policy, outputs) and the restricted one beside it (each file's size
and record accounting). The build time is the only value that differs between two
builds of the same inputs, and it lives only in the public manifest.
"""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from publish import __version__
from publish.config import BuildConfig
from publish.ingest import InputFile
from publish.policy import Policy
from publish.validate import FileOutcome


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_manifest(
    identifier: str,
    config: BuildConfig,
    policy: Policy,
    files: list[InputFile],
    totals: dict[str, int | None],
    publication_dir: Path,
    restricted_folder_sha256: str | None = None,
) -> dict:
    """The public manifest: input files by name and SHA-256 only (a file's size or record
    count would be a provider-month's count), and England's record totals as the policy
    protects them (`publish.quality.manifest_totals`: None where suppressed)."""
    from publish.quality import public_message

    inputs = [
        {
            "file": input_file.shown_as or input_file.name,
            "sha256": input_file.sha256,
            "submission_date": (
                input_file.submission_date.isoformat() if input_file.submission_date else None
            ),
            "status": input_file.status,
            "message": public_message(input_file) or None,
        }
        for input_file in sorted(files, key=lambda f: f.file_order)
    ]
    outputs = [
        {"path": path.relative_to(publication_dir).as_posix(), "sha256": sha256_file(path)}
        for path in sorted(publication_dir.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    ]
    return {
        "tool": "did-publish",
        "version": __version__,
        "identifier": identifier,
        "policy": policy.name,
        "k": policy.manifest_k,
        "config": config.for_manifest(),
        "totals": {"geography": "England", **totals},
        "inputs": inputs,
        "outputs": outputs,
        "build_time": datetime.now(UTC).isoformat(timespec="seconds"),
        # The restricted folder this publication belongs to (pipeline.folder_digest):
        # a publication and a restricted folder from two builds are told apart.
        "restricted_folder_sha256": restricted_folder_sha256,
    }


def build_restricted_manifest(
    identifier: str, files: list[InputFile], outcomes: dict[int, FileOutcome]
) -> dict:
    """What only the producer may see: every file's size and the accounting of its
    records (received = accepted + rejected), and the unprotected totals."""
    inputs = []
    for input_file in sorted(files, key=lambda f: f.file_order):
        outcome = outcomes[input_file.file_id]
        inputs.append(
            {
                "file": input_file.shown_as or input_file.name,
                "sha256": input_file.sha256,
                "size_bytes": file_size(input_file),
                "submission_date": (
                    input_file.submission_date.isoformat() if input_file.submission_date else None
                ),
                "status": input_file.status,
                "message": input_file.message,
                "records_received": outcome.received,
                "records_accepted": outcome.accepted,
                "records_rejected": outcome.rejected,
                "records_warned": outcome.warned,
                "records_superseded": outcome.superseded,
            }
        )
    return {
        "tool": "did-publish",
        "version": __version__,
        "identifier": identifier,
        "totals": {
            key: sum(getattr(o, key) for o in outcomes.values())
            for key in ("received", "accepted", "rejected", "warned", "superseded")
        },
        "inputs": inputs,
        "audit": "disclosure-audit.csv",
    }


def write_manifest(path: Path, manifest: dict) -> None:
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def file_size(input_file: InputFile) -> int | None:
    """The file's size in bytes (None for records read from a Spark table)."""
    try:
        return input_file.size
    except OSError:
        return None
