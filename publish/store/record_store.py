"""The record store: each file's derived records kept, so a month costs a month.

A monthly build reads the whole financial year of submissions, yet only the new
month's files have changed. Every file is therefore parsed, validated and derived once,
and what the later stages need of it is kept as Parquet under a key made of everything
that work depends on: the file's bytes, its submission date, the reference data and the
tool and DuckDB versions. A build reads a file's share back instead of reading the file again; any
change to one of those inputs gives a new key, so a stale result is never reused.

With `--store DIR` the store lasts from build to build; without it the build keeps one
in a temporary folder beside its output for its own run. Either way new files go
through ingest, validation and derivation in batches of bounded size and the build
then reads every file's share from the store, so memory does not grow with the year.

Per batch of files ingested together, one `<kind>/<batch>.parquet` of each kind, its
rows tagged with each file's key (from the tables of `queries/derive/derive.sql` and
`queries/derive/cube.sql`): `derived` (accepted records with the fields the tables need:
compact, read by column, only the key hash column by a normal build), `cube` and
`waits` (the file's share of every table: counts, and counts per day of wait),
`outcomes` (counts of records by provider, month and rule codes), `flagged` (records
that broke a rule, as received, for the restricted folder); and `files/<key>.json`
(what became of the file at ingest, and its batch). The build's own store (without
`--store`) keeps those records in memory instead: it is gone after the build, and
deleting thousands of small files from a disk that discards freed blocks at once took
8 s for the demo's 2,317. The store holds record-level data (accession
numbers, the raw fields of every record that broke a rule): keep it where the
restricted folder is kept.
"""

import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from publish import __version__
from publish.db import quote_literal, run
from publish.folders import make_private, private_folder
from publish.ingest.load import (
    HASHING_THREADS,
    InputError,
    InputFile,
    create_input_files_table,
    list_input_files,
    sha256_of,
)
from publish.resources import query_block

log = logging.getLogger("did_publish")

STORED_FILE_FIELDS = ("status", "rule_code", "message", "records_received", "problems")
# Per-file tables kept in the store: store folder name -> table of derive.sql.
STORED_TABLES = {
    "derived": "derived_records",
    "cube": "file_cube",
    "waits": "file_waits",
    "commissioners": "file_commissioner_cube",
    "outcomes": "record_outcomes",
    "flagged": "flagged_records",
}
# What counts for a resolved set of files (counted.sql), kept with its resolution.
COUNTED_TABLES = ("counted_cube", "counted_waits", "counted_commissioner_cube")


