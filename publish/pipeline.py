"""The monthly build, read top to bottom as the publication process.

    session (publish.session: connection, private work folder, folders locked)
    ingest -> validate -> derive -> resolve      the engine's (publish.engines)
    the period (publish.aggregate.period) -> aggregate -> protect (the Policy)
    the quality report's figures (publish.quality.figures)
    render (publish.render) -> audit (publish.disclosure.audit) -> manifests
    both folders staged whole, then swapped into place (publish.folders)

`compute_publication` is everything up to the protected figures, nothing written;
`build_with` writes and audits them. Each stage is a module of its own; this file only
puts them in order.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from publish.aggregate.cells import aggregate_tables
from publish.aggregate.period import latest_month, months_without_records
from publish.config import BuildConfig
from publish.db import frame
from publish.disclosure.audit import AUDIT_FILE, AuditReport, audit_publication
from publish.disclosure.protect import protect_cells
from publish.engines.engine import engine_for
from publish.folders import kill_point, make_private, staged, swap_into_place, write_atomically
from publish.ingest.inputs import input_paths
from publish.ingest.load import (
    InputError,
    InputFile,
    read_submissions_manifest,
)
from publish.periods import months_of_year_to_date
from publish.progress import stage
from publish.quality.figures import build_quality_report, manifest_inputs, quality_cells
from publish.quality.report import AuditSummary, QualityReport
from publish.reference import ReferenceFiles, load_reference_data, published_provider_names
from publish.render.manifest import build_manifest, folder_digest, write_manifest
from publish.render.publication import Publication
from publish.render.quality import write_quality_csvs, write_quality_pages, write_quality_report
from publish.render.release import release_details, release_warnings
from publish.render.site import write_site
from publish.render.tidy import (
    add_names,
    to_tidy,
    write_datapackage,
    write_revisions_csv,
    write_tidy_csv,
)
from publish.render.workbook import CoverText, load_cover_text, write_workbook
from publish.resources import query_block
from publish.series.across_releases import (
    audit_across_releases,
    protect_across_releases,
    release_lp,
)
from publish.series.ledger import ledger_frame, write_ledger
from publish.series.organisations import organisation_changes
from publish.series.provider_issues import issue_sentences, setting_shift_sentences
from publish.series.release_series import series_facts
from publish.series.releases import EarlierRelease, read_earlier_releases
from publish.session import build_session
from publish.stage_tables import check_stage
from publish.tables import QUALITY_TABLE, UNKNOWN_COMMISSIONER
from publish.validate.restricted_manifest import build_restricted_manifest, write_restricted_files
from publish.validate.rules import (
    FileOutcome,
    file_outcomes,
    rejection_rule_counts,
    write_restricted,
)

log = logging.getLogger("did_publish")


@dataclass
class BuildResult:
    publication: Publication
    publication_dir: Path
    restricted_dir: Path
    files: list[InputFile]
    outcomes: dict[int, FileOutcome]
    audit_summary: str = ""
    audit_passed: bool = True
    # (rule code, records) of the rules that rejected most records, most first.
    rejection_rules: list[tuple[str, int]] = field(default_factory=list)
    # The audit over the union of this release and the earlier ones, if any.
    series_audit_summary: str = ""


@dataclass(frozen=True)
class SeriesInputs:
    """What the series needs beyond the publication: the earlier releases read back, and
    this release's ledger of unrounded values (restricted: never rendered)."""

    earlier: list[EarlierRelease]
    ledger: pl.DataFrame


NOT_PROTECTED = (
    "WARNING: secondary_suppression = false: this publication is NOT protected "
    "(primary suppression alone, for testing the audit and attackers; do not release it)."
)


class DisclosureAuditFailed(Exception):
    """The strict policy's audit found a cell that can be recovered or narrowed."""


