"""The `did-publish` command (PUBLICATION.md section 6).

Exit codes: 0 success; 1 a failed check (audit, validation with rejected records);
2 usage or input errors, each one line naming the file, row and field (or the option),
never a traceback. `--json` prints a machine-readable summary on stdout for scripts
(the human lines then go to stderr); `--quiet` shows warnings and errors only.
"""

import json
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from publish import __version__
from publish.errors import InputError

if TYPE_CHECKING:
    from publish.config import BuildConfig
    from publish.pipeline import BuildResult


class OneLineErrors(TyperGroup):
    """Usage errors (an unknown option, a bad choice, a missing argument) as one line on
    stderr, exit 2, like every other error of the command, instead of a boxed panel."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        from typer import _click

        try:
            code = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except _click.exceptions.NoArgsIsHelpError:
            sys.exit(2)  # the help is already shown
        except _click.exceptions.ClickException as error:
            _click.echo(f"{command_words(error)}: {one_line(error.format_message())}", err=True)
            sys.exit(error.exit_code)
        except typer.Abort:
            _click.echo("did-publish: interrupted", err=True)
            sys.exit(INTERRUPTED)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def command_words(error: Exception) -> str:
    """'did-publish build' for an error in `build`'s options."""
    names = []
    context = getattr(error, "ctx", None)
    while context is not None and context.parent is not None:
        names.insert(0, context.info_name)
        context = context.parent
    return " ".join(["did-publish", *names])


def one_line(message: str) -> str:
    text = " ".join(message.split())
    return text if text.endswith((".", "?")) else text + "."


app = typer.Typer(
    cls=OneLineErrors,
    help="Build England's Diagnostic Imaging Dataset statistics from record-level submissions.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",  # docstrings reflowed as paragraphs
    pretty_exceptions_enable=False,
)


class Status(StrEnum):
    provisional = "provisional"
    final = "final"


class Policy(StrEnum):
    did = "did"
    hes = "hes"
    strict = "strict"


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


class Scale(StrEnum):
    demo = "demo"
    national = "national"


class FileFormat(StrEnum):
    csv = "csv"
    xml = "xml"


def show_version(value: bool) -> None:
    if value:
        typer.echo(f"did-publish {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", is_eager=True, callback=show_version
        ),
    ] = False,
) -> None:
    """Build England's Diagnostic Imaging Dataset statistics from record-level submissions."""


DEMO_MONTHS = ("2024-04", "2025-03")
# Room the demo's synthetic files need, with a margin (they are about 35 MB).
DEMO_SCRATCH_BYTES = 512 * 2**20

InputsArgument = Annotated[
    list[Path] | None, typer.Argument(help="Submission files or folders (CSV or Parquet).")
]
SitesOption = Annotated[Path | None, typer.Option("--sites", help="Site reference CSV.")]
CodesOption = Annotated[
    Path | None, typer.Option("--imaging-codes", help="Imaging-code reference CSV.")
]
PracticesOption = Annotated[
    Path | None,
    typer.Option("--practices", help="GP practice reference CSV (commissioners, tables 7 and 8)."),
]
SubmissionsOption = Annotated[
    Path | None,
    typer.Option("--submissions", help="CSV of file,submission_date for the inputs."),
]
SubmissionDateOption = Annotated[
    str | None,
    typer.Option("--submission-date", help="Submission date of every input, YYYY-MM-DD."),
]
EngineOption = Annotated[
    Engine | None,
    typer.Option("--engine", help="Where the SQL runs.", show_default="duckdb"),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Config file (TOML): its build and publication tables."),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="Warnings and errors only: no progress.")
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="More detail on stderr.")]
JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print a machine-readable summary (JSON) on stdout."),
]
SparkMasterOption = Annotated[
    str | None,
    typer.Option("--spark-master", help="Spark master URL (default: local[*])."),
]
PreviousOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--previous",
        help="An earlier release of the series (its publication folder, or a folder of "
        "publications); repeatable.",
    ),
]
OutOption = Annotated[Path | None, typer.Option("--out", help="Output folder (default output/).")]


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"did-publish: {message}", err=True)
    raise typer.Exit(code)


