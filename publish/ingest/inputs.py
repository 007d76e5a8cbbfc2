"""Which files a build reads: the submission files of its inputs, its own folders left
out, and those the submissions manifest does not list said on the console."""

import logging
from pathlib import Path

from publish.errors import InputError
from publish.ingest.load import discover_input_files

log = logging.getLogger("did_publish")


def input_paths(
    inputs: tuple[Path, ...],
    own_folders: list[Path],
    submissions: Path | None,
    submission_dates: dict,
) -> list[Path]:
    """The submission files of the inputs, the build's own folders (output, work folder,
    store) left out; those the submissions manifest does not list are said."""
    paths = discover_input_files(inputs, excluded=own_folders)
    if not paths:
        raise InputError("no submission files found in the inputs given")
    if submissions is not None:
        warn_unlisted(paths, submission_dates, submissions)
    return paths


def warn_unlisted(paths, submission_dates: dict, manifest: Path) -> None:
    """Name on the console the files the submissions manifest does not list."""
    unlisted = sorted(
        {found.shown_as for found in paths if found.path.name not in submission_dates}
    )
    if unlisted:
        listed = ", ".join(unlisted[:10]) + (
            f" and {len(unlisted) - 10} more" if len(unlisted) > 10 else ""
        )
        log.warning(
            "%d file(s) not in %s, so without a submission date (DIDS049, DIDS051, DIDS055 "
            "and DIDS066 not applied to them): %s",
            len(unlisted),
            manifest.name,
            listed,
        )
