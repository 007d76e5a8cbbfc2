"""The `did-publish` command (PUBLICATION.md section 6).

Exit codes: 0 success; 1 a failed check (audit, validation with rejected records);
2 usage or input errors, with a message naming the file, row and field.
"""

import logging
import os
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from publish.ingest import InputError

app = typer.Typer(
    help="Build England's Diagnostic Imaging Dataset statistics from record-level submissions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEMO_MONTHS = ("2024-04", "2025-03")

InputsArgument = Annotated[
    list[Path] | None, typer.Argument(help="Submission files or folders (CSV or Parquet).")
]
SitesOption = Annotated[Path | None, typer.Option("--sites", help="Site reference CSV.")]
CodesOption = Annotated[
    Path | None, typer.Option("--imaging-codes", help="Imaging-code reference CSV.")
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
    str | None,
    typer.Option("--engine", help="Where the SQL runs: duckdb (default) or spark."),
]
SparkMasterOption = Annotated[
    str | None,
    typer.Option("--spark-master", help="Spark master URL (default: local[*])."),
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


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="did-publish: %(message)s", stream=sys.stderr)


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
    config: Annotated[Path | None, typer.Option("--config", help="Build config (TOML).")] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="Latest month published, YYYY-MM.")
    ] = None,
    status: Annotated[str | None, typer.Option("--status", help="provisional or final.")] = None,
    policy: Annotated[
        str | None, typer.Option("--policy", help="Disclosure policy: did, hes or strict.")
    ] = None,
    sites: SitesOption = None,
    imaging_codes: CodesOption = None,
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
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
) -> None:
    """Build a publication; with no INPUT, the demo publication from synthetic data."""
    from publish.config import load_config
    from publish.pipeline import DisclosureAuditFailed, build_publication

    setup_logging()
    overrides = {
        "period": period,
        "status": status,
        "policy": policy,
        "sites": sites,
        "imaging_codes": imaging_codes,
        "submissions": submissions,
        "submission_date": parse_date(submission_date, "--submission-date"),
        "out_dir": out,
        "store": store,
        "engine": engine,
        "spark_master": spark_master,
        "inputs": tuple(inputs) if inputs else None,
    }
    try:
        build_config = load_config(config, overrides)
        with tempfile.TemporaryDirectory(prefix="did-demo-") as demo_dir:
            if not build_config.inputs and not build_config.spark_table:
                build_config = demo_config(build_config, Path(demo_dir))
            result = build_publication(build_config)
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
    totals = {
        key: sum(getattr(o, key) for o in result.outcomes.values())
        for key in ("received", "accepted", "rejected")
    }
    report_problem_files(result.files)
    if build_config.store is not None:
        reused = sum(f.from_store for f in result.files)
        typer.echo(f"Record store: {reused} file(s) reused, {len(result.files) - reused} new.")
    typer.echo(result.audit_summary)
    typer.echo(
        f"Published {result.publication_dir} ({result.publication.policy} policy): "
        f"{totals['received']} records received, {totals['accepted']} accepted, "
        f"{totals['rejected']} rejected (see {result.restricted_dir})."
    )
    if not build_config.secondary_suppression:
        typer.echo(
            "WARNING: NOT PROTECTED: built with secondary_suppression = false; "
            "primary suppression alone, which an outsider can undo.",
            err=True,
        )


def report_problem_files(files) -> None:
    """Name every file rejected whole or with malformed records; the build went on."""
    for input_file in files:
        if input_file.status == "rejected" or input_file.malformed_records:
            code = f" [{input_file.rule_code}]" if input_file.rule_code else ""
            typer.echo(f"{input_file.message}{code}", err=True)


def demo_config(build_config, demo_dir: Path):
    """The demo: a synthetic financial year generated on the fly, with submission dates."""
    from dataclasses import replace

    from publish.synth import generate_submissions

    logging.getLogger("did_publish").info("no inputs given: building the demo from synthetic data")
    months = parse_month_range(":".join(DEMO_MONTHS))
    data_dir = demo_dir / "synthetic-demo"  # a fixed name: the manifest records it
    result = generate_submissions(data_dir, months, scale="demo", seed=0)
    return replace(
        build_config,
        inputs=(data_dir,),
        submissions=build_config.submissions or result.submissions_path,
    )


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder for the synthetic files.")],
    months: Annotated[str, typer.Option("--months", help="YYYY-MM:YYYY-MM, inclusive.")] = ":".join(
        DEMO_MONTHS
    ),
    scale: Annotated[str, typer.Option("--scale", help="demo or national.")] = "demo",
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    file_format: Annotated[
        str, typer.Option("--format", help="csv or xml (NHS England's DIDS-v1-0 message).")
    ] = "csv",
) -> None:
    """Write synthetic submission files in the national DID layout."""
    from publish.synth import generate_submissions

    if scale not in ("demo", "national"):
        fail(f"--scale {scale!r}: choose demo or national")
    if file_format not in ("csv", "xml"):
        fail(f"--format {file_format!r}: choose csv or xml")
    result = generate_submissions(
        out, parse_month_range(months), scale=scale, seed=seed, file_format=file_format
    )
    typer.echo(
        f"Wrote {len(result.files)} files, {result.records_written} records, to {out} "
        f"(submission dates in {result.submissions_path.name})."
    )


@app.command()
def validate(
    inputs: Annotated[list[Path], typer.Argument(help="Submission files or folders.")],
    sites: SitesOption = None,
    imaging_codes: CodesOption = None,
    submissions: SubmissionsOption = None,
    submission_date: SubmissionDateOption = None,
    out: OutOption = None,
    engine: EngineOption = None,
    spark_master: SparkMasterOption = None,
) -> None:
    """Validate submissions: write only the data-quality report and the restricted folder."""
    from publish.config import load_config
    from publish.pipeline import validate_only

    setup_logging()
    overrides = {
        "sites": sites,
        "imaging_codes": imaging_codes,
        "submissions": submissions,
        "submission_date": parse_date(submission_date, "--submission-date"),
        "out_dir": out,
        "engine": engine,
        "spark_master": spark_master,
        "inputs": tuple(inputs),
    }
    try:
        result = validate_only(load_config(None, overrides))
    except InputError as error:
        fail(str(error))
    except interruptions():
        interrupted()
    except data_errors() as error:
        unexpected_input_error(error)
    report_problem_files(result.files)
    typer.echo(
        f"{result.received} records received, {result.accepted} accepted, "
        f"{result.rejected} rejected; report in {result.folder}"
    )
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
) -> None:
    """Audit a publication's disclosure control by linear programming."""
    from publish.audit import main_audit

    if not directory.is_dir():
        fail(f"{directory}: no such publication folder")
    if restricted is not None and restricted.resolve().is_relative_to(directory.resolve()):
        fail(f"--restricted {restricted}: must not be inside the publication folder")
    raise typer.Exit(main_audit(directory, restricted))


@app.command()
def serve(
    directory: Annotated[Path, typer.Argument(help="A built publication folder.")] = Path("output"),
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """Serve a built publication's HTML on localhost for preview."""
    from publish.site import serve_publication

    serve_publication(directory, port)


def main() -> None:  # pragma: no cover - entry point for `python -m publish`
    app()
