"""Progress of a build: every stage said as it starts, ingest file by file.

On a terminal a rich progress bar (files ingested of the build's total, records per
second, time elapsed) replaces itself as it goes, and each later stage shows a spinner
with its name, then one line saying it is done and how long it took; elsewhere (a
scheduled build, CI) each ingest batch and each stage is one log line. `--quiet` (the
log level above INFO) shows none of it. Counts only: no file content is ever shown.
"""

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from publish.ingest.load import InputFile

log = logging.getLogger("did_publish")


def showing_progress() -> bool:
    return log.isEnabledFor(logging.INFO)


@contextmanager
def stage(name: str, what: str) -> Iterator[None]:
    """One stage of the build: `name` (aggregate, protect, ...) and what it does."""
    if not showing_progress():
        yield
        return
    console = Console(file=sys.stderr)
    if not console.is_terminal:
        log.info("%s: %s", name, what)
        yield
        return
    started = time.monotonic()
    with console.status(f"{name}: {what}"):
        yield
    console.print(
        f"did-publish: {name}: done in {time.monotonic() - started:.1f} s", highlight=False
    )


class Progress:
    """Reports ingest as batches of files finish."""

    def __init__(self, total_files: int, total_bytes: int) -> None:
        self.total_files = total_files
        self.total_bytes = total_bytes
        self.records = 0
        self.started = time.monotonic()
        console = Console(file=sys.stderr)
        self.bar: RichProgress | None = None
        if console.is_terminal and total_bytes and showing_progress():
            self.bar = RichProgress(
                TextColumn("ingest and validate"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files  {task.fields[rate]}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self.task = self.bar.add_task("ingest", total=total_files, rate="")

    def __enter__(self) -> "Progress":
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.stop()

    def reused(self, files: int) -> None:
        """Files read back from the record store, not ingested again."""
        if files:
            log.info("%d of %d files already in the record store", files, self.total_files)
        if self.bar is not None:
            self.bar.advance(self.task, files)

    def ingested(self, batch: list[InputFile]) -> None:
        self.records += sum(f.records_received for f in batch)
        seconds = max(time.monotonic() - self.started, 1e-9)
        rate = f"{self.records / seconds:,.0f} records/s"
        if self.bar is not None:
            self.bar.update(self.task, advance=len(batch), rate=rate)
        else:
            log.info("ingest and validate: %d more files: %s records so far, %s", len(batch),
                     f"{self.records:,}", rate)  # fmt: skip
