"""The build configuration: one typed object, built once and passed down.

Values come from, in order of precedence: the command line, a TOML file given with
`--config`, and the defaults below. The config is recorded in the manifest, so a
publication says exactly how it was made.
"""

import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    field_validator,
)

from publish.db import MEMORY_LIMIT
from publish.disclosure.policy import POLICY_NAMES, Policy, UnknownPolicy, make_policy
from publish.engines import check_engine
from publish.errors import InputError
from publish.reference import DEFAULT_IMAGING_CODES, DEFAULT_PRACTICES, DEFAULT_SITES

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
    practices: Path = DEFAULT_PRACTICES  # GP practice -> commissioner (tables 7 and 8)
    submissions: Path | None = None
    submission_date: date | None = None
    out_dir: Path = Path("output")
    publication_text: Path | None = None  # cover and contact text (TOML); shipped default
    published_on: date | None = None  # default: derived from the period (publish.render.release)
    next_update: str | None = None  # default: derived from the publication date
    contact_email: str | None = None  # default: the cover text's (a placeholder: warned)
    demo: bool = False  # the synthetic demo: stamped, identifier did-demo-...
    memory_limit: str = "3GB"  # DuckDB's limit; the process peaks about 1 GB above it
    store: Path | None = None  # record store folder (record-level data: keep it restricted)
    # earlier releases of the series (publication folders, or folders of them): section 7
    previous: tuple[Path, ...] = ()
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
        try:
            policy = self.disclosure_policy()
        except UnknownPolicy:
            raise InputError(
                f"--policy {self.policy!r}: choose one of {', '.join(POLICY_NAMES)}"
            ) from None
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
        if not self.secondary_suppression and not policy.suppresses_across_tables:
            raise InputError("secondary_suppression = false applies to --policy strict only")
        if self.k < 2:
            raise InputError(f"k = {self.k}: the strict threshold must be at least 2")
        if not MEMORY_LIMIT.fullmatch(self.memory_limit):
            raise InputError(
                f"memory_limit = {self.memory_limit!r}: expected {EXPECTED['memory_limit']}"
            )
        return self

    def disclosure_policy(self) -> Policy:
        """The build's policy, made once by the pipeline and passed to every stage."""
        return make_policy(self.policy, self.k, self.secondary_suppression)

    def for_manifest(self) -> dict:
        """The config as plain JSON values; paths of reference data by name only."""
        values = asdict(self)
        values["inputs"] = [Path(p).name for p in self.inputs]
        values["previous"] = [Path(p).name for p in self.previous]
        for key in (
            "sites",
            "imaging_codes",
            "practices",
            "submissions",
            "publication_text",
            "store",
        ):
            values[key] = Path(values[key]).name if values[key] else None
        values.pop("out_dir")
        for key, value in values.items():
            if isinstance(value, date):
                values[key] = value.isoformat()
        return values


PATH_KEYS = {
    "sites",
    "imaging_codes",
    "practices",
    "submissions",
    "out_dir",
    "publication_text",
    "store",
}
DATE_KEYS = {"submission_date", "published_on"}