def ingest_and_validate(
    con: duckdb.DuckDBPyConnection, config: BuildConfig, work_dir: Path
) -> list[InputFile]:
    """Stages 1-3 and resolve: read, check and derive every record of the inputs, and
    leave what counts (`counted_cube`, `counted_waits`): the build's engine does it
    (`publish.engines`; on DuckDB through the record store)."""
    submission_dates = read_submissions_manifest(config.submissions) if config.submissions else {}
    if config.submissions is None and config.submission_date is None:
        log.warning(
            "no submission dates given: rules DIDS049 and DIDS055 not applied; DIDS051 and "
            "DIDS066 compare with the build date (%s)",
            date.today().isoformat(),
        )
    own_folders = [config.out_dir, work_dir] + ([config.store] if config.store else [])
    paths = (
        []
        if config.spark_table
        else input_paths(config.inputs, own_folders, config.submissions, submission_dates)
    )
    return engine_for(config).ingest(con, config, work_dir, paths, submission_dates)


def provider_names(con: duckdb.DuckDBPyConnection, latest: str | None = None) -> pl.DataFrame:
    """The published name of every provider: a renamed one's name at the end of the
    period (`latest`, YYYY-MM), the sites' reference says which (INPUT.md section 3)."""
    return published_provider_names(con, end_of_month(latest) if latest else None)


