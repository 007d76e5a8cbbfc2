"""The build configuration: one typed object, built once and passed down.

Values come from, in order of precedence: the command line, a TOML file given with
`--config`, and the defaults below. The config is recorded in the manifest, so a
publication says exactly how it was made.
"""

import re
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from pathlib import Path

from publish.engines import check_engine
from publish.ingest import InputError
from publish.protect import POLICY_NAMES
from publish.reference import DEFAULT_IMAGING_CODES, DEFAULT_SITES

STATUSES = ("provisional", "final")


@dataclass(frozen=True)
class BuildConfig:
    inputs: tuple[Path, ...] = ()
    period: str | None = None  # latest month published, YYYY-MM; default: latest in data
    status: str = "provisional"
    policy: str = "did"
    k: int = 10  # strict policy threshold
    # strict only; false publishes primary suppression alone, NOT protected (for
    # testing the audit and attackers): the audit still runs, fails, and is reported
    secondary_suppression: bool = True
    sites: Path = DEFAULT_SITES
    imaging_codes: Path = DEFAULT_IMAGING_CODES
    submissions: Path | None = None
    submission_date: date | None = None
    out_dir: Path = Path("output")
    publication_text: Path | None = None  # cover and contact text (TOML); shipped default
    published_on: date | None = None
    memory_limit: str = "3GB"  # DuckDB's limit; the process peaks about 1 GB above it
    store: Path | None = None  # record store folder (record-level data: keep it restricted)
    engine: str = "duckdb"  # where the SQL runs: duckdb, or spark (docs/spark.md)
    spark_master: str | None = None  # default: the active SparkSession, else local[*]
    spark_table: str | None = None  # Spark table of submission records, instead of files
    spark_conf: dict = field(default_factory=dict)  # more Spark settings, by name
    extra: dict = field(default_factory=dict)

    def check(self) -> "BuildConfig":
        if self.period is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", self.period):
            raise InputError(f"--period {self.period!r}: expected YYYY-MM")
        if self.status not in STATUSES:
            raise InputError(f"--status {self.status!r}: choose provisional or final")
        if self.policy not in POLICY_NAMES:
            raise InputError(f"--policy {self.policy!r}: choose one of {', '.join(POLICY_NAMES)}")
        if self.submissions is not None and self.submission_date is not None:
            raise InputError("give --submissions or --submission-date, not both")
        check_engine(self.engine)
        if self.engine != "spark" and (self.spark_master or self.spark_table or self.spark_conf):
            raise InputError("--spark-master, spark_table and spark_conf need --engine spark")
        if self.engine == "spark" and self.store is not None:
            raise InputError("--store works with the DuckDB engine only")
        if not isinstance(self.secondary_suppression, bool):
            raise InputError(
                f"secondary_suppression = {self.secondary_suppression!r}: expected true or false"
            )
        if not self.secondary_suppression and self.policy != "strict":
            raise InputError("secondary_suppression = false applies to --policy strict only")
        if self.k < 2:
            raise InputError(f"k = {self.k}: the strict threshold must be at least 2")
        return self

    def for_manifest(self) -> dict:
        """The config as plain JSON values; paths of reference data by name only."""
        values = asdict(self)
        values["inputs"] = [Path(p).name for p in self.inputs]
        for key in ("sites", "imaging_codes", "submissions", "publication_text", "store"):
            values[key] = Path(values[key]).name if values[key] else None
        values.pop("out_dir")
        for key, value in values.items():
            if isinstance(value, date):
                values[key] = value.isoformat()
        return values


PATH_KEYS = {"sites", "imaging_codes", "submissions", "out_dir", "publication_text", "store"}
DATE_KEYS = {"submission_date", "published_on"}


def load_config(path: Path | None, overrides: dict) -> BuildConfig:
    """Defaults, then the TOML file (relative paths from its folder), then the overrides."""
    values: dict = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{path}: no such config file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise InputError(f"{path}: not a valid TOML file ({error})") from None
        data = data.get("build", data)
        known = {f.name for f in fields(BuildConfig)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"{path}: unknown setting(s) {', '.join(unknown)}")
        for key, value in data.items():
            if key in PATH_KEYS:
                value = (path.parent / value).resolve()
            elif key in DATE_KEYS:
                value = value if isinstance(value, date) else date.fromisoformat(str(value))
            elif key == "inputs":
                value = tuple((path.parent / v).resolve() for v in value)
            values[key] = value
    values |= {key: value for key, value in overrides.items() if value is not None}
    return replace(BuildConfig(), **values).check()