# Errors that damaged input can raise from the libraries below us. Their text can quote
# a submission line (DuckDB's CSV errors do), so it is never shown: the message names
# the error's type, and DID_PUBLISH_DEBUG=1 re-raises it for a developer.
def unexpected_input_error(error: Exception) -> None:
    if os.environ.get("DID_PUBLISH_DEBUG"):
        raise error
    shortage = resource_shortage(error)
    if shortage:
        fail(f"stopped: {shortage}; nothing was published.")
    fail(
        f"stopped by an unexpected {type(error).__module__}.{type(error).__name__} while "
        "reading or checking the inputs; nothing was published. Its text is not shown, as "
        "it may quote a submission record (set DID_PUBLISH_DEBUG=1 to see it)."
    )


def resource_shortage(error: Exception) -> str | None:
    """Out of memory or of disk space: the machine's limit, not a fault in the inputs."""
    import errno

    import duckdb

    if isinstance(error, MemoryError | duckdb.OutOfMemoryException):
        return (
            "out of memory (DuckDB's memory_limit can be set in the config file; beyond "
            "it DuckDB spills to disk beside the output)"
        )
    no_space = isinstance(error, OSError) and error.errno == errno.ENOSPC
    if no_space or (isinstance(error, duckdb.IOException) and "No space left" in str(error)):
        return (
            "out of disk space in the output folder (the build's work folder, where DuckDB "
            "spills beyond its memory limit, is there too)"
        )
    return None


INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C (128 + SIGINT)


def interrupted() -> None:
    """Ctrl-C: one line, exit 130; the build's staging folders are already removed."""
    fail("interrupted; nothing was published, the previous publication is unchanged", INTERRUPTED)


def interruptions() -> tuple[type[BaseException], ...]:
    import duckdb

    return (KeyboardInterrupt, duckdb.InterruptException)


def data_errors() -> tuple[type[Exception], ...]:
    import csv

    import duckdb
    import polars as pl

    return (
        duckdb.Error, pl.exceptions.PolarsError, csv.Error, UnicodeError, OSError, MemoryError
    )  # fmt: skip


