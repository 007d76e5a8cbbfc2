"""The record store: validated records kept between builds, so a month costs a month.

A monthly build re-reads the whole financial year of submissions, yet only the new
month's files have changed. With `--store DIR`, each file's validated records are kept
as Parquet under a key made of everything its validation depends on: the file's bytes,
its submission date, the reference data and the tool version. A later build reads a
file's records back from the store instead of parsing and validating it again; any
change to one of those inputs gives a new key, so a stale result is never reused.

The store holds record-level data (accession numbers, dates of birth, the raw fields
of every record that broke a rule): keep it where the restricted folder is kept.

Layout: `checked/cache_key=<key>/*.parquet` (typed records with their rule codes),
`flagged/cache_key=<key>/*.parquet` (records that broke a rule, as received, for the
quarantine) and `files/<key>.json` (what became of the file at ingest).
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from publish import __version__
from publish.db import rows, run
from publish.ingest import InputFile

STORED_FILE_FIELDS = ("status", "rule_code", "message", "records_received", "problems")


@dataclass(frozen=True)
class RecordStore:
    folder: Path
    reference_digest: str  # sha256 of the reference data the records were validated with

    def key(self, input_file: InputFile) -> str:
        parts = [
            input_file.sha256,
            input_file.submission_date.isoformat() if input_file.submission_date else "",
            self.reference_digest,
            __version__,
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]

    def split(self, files: list[InputFile]) -> tuple[list[InputFile], list[InputFile]]:
        """(files already in the store, files to ingest and validate)."""
        stored = [f for f in files if (self.folder / "files" / f"{self.key(f)}.json").exists()]
        stored_ids = {f.file_id for f in stored}
        return stored, [f for f in files if f.file_id not in stored_ids]

    def save(self, con: duckdb.DuckDBPyConnection, files: list[InputFile]) -> None:
        """Keep the newly validated files' records (after validation, before derivation)."""
        if not files:
            return
        (self.folder / "files").mkdir(parents=True, exist_ok=True)
        con.register("file_keys", self.keys_frame(files))
        try:
            for kind, select in (
                (
                    "checked",
                    "SELECT k.cache_key, c.* EXCLUDE (file_id, file_order) "
                    "FROM checked_records AS c JOIN file_keys AS k USING (file_id)",
                ),
                (
                    "flagged",
                    "SELECT k.cache_key, r.* EXCLUDE (file_id) "
                    "FROM submission_records AS r JOIN file_keys AS k USING (file_id) "
                    "JOIN checked_records AS c USING (file_id, row_number) "
                    "WHERE len(c.rejection_codes) > 0 OR len(c.warning_codes) > 0",
                ),
            ):
                run(
                    con,
                    f"COPY ({select}) TO '{self.folder / kind}' "
                    "(FORMAT parquet, PARTITION_BY (cache_key), APPEND true)",
                )
        finally:
            con.unregister("file_keys")
        for input_file in files:  # last: a file counts as stored once its records are
            record = {name: getattr(input_file, name) for name in STORED_FILE_FIELDS}
            record["malformed_records"] = input_file.malformed_records
            path = self.folder / "files" / f"{self.key(input_file)}.json"
            path.write_text(json.dumps(record), encoding="utf-8")

    def load(self, con: duckdb.DuckDBPyConnection, files: list[InputFile]) -> None:
        """Add stored files' records to this build's tables, under this build's file ids."""
        for input_file in files:
            path = self.folder / "files" / f"{self.key(input_file)}.json"
            record = json.loads(path.read_text(encoding="utf-8"))
            for name in STORED_FILE_FIELDS:
                setattr(input_file, name, record[name])
            input_file.from_store = True
            input_file.malformed_records = [
                (row_number, fields) for row_number, fields in record["malformed_records"]
            ]
        if not files:
            return
        con.executemany(
            "INSERT INTO input_files VALUES (?, ?, ?, ?)",
            [(f.file_id, f.name, f.submission_date, f.file_order) for f in files],
        )
        con.register("stored_keys", self.keys_frame(files))
        try:
            for kind, table in (("checked", "checked_records"), ("flagged", "submission_records")):
                if not any((self.folder / kind).glob("cache_key=*")):
                    continue
                columns = [
                    name for (name,) in rows(con, f"SELECT name FROM pragma_table_info('{table}')")
                ]
                rest = [c for c in columns if c not in ("file_id", "row_number", "file_order")]
                leading = [c for c in columns if c in ("file_id", "row_number", "file_order")]
                selected = ", ".join(
                    [f"k.{c}" if c != "row_number" else "s.row_number" for c in leading]
                    + [f's."{c}"' for c in rest]
                )
                run(
                    con,
                    f"""
                    INSERT INTO {table} ({", ".join(f'"{c}"' for c in leading + rest)})
                    SELECT {selected}
                    FROM read_parquet('{self.folder / kind}/*/*.parquet',
                                      hive_partitioning = true) AS s
                    JOIN stored_keys AS k USING (cache_key)
                    """,
                )
        finally:
            con.unregister("stored_keys")

    def keys_frame(self, files: list[InputFile]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "file_id": [f.file_id for f in files],
                "file_order": [f.file_order for f in files],
                "cache_key": [self.key(f) for f in files],
            },
            schema={"file_id": pl.Int32, "file_order": pl.Int32, "cache_key": pl.Utf8},
        )


def reference_digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()
