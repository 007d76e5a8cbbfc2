"""The stage contracts: every DuckDB table a stage hands on, declared once.

Stages pass data to each other as named tables on one connection. Each is declared
once: its name, the stage that writes it and its columns, with what it holds. A table
a SQL file writes is declared in that file's header, where its query is (lines read
by `sql_declarations`):

    -- Stage aggregate writes (...):
    --   activity_cube: the counted cube with labels, for every table
    --     region_code provider_code modality ...

the tables written from Python are declared below (`WRITTEN_IN_PYTHON`).
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
import re
from dataclasses import dataclass

from publish.errors import StageContractBroken
from publish.resources import resource_dir

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


# The tables written from Python (the SQL files declare their own: `sql_declarations`).
WRITTEN_IN_PYTHON: tuple[StageTable, ...] = (
    StageTable(
        "cube_records",
        "ingest",
        "*",
        "a view: the records cube.sql counts, re-pointed at each use (the files just "
        "derived; at resolve, the superseded records): any columns",
    ),
    StageTable(
        "file_cube",
        "ingest",
        "file_id region_code provider_code modality source_setting_code cancer_test_group interventional test_month n n_request_to_test_known n_days_0_to_7 n_days_8_to_31 n_days_32_to_62 n_days_over_62 n_report_time_known n_reported_same_day n_reported_by_next_day n_reported_by_7_days n_reported_by_14_days n_reported_over_28_days",
        "each file's counts (cube.sql), as the record store keeps them",
    ),
    StageTable(
        "file_waits",
        "ingest",
        "file_id wait region_code provider_code modality cancer_test_group gp_direct_access interventional test_month days n",
        "each file's records per day of wait (cube.sql), as the store keeps them",
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
        "practices",
        "ingest",
        "practice_code sub_icb_code sub_icb_name icb_code icb_name region_code valid_from valid_to",
        "reference GP practices: sub-ICB location by date (publish.reference)",
    ),
    StageTable(
        "file_commissioner_cube",
        "ingest",
        "file_id sub_icb_code modality cancer_test_group gp_direct_access test_month wait measure n",
        "each file's records by commissioner in day bands (cube.sql), as the store keeps them",
    ),
    StageTable(
        "sites",
        "ingest",
        "site_code provider_code provider_name region_code region_name icb_code icb_name "
        "network_name valid_from valid_to first_period",
        "reference sites (publish.reference)",
    ),
    StageTable(
        "stored_file_keys",
        "resolve",
        "file_id cache_key",
        "each file's key in the record store (publish.store.record_store)",
    ),
    StageTable(
        "superseded_cube",
        "resolve",
        "file_id region_code provider_code modality source_setting_code cancer_test_group interventional test_month n n_request_to_test_known n_days_0_to_7 n_days_8_to_31 n_days_32_to_62 n_days_over_62 n_report_time_known n_reported_same_day n_reported_by_next_day n_reported_by_7_days n_reported_by_14_days n_reported_over_28_days",
        "the superseded records' share of the cube (queries/validate/counted.sql)",
    ),
    StageTable(
        "superseded_commissioner_cube",
        "resolve",
        "file_id sub_icb_code modality cancer_test_group gp_direct_access test_month wait measure n",
        "the superseded records' share by commissioner (queries/validate/counted.sql)",
    ),
    StageTable(
        "superseded_waits",
        "resolve",
        "file_id wait region_code provider_code modality cancer_test_group gp_direct_access interventional test_month days n",
        "the superseded records' share of the waits (queries/validate/counted.sql)",
    ),
    StageTable(
        "quarter_months",
        "aggregate",
        "test_month period",
        "each month's quarter, as a period (publish.aggregate.cells: table 13)",
    ),
    StageTable(
        "table_period_months",
        "aggregate",
        "*",
        "a view: the current table's months of each period (publish.aggregate.cells)",
    ),
    StageTable(
        "table_commissioner_counts",
        "aggregate",
        "row_label source_setting region_code commissioner_code measure n",
        "the current commissioner table's source block (queries/aggregate/table_sources.sql)",
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
        "measure numerator denominator cases",
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
)

# A SQL file's declaration: a stage line, then each table (name: what it holds) with its
# columns on the lines below it, indented further.
SQL_STAGE_LINE = re.compile(r"^-- Stage (\w+) writes")
SQL_TABLE_LINE = re.compile(r"^--   (\w+): (.+)$")
SQL_COLUMNS_LINE = re.compile(r"^--     (\S.*)$")


def parse_sql_declarations(text: str, file_name: str) -> tuple[StageTable, ...]:
    """The tables one SQL file's header says it writes."""
    found: list[list[str]] = []  # [name, stage, columns, holds]
    stage = None
    for line in text.splitlines():
        if stage is None:
            if match := SQL_STAGE_LINE.match(line):
                stage = match[1]
        elif match := SQL_TABLE_LINE.match(line):
            found.append([match[1], stage, "", f"{match[2]} (queries/{file_name})"])
        elif (match := SQL_COLUMNS_LINE.match(line)) and found:
            found[-1][2] = f"{found[-1][2]} {match[1]}".strip()
        else:
            break
    return tuple(StageTable(name, stage, columns, holds) for name, stage, columns, holds in found)


SQL_CREATES = re.compile(
    r"^CREATE (?:OR REPLACE )?(?:TEMP |TEMPORARY )?(?:TABLE|VIEW) (\w+)", re.I | re.M
)


def sql_writes_undeclared(text: str, file_name: str) -> list[str]:
    """What a SQL file creates without declaring it in its header, or declares without
    creating (a test runs it on every file of `queries/`)."""
    created = set(SQL_CREATES.findall(text))
    declared = {table.name for table in parse_sql_declarations(text, file_name)}
    return [f"{file_name}: creates {name}, not declared" for name in sorted(created - declared)] + [
        f"{file_name}: declares {name}, never creates it" for name in sorted(declared - created)
    ]


def sql_declarations() -> tuple[StageTable, ...]:
    """The tables every file of `queries/` declares it writes, file by file."""
    root = resource_dir("queries")
    return tuple(
        table
        for path in sorted(root.rglob("*.sql"))
        for table in parse_sql_declarations(
            path.read_text(encoding="utf-8"), path.relative_to(root).as_posix()
        )
    )


DECLARED: tuple[StageTable, ...] = WRITTEN_IN_PYTHON + sql_declarations()


# The record store's kinds (publish.store.record_store.STORED_TABLES): each has its schema and its
# batch keys beside it.
STORED = (
    "derived_records",
    "file_cube",
    "file_waits",
    "file_commissioner_cube",
    "record_outcomes",
    "flagged_records",
)
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
