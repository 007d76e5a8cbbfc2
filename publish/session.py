"""A build's session: its connection and private work folder, its folders locked.

Opened once per build or validation (`publish.pipeline`): the output folder and the
record store are locked for the whole build, what killed builds left there is removed
first, and the work folder (DuckDB's spill files, the build's own record store without
`--store`) is beside the restricted folder and as private as it, gone after.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from publish.config import BuildConfig
from publish.engines.engine import engine_for
from publish.folders import locked, private_folder, remove_stale_folders


@contextmanager
def build_session(config: BuildConfig) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """A connection and a private working folder beside the output, both gone after.

    The folder holds DuckDB's spill files and, without `--store`, the build's own record
    store: record-level data stays beside the restricted folder (0700, like it), never
    in the current directory or a shared temporary one. The build holds the lock of its
    `--out` and `--store` folders throughout, and first removes what builds that were
    killed left there.
    """
    config.out_dir.mkdir(parents=True, exist_ok=True)
    with locked(config.out_dir, "output folder"), store_lock(config):
        remove_stale_folders(config.out_dir)
        prefix = f".did-work-{os.getpid()}-"
        with tempfile.TemporaryDirectory(prefix=prefix, dir=config.out_dir) as folder:
            work_dir = private_folder(Path(folder))
            con = engine_for(config).connect(config, work_dir)
            try:
                yield con, work_dir
            finally:
                con.close()


@contextmanager
def store_lock(config: BuildConfig) -> Iterator[None]:
    if config.store is None:
        yield
        return
    private_folder(config.store)
    with locked(config.store, "record store"):
        yield
