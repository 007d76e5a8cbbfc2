"""`did-publish init DIR`: a commented example config and a copy of the cover text.

The example is the shipped `reference_data/example-config.toml`; the cover text is the
shipped `publication.toml`, for the team to put its own words and contact in. Both are
read by the same checks as any config (a test loads them), and an existing file is
never overwritten.
"""

from pathlib import Path

from publish.ingest import InputError
from publish.resources import REFERENCE_DATA_DIR

CONFIG_NAME = "did-publish.toml"
COVER_NAME = "cover.toml"


def write_example_config(directory: Path) -> list[Path]:
    """Write `did-publish.toml` and `cover.toml` into `directory`; return their paths."""
    directory = Path(directory)
    targets = {
        directory / CONFIG_NAME: REFERENCE_DATA_DIR / "example-config.toml",
        directory / COVER_NAME: REFERENCE_DATA_DIR / "publication.toml",
    }
    existing = [path for path in targets if path.exists()]
    if existing:
        raise InputError(f"{existing[0]}: already exists; not overwritten")
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory}: not a folder")
    directory.mkdir(parents=True, exist_ok=True)
    for target, source in targets.items():
        target.write_bytes(source.read_bytes())
    return list(targets)
