"""Earlier releases of the series, read back from what they published (`--previous`).

A release is its publication folder: the tidy CSV `<identifier>.csv` and
`manifest.json` (identifier, status, policy). Nothing record-level of an earlier run is
needed. Where the release's restricted folder sits beside it
(`<identifier>.restricted/ledger.parquet`), its ledger of unrounded values is read too:
the disclosure control across releases needs it (`publish.series.across_releases`).
`--previous` names release folders, or folders holding them; a release later than the
one being built, or the same one, is not an earlier release and is left out (said on
the console).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from publish.errors import InputError
from publish.series.ledger import LEDGER_FILE, read_ledger
from publish.tables import CELL_KEY_COLUMNS, TABLES, TIDY_COLUMNS

log = logging.getLogger("did_publish")

IDENTIFIER = re.compile(
    r"^did-(?:(?P<demo>demo)-)?(?P<year>\d{4}-\d{2})-(?:(?P<status>provisional|final)-)?"
    r"(?P<month>\d{4}-\d{2})$"
)


@dataclass(frozen=True)
class EarlierRelease:
    """One earlier release, as published: its cells as text, and its ledger if beside it."""

    identifier: str
    folder: Path
    financial_year: str
    latest_month: str
    status: str
    policy: str
    # TIDY_COLUMNS as published (text; table as text too).
    cells: pl.DataFrame
    # CELL_KEY_COLUMNS, value (unrounded, float), marker: None when not beside it.
    ledger: pl.DataFrame | None

    @property
    def order(self) -> tuple[str, bool]:
        """Releases in order of publication: by latest month, a final after a provisional."""
        return (self.latest_month, self.status == "final")


def release_folders(path: Path) -> list[Path]:
    """The publication folders `path` names: itself, or the publications it holds."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"--previous {path}: no such folder")
    if (path / "manifest.json").is_file():
        return [path]
    found = sorted(
        child
        for child in path.iterdir()
        if child.is_dir()
        and not child.name.startswith(".")
        and not child.name.endswith(".restricted")
        and (child / "manifest.json").is_file()
        and (child / f"{child.name}.csv").is_file()
    )
    if not found:
        raise InputError(
            f"--previous {path}: neither a publication folder (manifest.json and "
            "<identifier>.csv) nor a folder of publications"
        )
    return found


def read_release(folder: Path) -> EarlierRelease:
    """One publication folder read back; a clear error naming the file when it is not one."""
    manifest_path = folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(
            f"--previous {folder}: {manifest_path.name} cannot be read as JSON"
        ) from None
    identifier = manifest.get("identifier") if isinstance(manifest, dict) else None
    matched = IDENTIFIER.match(identifier or "")
    if not matched:
        raise InputError(
            f"--previous {folder}: {manifest_path.name}: identifier {identifier!r} is not "
            "did-<FY>-<status>-<latest month>"
        )
    config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
    status = matched["status"] or config.get("status") or "provisional"
    csv_path = folder / f"{identifier}.csv"
    if not csv_path.is_file():
        raise InputError(f"--previous {folder}: no published tidy CSV {csv_path.name}")
    try:
        cells = pl.read_csv(csv_path, infer_schema=False).with_columns(pl.all().fill_null(""))
    except pl.exceptions.PolarsError:
        raise InputError(f"--previous {folder}: {csv_path.name} cannot be read as CSV") from None
    missing = [c for c in TIDY_COLUMNS if c not in cells.columns]
    if missing:
        raise InputError(f"--previous {folder}: {csv_path.name}: missing column(s) {missing}")
    # tables by the catalog's number, as this build keys them ("7a" is published)
    internal = {spec.published_number: str(spec.number) for spec in TABLES.values()}
    cells = cells.with_columns(pl.col("table").replace(internal))
    ledger_path = folder.parent / f"{identifier}.restricted" / LEDGER_FILE
    return EarlierRelease(
        identifier=identifier,
        folder=folder,
        financial_year=matched["year"],
        latest_month=matched["month"],
        status=status,
        policy=str(manifest.get("policy") or config.get("policy") or "did"),
        cells=cells.select(TIDY_COLUMNS),
        ledger=read_ledger(ledger_path),
    )


def read_earlier_releases(
    paths: tuple[Path, ...], identifier: str, latest_month: str, status: str
) -> list[EarlierRelease]:
    """The earlier releases `--previous` names, oldest first, each once.

    A release of this identifier (a rebuild) or a later one (a later month, or the final
    of this month when this is provisional) is not earlier: left out, and said."""
    releases: dict[str, EarlierRelease] = {}
    this = (latest_month, status == "final")
    for path in paths:
        for folder in release_folders(path):
            release = read_release(folder)
            if release.identifier == identifier:
                log.warning("--previous %s: the release being built; left out", folder)
            elif release.order >= this:
                log.warning(
                    "--previous %s: %s is not earlier than this release; left out",
                    folder,
                    release.identifier,
                )
            else:
                releases.setdefault(release.identifier, release)
    return sorted(releases.values(), key=lambda r: (r.order, r.identifier))


def latest_of_year(releases: list[EarlierRelease], financial_year: str) -> EarlierRelease | None:
    """The latest earlier release of the financial year: the one revisions are against."""
    of_year = [r for r in releases if r.financial_year == financial_year]
    return of_year[-1] if of_year else None


def final_of_year(releases: list[EarlierRelease], financial_year: str) -> EarlierRelease | None:
    """The final release of a financial year, when given (year on year)."""
    finals = [r for r in releases if r.financial_year == financial_year and r.status == "final"]
    return finals[-1] if finals else None


def keyed_text(cells: pl.DataFrame) -> pl.DataFrame:
    """Published cells with their key as text, table included: for joins across releases."""
    return cells.with_columns([pl.col(c).cast(pl.Utf8).fill_null("") for c in CELL_KEY_COLUMNS])