class Warnings(logging.Handler):
    """Collects the build's warnings for the `--json` summary."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def setup_logging(quiet: bool = False, verbose: bool = False) -> Warnings:
    """did-publish's own log lines on stderr, at the level asked; returns the collector of
    warnings. Called at each command, so the handler writes to the current stderr."""
    log = logging.getLogger("did_publish")
    for handler in list(log.handlers):
        if getattr(handler, "did_publish", False):
            log.removeHandler(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter("did-publish: %(message)s"))
    collected = Warnings()
    for handler in (console, collected):
        handler.did_publish = True  # type: ignore[attr-defined]
        log.addHandler(handler)
    log.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
    if quiet and verbose:
        fail("give --quiet or --verbose, not both")
    return collected


def say(text: str, as_json: bool) -> None:
    """A human line: stdout, or stderr when stdout carries the JSON summary."""
    typer.echo(text, err=as_json)


def top_rules(rules: list[tuple[str, int]], shown: int = 3) -> str:
    """'; most rejected: DIDS059 (495 records), DIDS001 (12)' or ''."""
    if not rules:
        return ""
    named = [f"{code} ({count} record{'s' if count != 1 else ''})" for code, count in rules]
    more = f" and {len(rules) - shown} more rule(s)" if len(rules) > shown else ""
    return "; rejected under " + ", ".join(named[:shown]) + more


def parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r}: expected YYYY-MM-DD")


def parse_month_range(text: str) -> list[str]:
    start, _, end = text.partition(":")
    months: list[str] = []
    try:
        year, month = (int(part) for part in start.split("-"))
        end_year, end_month = (int(part) for part in (end or start).split("-"))
    except ValueError:
        fail(f"--months {text!r}: expected YYYY-MM:YYYY-MM")
    if not (1 <= month <= 12 and 1 <= end_month <= 12) or (year, month) > (end_year, end_month):
        fail(f"--months {text!r}: expected YYYY-MM:YYYY-MM, start before end")
    while (year, month) <= (end_year, end_month):
        months.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@app.command()
def build(
    inputs: InputsArgument = None,
    config: ConfigOption = None,
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="Latest month published, YYYY-MM.",
            show_default="the latest month of the records",
        ),
    ] = None,
    status: Annotated[
        Status | None, typer.Option("--status", help="Status.", show_default="provisional")
    ] = None,
    policy: Annotated[
        Policy | None,
        typer.Option("--policy", help="Disclosure control policy.", show_default="did"),
    ] = None,
    sites: SitesOption = None,
    imaging_codes: CodesOption = None,
    practices: PracticesOption = None,
    submissions: SubmissionsOption = None,
    submission_date: SubmissionDateOption = None,
    out: OutOption = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="Record store folder: files validated before are read back, not re-parsed.",
        ),
    ] = None,
    previous: PreviousOption = None,
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
) -> None:
    """Build a publication from submission files.

    With no INPUT and no other option than --out, --quiet, --verbose and --json, it
    builds the demo publication from synthetic data, stamped "Synthetic data: not
    official statistics" on every output.
    """
    warnings = setup_logging(quiet, verbose)
    overrides = {
        "period": period,
        "status": status.value if status else None,
        "policy": policy.value if policy else None,
        "sites": sites,
        "imaging_codes": imaging_codes,
        "practices": practices,
        "submissions": submissions,
        "submission_date": parse_date(submission_date, "--submission-date"),
        "out_dir": out,
        "store": store,
        "previous": tuple(previous) if previous else None,
        "engine": engine.value if engine else None,
        "spark_master": spark_master,
        "inputs": tuple(inputs) if inputs else None,
    }
    result, build_config = run_build(config, overrides)
    report_build(result, build_config, warnings.messages, as_json)


def run_build(config: Path | None, overrides: dict) -> "tuple[BuildResult, BuildConfig]":
    """The build of the config and options given (the demo's without inputs), every
    failure said in one line: input errors exit 2, a failed strict audit exits 1."""
    from publish.config import load_config
    from publish.pipeline import DisclosureAuditFailed, build_publication

    try:
        build_config = load_config(config, overrides)
        with tempfile.TemporaryDirectory(prefix="did-demo-", dir=memory_folder()) as demo_dir:
            if not build_config.inputs and not build_config.spark_table:
                given = [
                    option
                    for option, key in PUBLICATION_OPTIONS.items()
                    if overrides.get(key) is not None
                ] + (["--config"] if config is not None else [])
                if given:
                    fail(missing_inputs(given, config))
                build_config = demo_config(build_config, Path(demo_dir))
            return build_publication(build_config), build_config
    except InputError as error:
        fail(str(error))
    except DisclosureAuditFailed as error:
        # a failed check, not a crash: the previous publication stays in place
        typer.echo(f"did-publish: not published: {error}", err=True)
        raise typer.Exit(1) from None
    except interruptions():
        interrupted()
    except data_errors() as error:
        unexpected_input_error(error)


def report_build(
    result: "BuildResult", build_config: "BuildConfig", warnings: list[str], as_json: bool
) -> None:
    """What a build says when done: records received, accepted and rejected, the
    store's reuse, the audit's line; with --json, the summary for scripts."""
    totals = {
        key: sum(getattr(o, key) for o in result.outcomes.values())
        for key in ("received", "accepted", "rejected")
    }
    report_problem_files(result.files)
    if build_config.store is not None:
        reused = sum(f.from_store for f in result.files)
        say(f"Record store: {reused} file(s) reused, {len(result.files) - reused} new.", as_json)
    say(f"{result.audit_summary} {result.publication.policy.audit_allows}", as_json)
    if result.series_audit_summary:
        say(result.series_audit_summary, as_json)
    revised = result.publication.series.revised_cells
    if result.publication.series.compared_with:
        say(
            f"Revisions: {revised} cell(s) revised since {result.publication.series.compared_with}.",
            as_json,
        )
    stamp = f" ({result.publication.stamp})" if result.publication.stamp else ""
    say(
        f"Published {result.publication_dir}{stamp} ({result.publication.policy.name} policy): "
        f"{totals['received']} records received, {totals['accepted']} accepted, "
        f"{totals['rejected']} rejected{top_rules(result.rejection_rules)} "
        f"(see {result.restricted_dir}).",
        as_json,
    )
    if not build_config.secondary_suppression:
        typer.echo(
            "WARNING: NOT PROTECTED: built with secondary_suppression = false; "
            "primary suppression alone, which an outsider can undo.",
            err=True,
        )
    if as_json:
        typer.echo(json.dumps(build_summary(result, totals, warnings), indent=2))


# Options that say the user means a real publication: without INPUT they are an error,
# not the demo (PUBLICATION.md section 6).
PUBLICATION_OPTIONS = {
    "--period": "period",
    "--status": "status",
    "--policy": "policy",
    "--sites": "sites",
    "--imaging-codes": "imaging_codes",
    "--practices": "practices",
    "--submissions": "submissions",
    "--submission-date": "submission_date",
    "--store": "store",
    "--previous": "previous",
    "--engine": "engine",
    "--spark-master": "spark_master",
}


def missing_inputs(given: list[str], config: Path | None) -> str:
    where = f" and no inputs in {config}" if config is not None else ""
    return (
        f"missing INPUT: no submission files or folders named{where}, but {', '.join(given)} "
        "given; name the files to publish (the synthetic demo is built by `did-publish "
        "build` with no option)"
    )


def build_summary(result, totals: dict[str, int], warnings: list[str]) -> dict[str, Any]:
    """The `--json` summary: what a script needs to check and pick up a build."""
    publication = result.publication
    return {
        "identifier": publication.identifier,
        "demo": publication.demo,
        "status": publication.status,
        "policy": publication.policy.name,
        "period": publication.year_to_date,
        "published_on": publication.published_on.isoformat() if publication.published_on else None,
        "paths": {
            "publication": str(result.publication_dir),
            "restricted": str(result.restricted_dir),
            "csv": str(result.publication_dir / f"{publication.identifier}.csv"),
            "workbook": str(result.publication_dir / f"{publication.identifier}.xlsx"),
            "site": str(result.publication_dir / "html" / "index.html"),
            "manifest": str(result.publication_dir / "manifest.json"),
        },
        "records": totals,
        "rejection_rules": [{"rule": code, "records": n} for code, n in result.rejection_rules],
        "files": {
            "read": len(result.files),
            "rejected_whole": sum(f.status == "rejected" for f in result.files),
        },
        "audit": {
            "passed": result.audit_passed,
            "summary": result.audit_summary,
            "policy_allows": publication.policy.audit_allows,
        },
        "months_without_records": list(publication.months_without_records),
        "series": {
            "earlier_releases": list(publication.series.earlier),
            "revisions_against": publication.series.compared_with,
            "revised_cells": publication.series.revised_cells,
            "revised_by_table": {
                str(table): cells for table, cells in publication.series.revisions_by_table()
            },
            "supersedes": list(publication.series.supersedes),
            "audit_across_releases": result.series_audit_summary or None,
        },
        "warnings": warnings,
    }


def report_problem_files(files) -> None:
    """Name every file rejected whole or with malformed records; the build went on."""
    for input_file in files:
        if input_file.status == "rejected" or input_file.malformed_records:
            code = f" [{input_file.rule_code}]" if input_file.rule_code else ""
            typer.echo(f"{input_file.message}{code}", err=True)


def memory_folder() -> str | None:
    """Where the demo's synthetic files go: the system's memory-backed folder when it has
    one with room (/dev/shm), else the usual temporary folder. They are written, read once
    and deleted; deleting the 2,317 of them from a disk that discards freed blocks at once
    took 8 s. (Synthetic records only: a real build's record-level data stays in its work
    folder beside the restricted one, `publish.session`.)"""
    shm = Path("/dev/shm")
    try:
        roomy = shutil.disk_usage(shm).free >= DEMO_SCRATCH_BYTES
    except OSError:
        return None
    return str(shm) if roomy and os.access(shm, os.W_OK | os.X_OK) else None


def demo_config(build_config, demo_dir: Path):
    """The demo: a synthetic financial year generated on the fly, with submission dates."""
    from publish.demo.synth import generate_submissions

    logging.getLogger("did_publish").info("no inputs given: building the demo from synthetic data")
    months = parse_month_range(":".join(DEMO_MONTHS))
    data_dir = demo_dir / "synthetic-demo"  # a fixed name: the manifest records it
    result = generate_submissions(data_dir, months, scale="demo", seed=0)
    return replace(
        build_config,
        inputs=(data_dir,),
        submissions=build_config.submissions or result.submissions_path,
        demo=True,
    )


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder for the synthetic files.")],
    months: Annotated[str, typer.Option("--months", help="YYYY-MM:YYYY-MM, inclusive.")] = ":".join(
        DEMO_MONTHS
    ),
    scale: Annotated[Scale, typer.Option("--scale", help="Volume of records.")] = Scale.demo,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    file_format: Annotated[
        FileFormat, typer.Option("--format", help="CSV, or NHS England's DIDS-v1-0 XML message.")
    ] = FileFormat.csv,
) -> None:
    """Write synthetic submission files in the national DID layout."""
    from publish.demo.synth import generate_submissions

    result = generate_submissions(
        out,
        parse_month_range(months),
        scale=scale.value,
        seed=seed,
        file_format=file_format.value,
    )
    typer.echo(
        f"Wrote {len(result.files)} files, {result.records_written} records, to {out} "
        f"(submission dates in {result.submissions_path.name})."
    )


@app.command()
def validate(
    inputs: Annotated[list[Path], typer.Argument(help="Submission files or folders.")],
    config: ConfigOption = None,
    sites: SitesOption = None,
    imaging_codes: CodesOption = None,
    practices: PracticesOption = None,
    submissions: SubmissionsOption = None,
    submission_date: SubmissionDateOption = None,
    out: OutOption = None,
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
) -> None:
    """Validate submissions: write only the data-quality report and the restricted folder."""
    from publish.config import load_config
    from publish.pipeline import validate_only

    warnings = setup_logging(quiet, verbose)
    overrides = {
        "sites": sites,
        "imaging_codes": imaging_codes,
        "practices": practices,
        "submissions": submissions,
        "submission_date": parse_date(submission_date, "--submission-date"),
        "out_dir": out,
        "engine": engine.value if engine else None,
        "spark_master": spark_master,
        "inputs": tuple(inputs),
    }
    try:
        result = validate_only(load_config(config, overrides))
    except InputError as error:
        fail(str(error))
    except interruptions():
        interrupted()
    except data_errors() as error:
        unexpected_input_error(error)
    report_problem_files(result.files)
    say(
        f"{result.received} records received, {result.accepted} accepted, "
        f"{result.rejected} rejected{top_rules(result.rejection_rules)}; report in "
        f"{result.folder}",
        as_json,
    )
    if as_json:
        summary = {
            "report": str(result.folder),
            "records": {
                "received": result.received,
                "accepted": result.accepted,
                "rejected": result.rejected,
            },
            "rejection_rules": [{"rule": code, "records": n} for code, n in result.rejection_rules],
            "warnings": warnings.messages,
        }
        typer.echo(json.dumps(summary, indent=2))
    if result.rejected:
        raise typer.Exit(1)


@app.command()
def audit(
    directory: Annotated[Path, typer.Argument(help="A built publication folder.")],
    restricted: Annotated[
        Path | None,
        typer.Option(
            "--restricted",
            help="Where the cell-by-cell bounds go (default: DIR.restricted beside DIR, "
            "when it exists); never inside the publication.",
        ),
    ] = None,
    previous: PreviousOption = None,
) -> None:
    """Audit a publication's disclosure control by linear programming; with --previous,
    also over the union of it and the earlier releases of its series."""
    from publish.disclosure.audit import main_audit
    from publish.series.across_releases import main_audit_across_releases

    if not directory.is_dir():
        fail(f"{directory}: no such publication folder")
    if restricted is not None and restricted.resolve().is_relative_to(directory.resolve()):
        fail(f"--restricted {restricted}: must not be inside the publication folder")
    code = main_audit(directory, restricted)
    if previous and code != 2:
        try:
            code = max(code, main_audit_across_releases(directory, tuple(previous)))
        except InputError as error:
            fail(str(error))
    raise typer.Exit(code)


@app.command()
def serve(
    directory: Annotated[Path, typer.Argument(help="A built publication folder.")] = Path("output"),
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """Serve a built publication's HTML on localhost for preview (never its restricted
    folder, nor any hidden one)."""
    from publish.render.site import ServeError, serve_publication

    try:
        serve_publication(directory, port)
    except ServeError as error:
        fail(str(error))


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the example files.")],
) -> None:
    """Write a commented example config (did-publish.toml) and cover text (cover.toml)."""
    from publish.example_config import write_example_config

    try:
        written = write_example_config(directory)
    except InputError as error:
        fail(str(error))
    for path in written:
        typer.echo(f"Wrote {path}")
    typer.echo(f"Then: did-publish build --config {written[0]}")


store_app = typer.Typer(
    cls=OneLineErrors,
    help="Look after a record store (`--store`).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(store_app, name="store")


@store_app.command("prune")
def store_prune(
    store: Annotated[Path, typer.Argument(help="The record store folder.")],
    keep: Annotated[
        list[Path],
        typer.Argument(help="The submission files or folders whose records are kept."),
    ],
    config: ConfigOption = None,
    sites: SitesOption = None,
    imaging_codes: CodesOption = None,
    practices: PracticesOption = None,
    submissions: SubmissionsOption = None,
    submission_date: SubmissionDateOption = None,
) -> None:
    """Remove from a record store all that a build of the KEEP files does not read.

    Give the submission dates and reference data the builds use (or their config): a
    file's records are kept under its bytes, submission date and reference data.
    """
    from publish.config import load_config
    from publish.folders import locked
    from publish.ingest.load import discover_input_files, read_submissions_manifest, register_files
    from publish.store.record_store import RecordStore, prune_store, reference_digest

    setup_logging()
    if not store.is_dir() or not (store / "files").is_dir():
        fail(f"{store}: not a record store (no files/ folder in it)")
    overrides = {
        "sites": sites,
        "imaging_codes": imaging_codes,
        "practices": practices,
        "submissions": submissions,
        "submission_date": parse_date(submission_date, "--submission-date"),
        "inputs": tuple(keep),
    }
    try:
        build_config = load_config(config, overrides)
        dates = (
            read_submissions_manifest(build_config.submissions) if build_config.submissions else {}
        )
        paths = discover_input_files(build_config.inputs, excluded=[store])
        files = register_files(paths, dates, build_config.submission_date)
        with locked(store, "record store"):
            record_store = RecordStore(
                store,
                reference_digest(
                    build_config.sites, build_config.imaging_codes, build_config.practices
                ),
            )
            result = prune_store(record_store, files)
    except InputError as error:
        fail(str(error))
    except interruptions():
        interrupted()
    typer.echo(
        f"Record store {store}: kept {result.kept_inputs} input file(s)"
        + (f" ({result.missing_inputs} of those given not in it)" if result.missing_inputs else "")
        + f", removed {result.removed_files} stored file(s); "
        f"{result.bytes_before / 2**20:,.1f} MB before, {result.bytes_after / 2**20:,.1f} MB after."
    )


def main() -> None:  # pragma: no cover - entry point for `python -m publish`
    app()