def end_of_month(month: str) -> date:
    year, mon = (int(part) for part in month.split("-"))
    following = date(year + 1, 1, 1) if mon == 12 else date(year, mon + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def provider_details(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each provider's ICB and imaging network in each region (empty where sites.csv
    does not say: an independent provider has none)."""
    return frame(
        con,
        """
        SELECT region_code, provider_code, coalesce(max(icb_code), '') AS icb_code,
               coalesce(max(network_name), '') AS network_name
        FROM sites GROUP BY ALL
        """,
    )


def commissioner_names(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each sub-ICB location's name (as at its latest row of the reference), by code."""
    return frame(
        con,
        """
        SELECT sub_icb_code AS provider_code, arg_max(sub_icb_name, valid_from) AS provider_name
        FROM practices GROUP BY ALL
        UNION ALL SELECT $unknown, $unknown
        """,
        {"unknown": UNKNOWN_COMMISSIONER},
    )


def build_publication(config: BuildConfig) -> BuildResult:
    """Build one publication from submission files, and publish it atomically."""
    with build_session(config) as (con, work_dir):
        return build_with(con, config, work_dir)


def compute_publication(
    con: duckdb.DuckDBPyConnection, config: BuildConfig, work_dir: Path
) -> tuple[Publication, list[InputFile], dict[int, FileOutcome], QualityReport, SeriesInputs]:
    """Everything up to the protected tables and data-quality report, nothing written.

    The report's counts are cells of the publication: one call of `protect_cells`
    protects them with the tables (under `strict`, jointly: they are linked to table 1).
    With earlier releases (`--previous`), under `strict` the cells they suppressed that
    are unchanged are suppressed again, and the revised cells are marked.
    """
    load_reference_data(con, ReferenceFiles(config.sites, config.imaging_codes, config.practices))
    files = ingest_and_validate(con, config, work_dir)
    outcomes = file_outcomes(con, files)
    if not any(outcome.accepted for outcome in outcomes.values()):
        said = [f.message for f in files if f.message][:5]
        raise InputError(
            "no record was accepted: nothing to publish (see the quarantine)"
            + "".join(f"\n  {message}" for message in said)
        )
    month = latest_month(con, config)
    policy = config.disclosure_policy()  # made once: every later stage reads this one
    with stage("aggregate", "every table from the counted records"):
        cells = pl.concat(
            [
                aggregate_tables(con, months_of_year_to_date(month)),
                quality_cells(con, files, outcomes),
            ]
        )
    check_stage(con, "aggregate")
    publication = Publication(
        latest_month=month,
        status=config.status,
        policy=policy,
        tidy=pl.DataFrame(),
        published_on=config.published_on,
        demo=config.demo,
        months_without_records=months_without_records(con, month),
        provider_details=provider_details(con),
    )
    earlier = read_earlier_releases(
        config.previous, publication.identifier, month, publication.status
    )
    named = add_names(cells, provider_names(con, month), commissioner_names(con))
    with stage("protect", f"disclosure control, {policy.name} policy"):
        ledger = ledger_frame(named)
        protected = protect_across_releases(named, policy, earlier, ledger, protect_cells)
    is_quality = pl.col("table") == QUALITY_TABLE
    tidy, series = series_facts(
        to_tidy(protected.filter(~is_quality)), publication.financial_year, config.status, earlier
    )
    changes = organisation_changes(
        frame(
            con, "SELECT site_code, provider_code, provider_name, valid_from, valid_to FROM sites"
        ),
        date(int(publication.financial_year[:4]), 4, 1),
        end_of_month(month),
    )
    series = replace(series, organisation_changes=tuple(c.sentence for c in changes))
    publication = replace(publication, tidy=tidy, series=series)
    report = build_quality_report(
        con, files, protected.filter(is_quality), policy, publication.months
    )
    names = {
        (r["region_code"], r["provider_code"]): r["provider_name"]
        for r in provider_names(con, month).iter_rows(named=True)
    }
    setting_months = frame(con, query_block("series/series", "provider_setting_months")).filter(
        pl.col("month").is_in(list(publication.months))
    )
    issues = issue_sentences(report.issues, report.by_provider, publication.months)
    shifts = setting_shift_sentences(setting_months, names, policy)
    publication = replace(
        publication, series=replace(series, provider_issues=tuple(issues + shifts))
    )
    return publication, files, outcomes, report, SeriesInputs(earlier, ledger)


def release_cover(publication: Publication, config: BuildConfig) -> tuple[Publication, CoverText]:
    """The publication dated, and its cover text with the release details filled in
    (config, else cover text, else derived from the period); what looks wrong is warned."""
    cover = load_cover_text(config.publication_text)
    details = release_details(
        publication.latest_month,
        config.published_on or cover.published_on,
        config.next_update or cover.next_update,
        config.contact_email or cover.contact_email,
    )
    warnings = release_warnings(
        details, publication.latest_month, publication.months_without_records
    )
    for warning in warnings:
        if not (publication.demo and "placeholder" in warning):  # the demo is not released
            log.warning(warning)
    cover = replace(
        cover,
        published_on=details.published_on,
        next_update=details.next_update,
        contact_email=details.contact_email,
    )
    return replace(publication, published_on=details.published_on), cover


@dataclass(frozen=True)
class Computed:
    """What a build has computed and dated before anything is written."""

    publication: Publication
    cover: CoverText
    files: list[InputFile]
    outcomes: dict[int, FileOutcome]
    report: QualityReport
    series: SeriesInputs


def build_with(con: duckdb.DuckDBPyConnection, config: BuildConfig, work_dir: Path) -> BuildResult:
    """The process: compute and date the publication, write the restricted folder and
    the publication whole beside their targets (the publication audited as it is
    written), then swap both into place, the restricted one first.

    A publication is never visible without its restricted folder, and its manifest holds
    the digest of the restricted folder it belongs to (`restricted_folder_sha256`, taken
    once the audit's bounds are in it), so a pair from two builds is told apart. A build
    that fails leaves the previous pair untouched.
    """
    publication, files, outcomes, report, series = compute_publication(con, config, work_dir)
    publication, cover = release_cover(publication, config)
    built = Computed(publication, cover, files, outcomes, report, series)
    publication_dir = config.out_dir / publication.identifier
    restricted_dir = config.out_dir / f"{publication.identifier}.restricted"
    audits: list[tuple[AuditReport, str]] = []  # the audit, and over the releases
    with (
        staged(
            restricted_dir, lambda folder: write_restricted_folder(con, built, folder), private=True
        ) as restricted_staging,
        staged(
            publication_dir,
            lambda folder: audits.append(
                write_publication(config, built, folder, restricted_staging)
            ),
        ) as publication_staging,
    ):
        kill_point("before-swaps")
        swap_into_place(restricted_staging, restricted_dir, "restricted")
        kill_point("between-swaps")
        swap_into_place(publication_staging, publication_dir, "publication")
    return BuildResult(
        publication,
        publication_dir,
        restricted_dir,
        files,
        outcomes,
        console_summary(publication, audits[-1][0]),
        audits[-1][0].passed,
        rejection_rule_counts(con, files),
        audits[-1][1],
    )


def write_restricted_folder(con: duckdb.DuckDBPyConnection, built: Computed, folder: Path) -> None:
    """The restricted folder: the ledger of unrounded values (for the next releases of
    the series), quarantine and warnings, each file's accounting, its manifest."""
    write_ledger(built.series.ledger, folder)
    write_restricted(con, built.files, folder)
    write_restricted_files(built.files, built.outcomes, folder)
    write_manifest(
        folder / "manifest.json",
        build_restricted_manifest(built.publication.identifier, built.files, built.outcomes),
    )


def write_publication(
    config: BuildConfig, built: Computed, folder: Path, restricted_staging: Path
) -> tuple[AuditReport, str]:
    """The publication's folder: every rendering, the quality report's figures, the
    manifest, the audit of all of it, then the quality pages (they show the audit) and
    the manifest again with the restricted folder's digest.

    The build audits its own output (PUBLICATION.md section 4): every figure of the
    tables and of the quality report; under strict a failed audit stops the build and
    the previous publication stays in place. Its cell-by-cell bounds go to the
    restricted folder only. With earlier releases (`--previous`) the audit runs over
    their union too (PUBLICATION.md section 7): a failing union stops a strict build.
    Returns the audit and the union audit's line ("" without earlier releases).
    """
    publication, report = built.publication, built.report
    # What the audit reads first: the tidy CSV, the quality report's CSVs and the
    # manifest (England's totals among its figures; written again once the pages and
    # the audit's summary are in the folder). The audit (HiGHS, which lets go of
    # Python's lock while it solves) then runs on a thread of its own while the
    # workbook, its ODS copy and the site are written: neither reads the other's files.
    write_tidy_files(publication, folder)
    write_quality_csvs(report, folder)
    write_publication_manifest(config, built, folder)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit") as alongside:
        audit_running = alongside.submit(
            audit_publication,
            folder,
            csv_path=folder / f"{publication.identifier}.csv",
            restricted_dir=restricted_staging,
            policy=publication.policy,
        )
        with stage("render", "workbook, ODS and web pages (the disclosure audit alongside)"):
            render(publication, folder, built.cover)
        kill_point("render")
        with stage("audit", "disclosure audit of the published figures (linear programming)"):
            audit = audit_running.result()
    make_private(restricted_staging / AUDIT_FILE)
    if publication.policy.audit_stops_build and not audit.passed:
        raise DisclosureAuditFailed(audit.summary)
    across = audit_series(built, folder)
    line = f"{audit.summary} {across}" if across else audit.summary
    summary = AuditSummary(line, audit.meaning, audit.by_table)
    with stage("quality", "the data-quality report"):
        write_quality_pages(
            replace(report, audit=summary),
            folder,
            publication.published_on,
            cover=built.cover,
            stamp=publication.stamp,
            publication=publication,
        )
    write_publication_manifest(config, built, folder, folder_digest(restricted_staging))
    return audit, across


def audit_series(built: Computed, folder: Path) -> str:
    """The audit over the union of this release and the earlier ones (its line; "" with
    none); under strict a failing union stops the build."""
    publication, series = built.publication, built.series
    if not series.earlier:
        return ""
    with stage("audit", "disclosure audit over the releases of the series"):
        across = audit_across_releases(
            release_lp(
                folder,
                folder / f"{publication.identifier}.csv",
                publication.identifier,
                publication.policy,
                series.ledger,
            ),
            series.earlier,
        )
    if publication.policy.audit_stops_build and not across.passed:
        raise DisclosureAuditFailed(across.summary)
    return across.summary


def write_publication_manifest(
    config: BuildConfig, built: Computed, folder: Path, restricted_digest: str | None = None
) -> None:
    write_manifest(
        folder / "manifest.json",
        build_manifest(
            built.publication.identifier,
            config,
            built.publication.policy,
            manifest_inputs(built.files),
            built.report.totals,
            folder,
            restricted_digest,
        ),
    )


def console_summary(publication: Publication, audit: AuditReport) -> str:
    """The audit's line as the console shows it: loud when nothing protects the cells."""
    if not publication.policy.secondary_suppression:
        return f"{NOT_PROTECTED} {audit.summary}"
    return audit.summary


def write_tidy_files(publication: Publication, folder: Path) -> None:
    """The tidy CSV (what the audit reads), the revisions' CSV and the datapackage."""
    csv_name = f"{publication.identifier}.csv"
    write_tidy_csv(publication.tidy, folder / csv_name)
    if publication.series.revisions is not None:
        write_revisions_csv(publication.series.revisions, folder / publication.revisions_name)
    title = f"Diagnostic Imaging Dataset {publication.financial_year} ({publication.status})"
    write_datapackage(
        folder / "datapackage.json",
        publication.identifier,
        csv_name,
        f"{title}. {publication.stamp}" if publication.stamp else title,
    )


def render(publication: Publication, folder: Path, cover: CoverText) -> None:
    """The renderings beside the tidy files (`write_tidy_files`): workbook, ODS, HTML."""
    csv_name = f"{publication.identifier}.csv"
    downloads = {"Tidy data (CSV)": f"../{csv_name}"}
    if publication.series.revisions is not None:
        downloads["Revisions since the previous release (CSV)"] = f"../{publication.revisions_name}"
    workbook_name = f"{publication.identifier}.xlsx"
    ods_name = f"{publication.identifier}.ods"
    write_workbook(publication, folder / workbook_name, cover, folder / ods_name)
    write_site(
        publication,
        folder / "html",
        downloads
        | {
            "Accessible workbook (Excel)": f"../{workbook_name}",
            "The same workbook (OpenDocument, ODS)": f"../{ods_name}",
            "Data package description (JSON)": "../datapackage.json",
        },
        quality_page="../quality/index.html",
    )


@dataclass
class ValidationResult:
    folder: Path
    files: list[InputFile]
    received: int
    accepted: int
    rejected: int
    rejection_rules: list[tuple[str, int]] = field(default_factory=list)


def validate_only(config: BuildConfig) -> ValidationResult:
    """Validate submissions without publishing: quality report and restricted folder only."""
    with build_session(config) as (con, work_dir):
        load_reference_data(
            con, ReferenceFiles(config.sites, config.imaging_codes, config.practices)
        )
        files = ingest_and_validate(con, config, work_dir)
        outcomes = file_outcomes(con, files)
        folder = config.out_dir / "validation"
        cells = add_names(quality_cells(con, files, outcomes), provider_names(con))
        policy = config.disclosure_policy()
        report = build_quality_report(con, files, protect_cells(cells, policy), policy)

        def write_restricted_folder(restricted: Path) -> None:
            write_restricted(con, files, restricted)
            write_restricted_files(files, outcomes, restricted)
            write_manifest(
                restricted / "manifest.json",
                build_restricted_manifest("validation", files, outcomes),
            )

        write_atomically(
            config.out_dir / "validation.restricted", write_restricted_folder, private=True
        )
        with stage("quality", "the data-quality report"):
            write_atomically(folder, lambda target: write_quality_report(report, target))
        rules = rejection_rule_counts(con, files)
    return ValidationResult(
        folder,
        files,
        sum(o.received for o in outcomes.values()),
        sum(o.accepted for o in outcomes.values()),
        sum(o.rejected for o in outcomes.values()),
        rules,
    )