@dataclass(frozen=True)
class RecordStore:
    folder: Path
    reference_digest: str  # sha256 of the reference data the records were validated with
    batch_of: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    # Batches whose stored files were checked this build: name -> intact or not.
    checked_batches: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)
    # The build's own store, gone after it: each file's record (its JSON) kept in
    # `memory_records` by key rather than as `files/<key>.json`.
    records_in_memory: bool = False
    memory_records: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        private_folder(self.folder)

    def key(self, input_file: InputFile) -> str:
        parts = [
            input_file.sha256,
            input_file.submission_date.isoformat() if input_file.submission_date else "",
            # Without a submission date, DIDS051 and DIDS066 compare with the build date.
            ""
            if input_file.submission_date or not input_file.build_date
            else f"built {input_file.build_date.isoformat()}",
            input_file.member or "",  # members of one zip share its checksum
            self.reference_digest,
            __version__,
            duckdb.__version__,  # the stored key hashes are DuckDB's hash()
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]

    def file_record(self, input_file: InputFile) -> Path:
        return self.folder / "files" / f"{self.key(input_file)}.json"

    def record_text(self, input_file: InputFile) -> str:
        """The file's record as written (JSON)."""
        if self.records_in_memory:
            return self.memory_records[self.key(input_file)]
        return self.file_record(input_file).read_text(encoding="utf-8")

    def split(self, files: list[InputFile]) -> tuple[list[InputFile], list[InputFile]]:
        """(files already in the store, files to ingest and validate).

        A file is in the store when its record is there and every stored file its share
        is read from is as written (SHA-256 checked); a damaged or missing one is named,
        and the files of its batch are read again."""
        batch_of_file = {f.file_id: self.stored_batch(f) for f in files}
        batches = sorted(set(batch_of_file.values()) - {None} - set(self.checked_batches))
        # The stored files of every batch checked at once, on every core (hashlib lets go
        # of Python's lock): a national year's store is about 1 GB.
        with ThreadPoolExecutor(HASHING_THREADS) as pool:
            for batch, intact in zip(batches, pool.map(self.batch_intact, batches), strict=True):
                self.checked_batches[batch] = intact
        stored = [f for f in files if self.checked_batches.get(batch_of_file[f.file_id], False)]
        stored_ids = {f.file_id for f in stored}
        return stored, [f for f in files if f.file_id not in stored_ids]

    def stored_batch(self, input_file: InputFile) -> str | None:
        """The batch the store keeps the file's share in, if its record is there and
        reads back as written."""
        if self.records_in_memory:
            text = self.memory_records.get(self.key(input_file))
            return None if text is None else json.loads(text)["batch"]
        record_path = self.file_record(input_file)
        if not record_path.exists():
            return None
        record = record_intact(record_path)
        return None if record is None else record["batch"]

    def batch_intact(self, batch: str) -> bool:
        paths = [self.folder / kind / f"{batch}.parquet" for kind in STORED_TABLES]
        return all(verified(path) for path in paths)

    def save(self, con: duckdb.DuckDBPyConnection, files: list[InputFile]) -> None:
        """Keep the share of the files of a batch just derived: one Parquet file per kind
        for the batch (a build reads tens of files, not thousands), rows by file key."""
        if not files:
            return
        first_of_key: dict[str, InputFile] = {}
        for input_file in files:  # the same bytes twice: one copy of the rows
            first_of_key.setdefault(self.key(input_file), input_file)
        batch = set_digest(sorted(first_of_key))
        (self.folder / "files").mkdir(parents=True, exist_ok=True)
        con.register("file_keys", self.keys_frame(list(first_of_key.values())))
        try:
            for kind, table in STORED_TABLES.items():
                (self.folder / kind).mkdir(exist_ok=True)
                path = self.folder / kind / f"{batch}.parquet"
                run(
                    con,
                    f"COPY (SELECT k.cache_key, t.* EXCLUDE (file_id) FROM {table} AS t "
                    "JOIN file_keys AS k USING (file_id)) TO $path (FORMAT parquet)",
                    {"path": path.as_posix()},
                )
                seal(path)
        finally:
            con.unregister("file_keys")
        for input_file in files:  # last: a file counts as stored once its records are
            record = {name: getattr(input_file, name) for name in STORED_FILE_FIELDS}
            record["malformed_records"] = input_file.malformed_records
            record["batch"] = batch
            record["sha256"] = record_digest(record)  # checked when read (record_intact)
            if self.records_in_memory:
                self.memory_records[self.key(input_file)] = json.dumps(record)
            else:
                self.file_record(input_file).write_text(json.dumps(record), encoding="utf-8")
        make_private(self.folder)

    def counted(
        self, con: duckdb.DuckDBPyConnection, files: list[InputFile], new_ids: set[int]
    ) -> None:
        """The counted records of these files, as `counted_cube` and `counted_waits`:
        every file's stored share read back (`new_ids`: the files this build saved), the
        resubmissions resolved, and what counts read from the store when this set of files
        was counted before, else counted and kept. The pipeline's one call."""
        from publish.validate.rules import count_what_counts

        self.load(con, files, new_ids)
        self.resolve(con, files)
        if not self.read_counted(con, files):
            count_what_counts(con)
            self.save_counted(con, files)

    def load(self, con: duckdb.DuckDBPyConnection, files: list[InputFile], new_ids: set[int]):
        """Make this build's tables from the store: every file's share, under its file id.

        `input_files` lists every file; each kind is a view over the Parquet files,
        read by column when (and only if) a query needs it.
        """
        self.batch_of.clear()
        for input_file in files:
            record = json.loads(self.record_text(input_file))
            self.batch_of[self.key(input_file)] = record["batch"]
            if input_file.file_id in new_ids:
                continue
            for name in STORED_FILE_FIELDS:
                setattr(input_file, name, record[name])
            input_file.from_store = True
            input_file.malformed_records = [
                (row_number, fields) for row_number, fields in record["malformed_records"]
            ]
        create_input_files_table(con)
        list_input_files(con, files)
        run(
            con,
            "CREATE OR REPLACE TABLE stored_file_keys "
            "(file_id INTEGER NOT NULL, cache_key VARCHAR NOT NULL)",
        )
        keys = self.keys_frame(files)
        con.register("file_keys", keys)
        try:
            run(con, "INSERT INTO stored_file_keys SELECT file_id, cache_key FROM file_keys")
        finally:
            con.unregister("file_keys")
        for kind, table in STORED_TABLES.items():
            run(con, f"DROP TABLE IF EXISTS {table}")  # the last batch's, now in the store
            self.read_kind(con, kind, list(keys["cache_key"]), table, "VIEW")

    def read_kind(
        self, con: duckdb.DuckDBPyConnection, kind: str, keys: list[str], name: str, make: str
    ) -> None:
        """A view or table `name` of the given files' rows of one kind, with file ids.

        Each file's rows are read from its own batch only: a file read again (its
        stored share was damaged) has rows in an earlier batch too, not counted twice.
        """
        chosen = sorted(set(keys))
        batch_files = [
            (self.folder / kind / f"{self.batch_of[key]}.parquet").as_posix() for key in chosen
        ]
        run(
            con,
            f"CREATE OR REPLACE TABLE {name}_file_keys AS "
            "SELECT k.*, b.batch_file FROM stored_file_keys AS k "
            "JOIN (SELECT unnest($keys) AS cache_key, unnest($files) AS batch_file) AS b "
            "USING (cache_key)",
            {"keys": chosen, "files": batch_files},
        )
        if not chosen:
            run(con, f"CREATE OR REPLACE {make} {name} AS FROM {STORED_TABLES[kind]}_empty")
            return
        listed = ", ".join(quote_literal(path) for path in sorted(set(batch_files)))
        run(
            con,
            f"""
            CREATE OR REPLACE {make} {name} AS
            SELECT k.file_id, s.* EXCLUDE (cache_key, filename)
            FROM read_parquet([{listed}], filename = true) AS s
            JOIN {name}_file_keys AS k
              ON k.cache_key = s.cache_key AND k.batch_file = s.filename
            """,
        )

    def resolve(self, con: duckdb.DuckDBPyConnection, files: list[InputFile]) -> None:
        """`superseded_records` of this build's files, doing as little as the store allows.

        Resolving resubmissions is the one step that reads every file's records (the key
        hash column). Its result is kept under the set of files resolved: the same set
        again (a rebuild) reads it back; a set that adds files to one resolved before
        (the next month) probes only the earlier files' key hashes against the added
        files'. Anything else resolves from scratch. (The keys name files by content, so
        a build given the same file twice resolves from scratch and keeps nothing.)
        """
        keys = sorted({self.key(f) for f in files})
        resolved = self.folder / "resolved"
        digest = self.set_name(files)
        exact = [resolved / f"{digest}.{suffix}" for suffix in ("json", "superseded.parquet")]
        if digest is not None and exact[0].exists() and all(verified(path) for path in exact):
            run(
                con,
                """
                CREATE OR REPLACE TABLE superseded_records AS
                SELECT k.file_id, s.* EXCLUDE (cache_key)
                FROM read_parquet($path) AS s
                JOIN stored_file_keys AS k ON k.cache_key = s.cache_key
                """,
                {"path": (resolved / f"{digest}.superseded.parquet").as_posix()},
            )
            return
        earlier = self.largest_resolved_subset(set(keys)) if digest is not None else None
        if earlier is None:
            run(con, query_block("validate/resolve", "repeated_hashes"))
        else:
            earlier_keys = set(json.loads((resolved / f"{earlier}.json").read_text()))
            self.read_kind(con, "derived", sorted(earlier_keys), "derived_earlier", "VIEW")
            added = [key for key in keys if key not in earlier_keys]
            self.read_kind(con, "derived", added, "derived_added", "VIEW")
            run(
                con,
                "CREATE OR REPLACE TABLE earlier_repeated_hashes AS "
                "SELECT key_hash FROM read_parquet($path)",
                {"path": (resolved / f"{earlier}.repeated.parquet").as_posix()},
            )
            run(con, query_block("validate/resolve", "repeated_hashes_added"))
        run(con, query_block("validate/resolve", "superseded_records"))
        if digest is None:
            return
        resolved.mkdir(parents=True, exist_ok=True)
        run(
            con,
            "COPY (SELECT key_hash FROM repeated_hashes ORDER BY key_hash) "
            "TO $path (FORMAT parquet)",
            {"path": (resolved / f"{digest}.repeated.parquet").as_posix()},
        )
        seal(resolved / f"{digest}.repeated.parquet")
        run(
            con,
            "COPY (SELECT k.cache_key, s.* EXCLUDE (file_id) FROM superseded_records AS s "
            "JOIN stored_file_keys AS k ON k.file_id = s.file_id "
            "ORDER BY k.cache_key, s.row_number) TO $path (FORMAT parquet)",
            {"path": (resolved / f"{digest}.superseded.parquet").as_posix()},
        )
        seal(resolved / f"{digest}.superseded.parquet")
        (resolved / f"{digest}.json").write_text(json.dumps(keys), encoding="utf-8")  # last
        seal(resolved / f"{digest}.json")
        make_private(resolved)

    def set_name(self, files: list[InputFile]) -> str | None:
        """The name results for exactly this set of files are kept under, if it has one.

        Keys name files by content, so a build given the same file twice has none: one
        key would stand for two file ids.
        """
        keys = sorted({self.key(f) for f in files})
        return set_digest(keys) if len(keys) == len(files) else None

    def resolved_path(self, files: list[InputFile], suffix: str) -> Path | None:
        """Where the store keeps a result for exactly this set of files, if it can."""
        name = self.set_name(files)
        return None if name is None else self.folder / "resolved" / f"{name}.{suffix}"

    def read_counted(self, con: duckdb.DuckDBPyConnection, files: list[InputFile]) -> bool:
        """`counted_cube` and `counted_waits` of this set of files, if kept: a rebuild of
        the same files (another policy, a re-render) reads them back."""
        paths = [self.resolved_path(files, f"{table}.parquet") for table in COUNTED_TABLES]
        if not all(path is not None and path.exists() for path in paths):
            return False
        if not all(verified(path) for path in paths):
            return False
        for table, path in zip(COUNTED_TABLES, paths, strict=True):
            run(
                con,
                f"CREATE OR REPLACE TABLE {table} AS FROM read_parquet($path)",
                {"path": path.as_posix()},
            )
        return True

    def save_counted(self, con: duckdb.DuckDBPyConnection, files: list[InputFile]) -> None:
        for table in COUNTED_TABLES:
            path = self.resolved_path(files, f"{table}.parquet")
            if path is not None and path.parent.exists():
                partial = path.with_name(f".{path.name}.partial")  # whole, or not there
                run(con, f"COPY {table} TO $path (FORMAT parquet)", {"path": partial.as_posix()})
                partial.replace(path)
                seal(path)
        make_private(self.folder / "resolved")

    def largest_resolved_subset(self, keys: set[str]) -> str | None:
        """The digest of the largest file set resolved before that `keys` contains."""
        best, best_size = None, 0
        for path in sorted((self.folder / "resolved").glob("*.json")):
            if path.name.endswith(".sha256.json"):
                continue
            repeated = path.with_name(f"{path.stem}.repeated.parquet")
            if not (verified(path) and verified(repeated)):
                continue
            earlier = json.loads(path.read_text(encoding="utf-8"))
            if best_size < len(earlier) and set(earlier) <= keys:
                best, best_size = path.stem, len(earlier)
        return best

    def keys_frame(self, files: list[InputFile]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "file_id": [f.file_id for f in files],
                "cache_key": [self.key(f) for f in files],
            },
            schema={"file_id": pl.Int32, "cache_key": pl.Utf8},
        )