# What each setting of the config file expects, in the words of its error message.
EXPECTED = {
    "inputs": "a list of file or folder paths (or one path as text)",
    "previous": "a list of folder paths (or one path as text): earlier releases",
    "period": 'a month as text, YYYY-MM (e.g. "2024-11")',
    "status": '"provisional" or "final"',
    "policy": f"one of {', '.join(repr(name) for name in POLICY_NAMES)}".replace("'", '"'),
    "k": "a whole number of at least 2",
    "secondary_suppression": "true or false",
    "submission_date": "a date, YYYY-MM-DD",
    "published_on": "a date, YYYY-MM-DD",
    "memory_limit": 'a memory size as text, such as "3GB" or "512MB"',
    "engine": '"duckdb" or "spark"',
    "spark_master": "a Spark master URL as text",
    "spark_table": "a Spark table name as text",
    "spark_conf": "a table of Spark settings (name = text, number or true/false)",
    "extra": "a table of settings",
    "next_update": 'text, such as "June 2025, with data up to April 2025."',
    "cover_text": "a file path as text",
    "contact_email": 'an email address as text, such as "did.statistics@nhs.net"',
} | {key: "a file or folder path as text" for key in PATH_KEYS}

Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
MemoryLimit = Annotated[str, StringConstraints(pattern=f"^{MEMORY_LIMIT.pattern}$")]


Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class PublicationTable(BaseModel):
    """The `[publication]` table: the release's date, next update and contact.

    Each is optional: the date and next update are derived from the period, the contact
    comes from the cover text (publish.render.release says what is derived, and warns).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    published_on: date | None = None
    next_update: Annotated[StrictStr, StringConstraints(min_length=1)] | None = None
    contact_email: Email | None = None
    cover_text: StrictStr | None = None

    @field_validator("published_on", mode="before")
    @classmethod
    def iso_date(cls, value: object) -> object:
        return ConfigFile.iso_date(value)


class ConfigFile(BaseModel):
    """The `[build]` table of a config file, checked before any value is used.

    Types are strict: `period = 202411` (a number) or `sites = 5` is refused, not
    converted. `inputs` takes a list of paths, or one path as text (taken as a list of
    one). `memory_limit` must look like a size; it reaches DuckDB as a bound value.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    inputs: list[StrictStr] | StrictStr | None = None
    period: Month | None = None
    status: Literal["provisional", "final"] | None = None
    policy: Literal[POLICY_NAMES] | None = None  # type: ignore[valid-type]
    k: Annotated[StrictInt, Field(ge=2)] | None = None
    secondary_suppression: StrictBool | None = None
    sites: StrictStr | None = None
    imaging_codes: StrictStr | None = None
    practices: StrictStr | None = None
    submissions: StrictStr | None = None
    submission_date: date | None = None
    out_dir: StrictStr | None = None
    publication_text: StrictStr | None = None
    published_on: date | None = None  # default: derived from the period (publish.render.release)
    next_update: str | None = None  # default: derived from the publication date
    contact_email: str | None = None  # default: the cover text's (a placeholder: warned)
    demo: bool = False  # the synthetic demo: stamped, identifier did-demo-...
    memory_limit: MemoryLimit | None = None
    store: StrictStr | None = None
    previous: list[StrictStr] | StrictStr | None = None
    engine: Literal["duckdb", "spark"] | None = None
    spark_master: StrictStr | None = None
    spark_table: StrictStr | None = None
    spark_conf: dict[StrictStr, StrictStr | StrictInt | StrictFloat | StrictBool] | None = None
    extra: dict | None = None

    @field_validator("submission_date", "published_on", mode="before")
    @classmethod
    def iso_date(cls, value: object) -> object:
        """A TOML date, or text in ISO form ("2024-12-05"); nothing else."""
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ValueError("not a date") from None
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValueError("not a date")
        return value


def config_errors(path: Path, error: ValidationError, table: str = "") -> str:
    """One line per wrong setting: its name, the value given and what it expects."""
    lines = []
    for problem in error.errors():
        key = str(problem["loc"][0]) if problem["loc"] else "?"
        if problem["type"] == "extra_forbidden":
            lines.append(f"{path}: unknown setting {table + key!r}")
            continue
        given = problem.get("input")
        shown = repr(given) if len(repr(given)) <= 60 else repr(given)[:57] + "..."
        line = f"{path}: {table}{key} = {shown}: expected {EXPECTED.get(key, 'another value')}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def read_config_file(path: Path) -> dict:
    """The settings of a TOML config file, checked, with paths made absolute."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: a folder, not a config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not a valid TOML file ({error})") from None
    tables = {"build", "publication"}
    if tables & set(data):
        unknown = sorted(set(data) - tables)
        if unknown:
            raise InputError(
                f"{path}: unknown table or setting {unknown[0]!r} (expected [build] and "
                "[publication])"
            )
        publication = data.get("publication", {})
        data = data.get("build", {})
    else:  # a file of [build] settings without the table heading
        publication = {}
    for name, table in (("build", data), ("publication", publication)):
        if not isinstance(table, dict):
            raise InputError(f"{path}: {name}: expected a table of settings")
    try:
        checked = ConfigFile.model_validate(data)
    except ValidationError as error:
        raise InputError(config_errors(path, error)) from None
    try:
        release = PublicationTable.model_validate(publication)
    except ValidationError as error:
        raise InputError(config_errors(path, error, "publication.")) from None
    values: dict = {}
    for key in release.model_fields_set:
        value = getattr(release, key)
        if key == "cover_text":
            values["publication_text"] = (path.parent / value).resolve()
        elif value is not None:
            values[key] = value
    for key in checked.model_fields_set:
        value = getattr(checked, key)
        if value is None:
            continue
        if key in PATH_KEYS:
            value = (path.parent / value).resolve()
        elif key in ("inputs", "previous"):
            listed = [value] if isinstance(value, str) else value
            value = tuple((path.parent / v).resolve() for v in listed)
        values[key] = value
    return values


def load_config(path: Path | None, overrides: dict) -> BuildConfig:
    """Defaults, then the TOML file (relative paths from its folder), then the overrides."""
    values: dict = read_config_file(path) if path is not None else {}
    values |= {key: value for key, value in overrides.items() if value is not None}
    return replace(BuildConfig(), **values).check()
