"""Where the SQL, templates and shipped reference data live, installed or in a checkout.

In a source checkout `queries/` and `templates/` sit beside the package; in a wheel
they are packed inside it (see pyproject.toml, force-include). Looking in both places
lets one code path serve `pip install .`, `pip install -e .` and the test suite.
"""

from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REFERENCE_DATA_DIR = PACKAGE_DIR / "reference_data"


def resource_dir(name: str) -> Path:
    """The folder `name` ('queries' or 'templates'), installed or in the source tree."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the {name}/ folder of did-publish")


@cache
def query(name: str) -> str:
    """The text of `queries/<name>.sql`."""
    return (resource_dir("queries") / f"{name}.sql").read_text(encoding="utf-8")


@cache
def query_block(file_name: str, block_name: str) -> str:
    """One `-- name: <block_name>` block of `queries/<file_name>.sql`.

    Small per-table queries live together in one file, each under a name line, so that a
    reader sees every table's definition side by side.
    """
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in query(file_name).splitlines():
        if line.startswith("-- name: "):
            current = blocks.setdefault(line.removeprefix("-- name: ").strip(), [])
        elif current is not None:
            current.append(line)
    if block_name not in blocks:
        raise KeyError(f"queries/{file_name}.sql has no block named {block_name}")
    return "\n".join(blocks[block_name]).strip().rstrip(";")
