"""Stage 7, manifest: what went in, what came out, and how (PUBLICATION.md section 5).

The public manifest of the publication (inputs by name and SHA-256, England's totals
under the policy, outputs); the restricted one beside it, with each file's size and
record accounting, is `publish.validate.restricted_manifest`'s, so that nothing here can reach
a record outcome. The build time is the only value that differs between two
builds of the same inputs, and it lives only in the public manifest.
"""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from publish import __version__
from publish.config import BuildConfig
from publish.disclosure.policy import Policy


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_manifest(
    identifier: str,
    config: BuildConfig,
    policy: Policy,
    inputs: list[dict],
    totals: dict[str, int | None],
    publication_dir: Path,
    restricted_folder_sha256: str | None = None,
) -> dict:
    """The public manifest: input files by name and SHA-256 only (`inputs`, from
    `publish.quality.figures.manifest_inputs`: a file's size or record count would be a
    provider-month's count), and England's record totals as the policy protects them
    (`publish.quality.figures.manifest_totals`: None where suppressed)."""
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
        # The restricted folder this publication belongs to (folder_digest):
        # a publication and a restricted folder from two builds are told apart.
        "restricted_folder_sha256": restricted_folder_sha256,
    }


def write_manifest(path: Path, manifest: dict) -> None:
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def folder_digest(folder: Path) -> str:
    """One SHA-256 for a folder: of each file's relative path and SHA-256, in order."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(f"{path.relative_to(folder).as_posix()} {sha256_file(path)}\n".encode())
    return digest.hexdigest()
