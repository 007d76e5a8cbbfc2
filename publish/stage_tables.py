"""The stage contracts: every DuckDB table a stage hands on, declared once.

Stages pass data to each other as named tables on one connection. Each is declared
here: its name, the stage that writes it and its columns, with what it holds.
`check_stage` compares the connection with these declarations at the end of a stage:
a table no stage declared, a table of a later stage, or columns other than declared
fail the build with `StageContractBroken`. The pipeline calls it at every stage's end;
it checks when `DID_PUBLISH_CHECK_STAGES` is set (the tests set it), and costs one
catalog query then.

The store keeps a copy of each of `STORED` per batch: `<table>_empty` (the schema,
written at ingest) and `<table>_file_keys` (which stored batch holds each file, written
at resolve) follow from them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from publish.errors import StageContractBroken

CHECK_ENV = "DID_PUBLISH_CHECK_STAGES"
# The stages that hand on tables, in order. ingest covers reading, validation,
# derivation and the record store's share of each file (one batch at a time).
STAGES = ("ingest", "resolve", "aggregate")


@dataclass(frozen=True)
class StageTable:
    name: str
    stage: str  # the stage that writes it
    columns_text: str  # its columns in order, space-separated
    holds: str

    @property
    def columns(self) -> frozenset[str] | None:
        """Its columns (None: a view whose columns follow what it views). Compared as a
        set: the store reads a kind back with file_id first."""
        return None if self.columns_text == "*" else frozenset(self.columns_text.split())


DECLARED: tuple[StageTable, ...] = (
    StageTable(
        "cube_records",
        "ingest",
        "*",
        "a view: the records cube.sql counts, re-pointed at each use (the files just "
        "derived; at resolve, the superseded records): any columns",
    ),
    StageTable(
        "derived_records",
        "ingest",
        "file_id row_number site_code accession_number key_hash region_code provider_code modality body_region interventional cancer_test_group source_setting_code test_month days_request_to_test days_test_to_report days_request_to_report age_at_test",
        "the accepted records, derived: provider, region, modality, waits (queries/derive/derive.sql)",
    ),
    StageTable(
        "file_cube",
        "ingest",
        "file_id region_code provider_code modality source_setting_code cancer_test_group interventional test_month n n_request_to_test_known n_days_0_to_7 n_days_8_to_31 n_days_32_to_62 n_days_over_62 n_report_time_known n_reported_same_day n_reported_by_next_day",
        "each file's counts (cube.sql), as the record store keeps them",
    ),
    StageTable(
        "file_waits",
        "ingest",
        "file_id wait region_code provider_code modality cancer_test_group gp_direct_access interventional test_month days n",
        "each file's records per day of wait (cube.sql), as the store keeps them",
    ),
    StageTable(
        "flagged_records",
        "ingest",
        "rejection_codes warning_codes file_id row_number NHS_NUMBER NHS_NUMBER_STATUS_IND PERSON_BIRTH_DATE ETHNIC_CATEGORY PERSON_GENDER_CODE POSTCODE PRACTICE_CODE PATIENT_SOURCE_SETTING REFERRER REFERRING_ORG_CODE DIAGNOSTIC_TEST_REQUEST_DATE DIAG_TEST_REQUEST_REC_DATE DIAGNOSTIC_TEST_DATE IMAGING_CODE_NICIP IMAGING_CODE_SNOMED SERVICE_REPORT_DATE SITE_CODE_IMAGING RADIOLOGICAL_ACCESSION_NUM",
        "every rule each record broke (queries/validate/validate.sql)",
    ),
    StageTable(
        "imaging_codes",
        "ingest",
        "code_system code description modality body_region interventional cancer_test_group valid_from valid_to",
        "reference imaging codes (publish.reference)",
    ),
    StageTable(
        "input_files",
        "ingest",
        "file_id source_file submission_date file_order build_date",
        "one row per input file of the build (publish.ingest.load)",
    ),
    StageTable(
        "record_outcomes",
        "ingest",
        "file_id region_code provider_code month rejection_codes warning_codes n",
        "each record's outcome: accepted, rejected, warned (queries/validate/validate.sql)",
    ),
    StageTable(
        "records_cube",
        "ingest",
        "file_id region_code provider_code modality source_setting_code cancer_test_group interventional test_month n n_request_to_test_known n_days_0_to_7 n_days_8_to_31 n_days_32_to_62 n_days_over_62 n_report_time_known n_reported_same_day n_reported_by_next_day",
        "cube.sql's counts of cube_records, per file (queries/derive/cube.sql)",
    ),
    StageTable(
        "records_waits",
        "ingest",
        "file_id wait region_code provider_code modality cancer_test_group gp_direct_access interventional test_month days n",
        "cube.sql's records per day of wait of cube_records (queries/derive/cube.sql)",
    ),
    StageTable(
        "sites",
        "ingest",
        "site_code provider_code provider_name region_code region_name valid_from valid_to first_period",
        "reference sites (publish.reference)",
    ),
    StageTable(
        "counted_cube",
        "resolve",
        "region_code provider_code modality source_setting_code cancer_test_group interventional test_month n n_request_to_test_known n_days_0_to_7 n_days_8_to_31 n_days_32_to_62 n_days_over_62 n_report_time_known n_reported_same_day n_reported_by_next_day",
        "what counts: the files' cubes less the superseded share (queries/validate/counted.sql)",
    ),
    StageTable(
        "counted_waits",
        "resolve",
        "wait region_code provider_code modality cancer_test_group gp_direct_access interventional test_month days n",
        "what counts, per day of wait (queries/validate/counted.sql)",
    ),
    StageTable(
        "stored_file_keys",
        "resolve",
        "file_id cache_key",
        "each file's key in the record store (publish.store.record_store)",
    ),
    StageTable(
        "repeated_hashes",
        "resolve",
        "key_hash",
        "record key hashes submitted more than once (queries/validate/resolve.sql)",
    ),
    StageTable(
        "superseded_cube",
        "resolve",
        "file_id region_code provider_code modality source_setting_code cancer_test_group interventional test_month n n_request_to_test_known n_days_0_to_7 n_days_8_to_31 n_days_32_to_62 n_days_over_62 n_report_time_known n_reported_same_day n_reported_by_next_day",
        "the superseded records' share of the cube (queries/validate/counted.sql)",
    ),
    StageTable(
        "superseded_records",
        "resolve",
        "file_id row_number site_code accession_number key_hash region_code provider_code modality body_region interventional cancer_test_group source_setting_code test_month days_request_to_test days_test_to_report days_request_to_report age_at_test recency",
        "records replaced by a later submission (queries/validate/resolve.sql)",
    ),
    StageTable(
        "superseded_waits",
        "resolve",
        "file_id wait region_code provider_code modality cancer_test_group gp_direct_access interventional test_month days n",
        "the superseded records' share of the waits (queries/validate/counted.sql)",
    ),
    StageTable(
        "activity_cube",
        "aggregate",
        "region_code provider_code modality source_setting_code cancer_test_group interventional test_month n n_request_to_test_known n_days_0_to_7 n_days_8_to_31 n_days_32_to_62 n_days_over_62 n_report_time_known n_reported_same_day n_reported_by_next_day",
        "the counted cube with labels, for every table (queries/aggregate/activity_cube.sql)",
    ),
    StageTable(
        "period_months",
        "aggregate",
        "test_month period",
        "each month's periods: itself and the year to date (publish.aggregate.cells)",
    ),
    StageTable(
        "publication_months",
        "aggregate",
        "test_month",
        "the months of the year to date (publish.aggregate.cells)",
    ),
    StageTable(
        "setting_groups",
        "aggregate",
        "code label",
        "table 10's setting groups (publish.aggregate.cells)",
    ),
    StageTable(
        "source_setting_labels",
        "aggregate",
        "code label",
        "source setting code -> label (publish.aggregate.cells)",
    ),
    StageTable(
        "submitted_periods",
        "aggregate",
        "geography_level region_code provider_code period",
        "where something was submitted, by geography and period (activity_cube.sql)",
    ),
    StageTable(
        "table_count_measures",
        "aggregate",
        "measure",
        "the current table's count measures (publish.aggregate.cells)",
    ),
    StageTable(
        "table_counts",
        "aggregate",
        "row_label source_setting region_code provider_code test_month n",
        "the current count table's source block (queries/aggregate/table_sources.sql)",
    ),
    StageTable(
        "table_counts_long",
        "aggregate",
        "row_label source_setting region_code provider_code test_month measure n",
        "the current measure table's source block (queries/aggregate/table_sources.sql)",
    ),
    StageTable(
        "table_levels",
        "aggregate",
        "geography_level",
        "the current table's geography levels (publish.aggregate.cells)",
    ),
    StageTable(
        "table_percents",
        "aggregate",
        "measure numerator denominator",
        "the current table's percentages (publish.aggregate.cells)",
    ),
    StageTable(
        "table_periods",
        "aggregate",
        "period",
        "the current table's periods (publish.aggregate.cells)",
    ),
    StageTable(
        "table_settings",
        "aggregate",
        "source_setting",
        "the current table's settings (publish.aggregate.cells)",
    ),
    StageTable(
        "table_waits",
        "aggregate",
        "row_label source_setting region_code provider_code test_month days n",
        "the current median table's source block (queries/aggregate/table_sources.sql)",
    ),
    StageTable(
        "wait_histogram",
        "aggregate",
        "wait region_code provider_code modality cancer_test_group gp_direct_access interventional test_month days n",
        "the counted waits with labels (queries/aggregate/activity_cube.sql)",
    ),
)

# The record store's kinds (publish.store.record_store.STORED_TABLES): each has its schema and its
# batch keys beside it.
STORED = ("derived_records", "file_cube", "file_waits", "record_outcomes", "flagged_records")
FILE_KEYS_COLUMNS = "file_id cache_key batch_file"


def declarations() -> dict[str, StageTable]:
    """Every declared table by name, with the store's `_empty` and `_file_keys`."""
    tables = {table.name: table for table in DECLARED}
    for name in STORED:
        table = tables[name]
        tables[f"{name}_empty"] = StageTable(
            f"{name}_empty", "ingest", table.columns_text, f"the schema of {name}"
        )
        tables[f"{name}_file_keys"] = StageTable(
            f"{name}_file_keys", "resolve", FILE_KEYS_COLUMNS, f"the stored batch of {name}"
        )
    return tables