def record_digest(record: dict) -> str:
    """The SHA-256 of a file's record, its own `sha256` aside: kept inside the record,
    so a store of thousands of files does not need thousands of seal files."""
    content = {key: value for key, value in record.items() if key != "sha256"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def record_intact(path: Path) -> dict | None:
    """A file's record, if it reads back as written; else None, and it is named."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        record = None
    if not isinstance(record, dict) or record.get("sha256") != record_digest(record):
        log.warning(
            "record store: %s has changed since it was written; its file is read again", path
        )
        return None
    return record


def seal_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.sha256")


def seal(path: Path) -> None:
    """Keep the SHA-256 of a file just written to the store, beside it."""
    seal_path(path).write_text(sha256_of(path) + "\n", encoding="utf-8")


def verified(path: Path) -> bool:
    """The stored file is there and its bytes are those written; if not, it is named
    (the build reads what it needs again, so the figures are never from a damaged file)."""
    seal_file = seal_path(path)
    if not path.exists():
        log.warning("record store: %s is missing; what it held is made again", path)
        return False
    expected = seal_file.read_text(encoding="utf-8").strip() if seal_file.exists() else None
    if expected != sha256_of(path):
        log.warning(
            "record store: %s has changed since it was written (its SHA-256 differs); "
            "what it held is made again",
            path,
        )
        return False
    return True


def set_digest(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]


def reference_digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class PruneResult:
    """What `prune_store` kept and removed, in files and bytes."""

    kept_inputs: int  # input files of --keep that the store holds
    missing_inputs: int  # input files of --keep the store does not hold (nothing to keep)
    removed_files: int
    bytes_before: int
    bytes_after: int


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def prune_store(store: RecordStore, keep: list[InputFile]) -> PruneResult:
    """Remove from the store everything a build of `keep` (or of a subset of it) does
    not read: other files' records and rows, and results kept for sets of files that are
    not within `keep`.

    A batch holding kept and other files' rows is written again with the kept files'
    rows only (a new batch, sealed, before the kept records point to it); a batch that
    fails its SHA-256 check is not copied, and its kept files are dropped too (a build
    reads them again, as it would anyway)."""
    folder = store.folder
    before = folder_bytes(folder)
    keys = {store.key(f) for f in keep}
    records_dir = folder / "files"
    records: dict[str, dict] = {}
    doomed: list[Path] = []
    for path in sorted(records_dir.glob("*.json")):
        record = record_intact(path) if path.stem in keys else None
        if record is None:
            doomed.append(path)
        else:
            records[path.stem] = record
    if keys and not records:  # other submission dates or reference data, most likely
        raise InputError(
            f"{folder}: none of the {len(keys)} file(s) given is in the record store as "
            "given (same bytes, submission date and reference data); nothing removed"
        )
    batch_keys: dict[str, set[str]] = {}  # every intact record's batch, kept or not
    for path in sorted(records_dir.glob("*.json")):
        record = records.get(path.stem) or record_intact_quietly(path)
        if record is not None:
            batch_keys.setdefault(record["batch"], set()).add(path.stem)
    kept_batches = {record["batch"] for record in records.values()}
    con = duckdb.connect()
    try:
        for batch in sorted(kept_batches):
            kept = sorted(key for key, r in records.items() if r["batch"] == batch)
            if set(kept) == batch_keys.get(batch, set()):
                continue  # only kept files in it: kept as it is
            paths = [folder / kind / f"{batch}.parquet" for kind in STORED_TABLES]
            if not all(verified(path) for path in paths):
                doomed += [records_dir / f"{key}.json" for key in kept]
                for key in kept:
                    del records[key]
                continue
            new_batch = set_digest(kept)
            for kind in STORED_TABLES:
                target = folder / kind / f"{new_batch}.parquet"
                run(
                    con,
                    "COPY (SELECT * FROM read_parquet($source) WHERE cache_key IN "
                    "(SELECT unnest($keys))) TO $target (FORMAT parquet)",
                    {
                        "source": (folder / kind / f"{batch}.parquet").as_posix(),
                        "keys": kept,
                        "target": target.as_posix(),
                    },
                )
                seal(target)
            for key in kept:
                record = {k: v for k, v in records[key].items() if k != "sha256"}
                record["batch"] = new_batch
                record["sha256"] = record_digest(record)
                (records_dir / f"{key}.json").write_text(json.dumps(record), encoding="utf-8")
                records[key] = record
    finally:
        con.close()
    in_use = {record["batch"] for record in records.values()}
    for kind in STORED_TABLES:
        for path in sorted((folder / kind).glob("*.parquet")):
            if path.name.removesuffix(".parquet") not in in_use:
                doomed += [path, seal_path(path)]
    resolved = folder / "resolved"
    for path in sorted(resolved.glob("*.json")):
        try:
            resolved_keys = set(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            resolved_keys = None  # unreadable: of no use to a build
        if resolved_keys is None or not resolved_keys <= set(records):
            doomed += sorted(resolved.glob(f"{path.stem}.*"))
    removed = 0
    for path in dict.fromkeys(doomed):
        if path.exists():
            path.unlink()
            removed += 1
    make_private(folder)
    return PruneResult(
        kept_inputs=len(records),
        missing_inputs=len(keys - set(records)),
        removed_files=removed,
        bytes_before=before,
        bytes_after=folder_bytes(folder),
    )


def record_intact_quietly(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) and "batch" in record else None