COLUMNS_SQL = """
    SELECT table_name, list(column_name ORDER BY column_index)
    FROM duckdb_columns() WHERE NOT internal
    GROUP BY table_name ORDER BY table_name
"""


def contract_problems(present: dict[str, tuple[str, ...]], stage: str) -> list[str]:
    """What breaks the contracts when these tables (name -> columns) are on the
    connection at the end of `stage`."""
    declared = declarations()
    done = STAGES[: STAGES.index(stage) + 1]
    problems = []
    for name, columns in sorted(present.items()):
        table = declared.get(name)
        if table is None:
            problems.append(f"{name}: on the connection after stage {stage}, declared nowhere")
        elif table.stage not in done:
            problems.append(f"{name}: declared for stage {table.stage}, there after {stage}")
        elif table.columns is not None and table.columns != set(columns):
            extra = sorted(set(columns) - table.columns)
            missing = sorted(table.columns - set(columns))
            problems.append(f"{name}: undeclared columns {extra}, declared but absent {missing}")
    return problems


def check_stage(con, stage: str) -> None:
    """At the end of `stage`: every table on the connection is declared, by this stage
    or an earlier one, with its declared columns (when CHECK_ENV is set)."""
    if not os.environ.get(CHECK_ENV):
        return
    present = {name: tuple(columns) for name, columns in con.execute(COLUMNS_SQL).fetchall()}
    problems = contract_problems(present, stage)
    if problems:
        raise StageContractBroken(f"after stage {stage}: " + "; ".join(problems))
