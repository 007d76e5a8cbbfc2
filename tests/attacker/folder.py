"""Read a publication folder as an outsider would, and attack its suppressed counts.

The attacker downloads the whole folder: the tidy CSV, every CSV under `quality/` and
`manifest.json`. Nothing is assumed to exist: each file found is read for what it holds.
Every figure is read as its policy allows (PUBLICATION.md section 3):

| policy | shown v below England | shown v, England | `c` |
|---|---|---|---|
| did | 0 -> 0, else [v-2, v+2] | [v-2, v+2] | [1, 2] |
| hes | 0 -> 0, else [v-2, v+2] | v | [1, 7] |
| strict | v | v | [1, inf) |

`x` is 0 (nothing submitted). A part of the folder whose counts are all multiples of 5
although the policy is `strict` is read as rounded (`hes`): an attacker sees that.

Relations written (all from the contract, sections 1-5):

- geography: providers -> region -> England, per table, period, modality, setting;
- months -> year to date;
- source settings -> All (table 11, table 9), and table 11's All is table 1;
- table 4's GP Direct Access within its All; table 4's test groups of one modality
  together within that modality (table 1; table 11's GP Direct Access for the year);
- table 12 within table 1; table 9's bands together within table 11; table 10:
  known + not known = total, and its grouped settings = the sum of table 11's;
- table 13: per row and quarter, its two broad settings' totals = table 1's months
  of the quarter; over the quarters that make up the year to date, each broad
  setting's totals = the sum of table 11's settings in it (PUBLICATION.md section 1's
  table 13: "A&E / Admitted" is A&E, inpatients and day cases, "OP / GP direct access"
  the rest);
- quality report: received = accepted + rejected, warned and each rule's count within
  them, providers -> England, and a provider-month's accepted records = the sum of its
  table 1 cells (at least, when resubmissions superseded records);
- manifest (and `quality/files.csv`): each file's received = accepted + rejected, the
  files add up to the England totals; a file named `<provider>-<region>-<YYYY-MM>` is
  taken to be that provider's month ("one file normally holds one provider's month",
  INPUT.md: a guess, dropped where it contradicts the rest); a file's size bounds its
  records;
- a published audit file's bounds (`disclosure-audit.csv`), read as they are.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from tests.attacker.model import INF, TOLERANCE, Bounds, Model

SETTINGS = (
    "Inpatient",
    "Day case",
    "Outpatient",
    "GP Direct Access",
    "A&E",
    "Other Health Care Provider",
    "Other",
)
TABLE10_GROUPS = {
    "A&E, Inpatients & Day Cases": ("A&E", "Inpatient", "Day case"),
    "Outpatients & GP Direct Access": ("Outpatient", "GP Direct Access"),
}
TABLE13_GROUPS = {
    "A&E / Admitted": ("A&E", "Inpatient", "Day case"),
    "OP / GP direct access": (
        "Outpatient",
        "GP Direct Access",
        "Other Health Care Provider",
        "Other",
    ),
}
# A cancer test group names its modality in brackets: "Brain (MRI)".
GROUP_MODALITY = {
    "MRI": "Magnetic Resonance Imaging",
    "X-ray": "Plain Radiography",
    "CT": "Computerized Axial Tomography",
    "Ultrasound": "Diagnostic Ultrasonography",
}
SUPPRESSED_RANGE = {"did": (1.0, 2.0), "hes": (1.0, 7.0), "strict": (1.0, INF)}
DEFAULT_K = 10
FILE_NAME = re.compile(r"^(?P<provider>[A-Z0-9]+)-(?P<region>Y\d{2})-(?P<month>\d{4}-\d{2})\b")
FILE_MEASURES = ("received", "accepted", "rejected", "warned", "superseded")
# Bytes of one CSV record: at least its 17 commas and a line end; at most every field
# at its longest (INPUT.md section 1), quoted, with CRLF.
RECORD_BYTES = (18, 400)
HEADER_BYTES = 400
# Guessed relations, dropped where they contradict the rest.
OPTIONAL_SOURCES = ("file-names", "quality-link")
KEY = ("table", "geography_level", "region_code", "provider_code", "modality")
KEY += ("source_setting", "period", "measure")


@dataclass
class Attack:
    """What the attacker proved about each suppressed count of one folder."""

    folder: Path
    policy: str
    k: int
    files_read: list[str]
    cells: pl.DataFrame  # cell, lower, upper, upper_is_max, trivial, goal, status
    contradicted_sources: set[str]
    contradictions: list[str]
    solves: int

    def count(self, status: str) -> int:
        return int((self.cells["status"] == status).sum())

    @property
    def narrowed(self) -> pl.DataFrame:
        """Suppressed counts known more closely than their protection interval allows."""
        return self.cells.filter(pl.col("status").is_in(["exact", "narrowed"]))

    def summary(self) -> str:
        return (
            f"{self.folder.name} ({self.policy}"
            + (f", k={self.k}" if self.policy == "strict" else "")
            + f"): {self.cells.height} suppressed counts, {self.count('exact')} exact,"
            f" {self.count('narrowed')} narrowed (not exact), {self.count('large')} certainly"
            f" k or more and not exact, {self.count('infeasible')}"
            f" infeasible; {self.solves} LP solves; read {', '.join(self.files_read)}"
            + (
                f"; guessed relations dropped where contradicted: {sorted(self.contradicted_sources)}"
                if self.contradicted_sources
                else ""
            )
        )


def attack(
    folder: Path,
    sources: tuple[str, ...] = ("tidy", "quality", "manifest", "audit"),
    exactness: bool = True,
) -> Attack:
    """Read `folder` (sources: which parts to read) and bound every suppressed count.

    Without `exactness` a narrowed small count is not also asked whether it is exact.
    """
    folder = Path(folder)
    manifest = _read_json(folder / "manifest.json")
    policy, k = _policy(manifest)
    reader = _Reader(Model(), policy)
    files_read: list[str] = []
    tidy_path = folder / f"{folder.name}.csv"
    if not tidy_path.exists():
        candidates = [p for p in sorted(folder.glob("*.csv")) if not p.stem.endswith("-revisions")]
        tidy_path = candidates[0] if candidates else tidy_path
    if "tidy" in sources and tidy_path.exists():
        reader.tidy(pl.read_csv(tidy_path, infer_schema=False))
        files_read.append(tidy_path.name)
    quality_csvs = sorted((folder / "quality").glob("**/*.csv"))
    if "quality" in sources:
        for path in quality_csvs:
            frame = pl.read_csv(path, infer_schema=False)
            if reader.quality_csv(frame):
                files_read.append(str(path.relative_to(folder)))
    if "manifest" in sources and manifest is not None:
        reader.manifest(manifest)
        files_read.append("manifest.json")
    reader.readings_done()
    if "audit" in sources:
        for path in quality_csvs:
            frame = pl.read_csv(path, infer_schema=False)
            if {"cell", "lower", "upper"} <= set(frame.columns):
                reader.audit_bounds(frame)
                files_read.append(str(path.relative_to(folder)) + " (bounds)")
    reader.link_quality_to_tables()
    return reader.attack(folder, k, files_read, exactness)


def _replace(found: Bounds, where: np.ndarray, redone: Bounds) -> Bounds:
    """`found` with the targets at positions `where` decided again as `redone`."""
    arrays = {}
    for name in ("lower", "upper", "lower_is_min", "upper_is_max", "exact", "infeasible"):
        values = getattr(found, name).copy()
        values[where] = getattr(redone, name)
        arrays[name] = values
    return Bounds(
        **arrays,
        solves=found.solves + redone.solves,
        contradicted_sources=found.contradicted_sources | redone.contradicted_sources,
    )


def _read_json(path: Path) -> dict | None:
    if not path.exists():
        return None
    found = json.loads(path.read_text(encoding="utf-8"))
    return found if isinstance(found, dict) else None


def _policy(manifest: dict | None) -> tuple[str, int]:
    if manifest is None:
        return "did", DEFAULT_K
    config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
    policy = str(manifest.get("policy") or config.get("policy") or "did")
    k = manifest.get("k") or config.get("k") or DEFAULT_K
    return policy, int(k)


def _is_count(measure: pl.Expr) -> pl.Expr:
    return (measure == "activity_count") | measure.str.starts_with("count_")


def _rounded_to_five(values: pl.Series, enough: int = 10) -> bool:
    """Counts that are all multiples of 5 (enough of them to tell): a rounded source."""
    shown = values.cast(pl.Float64, strict=False).drop_nulls()
    shown = shown.filter(shown != 0)
    return shown.len() >= enough and bool((shown % 5 == 0).all())


def readings(policy: str, england: np.ndarray, value: np.ndarray, marker: np.ndarray):
    """(lower, upper) of each figure from its own publication alone."""
    shown = ~np.isnan(value)
    v = np.nan_to_num(value, nan=0.0)
    if policy == "strict":
        exact = shown
    elif policy == "hes":
        exact = shown & (england | (v == 0))
    else:
        exact = shown & ~england & (v == 0)
    lower = np.where(exact, v, np.maximum(v - 2, 0.0))
    upper = np.where(exact, v, v + 2)
    hidden = np.char.find(marker.astype(str), "c") >= 0
    low_c, high_c = SUPPRESSED_RANGE.get(policy, SUPPRESSED_RANGE["strict"])
    lower = np.where(hidden, low_c, lower)
    upper = np.where(hidden, high_c, upper)
    absent = ~shown & ~hidden & (np.char.find(marker.astype(str), "x") >= 0)
    unknown = ~shown & ~hidden & ~absent
    lower = np.where(absent | unknown, 0.0, lower)
    upper = np.where(absent, 0.0, np.where(unknown, INF, upper))
    return lower, upper, hidden


class _Reader:
    def __init__(self, model: Model, policy: str) -> None:
        self.model = model
        self.policy = policy
        self.targets: dict[int, str] = {}  # figure -> label, every suppressed count
        self.table1_months: pl.DataFrame | None = None  # provider/England x month: fids
        self.table1_year: list[int] = []
        self.quality_accepted: dict[tuple[str, str, str, str], int] = {}
        self.quality_received: dict[tuple[str, str, str, str], int] = {}
        self.counted: dict[tuple[str, str, str], int] = {}
        self.files: dict[str, dict[str, int]] = {}
        self.superseded_total: float | None = None
        self.policy_lower: np.ndarray | None = None

    # --- the tidy CSV -----------------------------------------------------------------

    def tidy(self, tidy: pl.DataFrame) -> None:
        tidy = tidy.with_columns(pl.all().fill_null(""))
        counts = tidy.filter(_is_count(pl.col("measure"))).with_columns(
            pl.when((pl.col("table") == "11") & (pl.col("source_setting") == "All"))
            .then(pl.lit("1"))
            .otherwise(pl.col("table"))
            .alias("figure_table")
        )
        lower, upper, hidden = readings(
            self.policy,
            (counts["geography_level"] == "england").to_numpy(),
            counts["value"].str.strip_chars().cast(pl.Float64, strict=False).to_numpy(),
            counts["marker"].to_numpy().astype(str),
        )
        fids = []
        for i, row in enumerate(counts.select("figure_table", *KEY[1:]).iter_rows()):
            fid = self.model.bound(("t", *row), lower[i], upper[i])
            fids.append(fid)
            if hidden[i] and fid not in self.targets:
                self.targets[fid] = "t" + "|".join(row)
        counts = counts.with_columns(pl.Series("fid", fids, dtype=pl.Int64))
        self._geography(counts)
        self._months(counts)
        self._settings(counts)
        self._table10(counts)
        self._table13(counts)
        self._subsets(counts)
        t1 = counts.filter(
            (pl.col("table") == "1") & (pl.col("measure") == "activity_count"),
            pl.col("geography_level").is_in(["provider", "england"]),
        )
        self.table1_months = (
            t1.filter(~pl.col("period").str.contains("/"))
            .group_by("geography_level", "region_code", "provider_code", "period")
            .agg(pl.col("fid"))
        )
        self.table1_year = t1.filter(
            (pl.col("geography_level") == "england") & pl.col("period").str.contains("/")
        )["fid"].to_list()

    def _sums(
        self,
        totals: pl.DataFrame,
        parts: pl.DataFrame,
        on: list[str],
        source: str,
        subset: bool = False,
    ) -> None:
        """total = sum(parts) for each total row, parts matched on `on`."""
        grouped = parts.group_by(on).agg(pl.col("fid").alias("parts"))
        joined = totals.select(*on, "fid").join(grouped, on=on, how="inner")
        for total, part in zip(joined["fid"].to_list(), joined["parts"].to_list(), strict=True):
            self.model.total_of(total, part, source, subset=subset)

    def _geography(self, counts: pl.DataFrame) -> None:
        on = ["table", "modality", "source_setting", "period", "measure"]
        level = pl.col("geography_level")
        self._sums(
            counts.filter(level == "england"), counts.filter(level == "region"), on, "geography"
        )
        self._sums(
            counts.filter(level == "region"),
            counts.filter(level == "provider"),
            [*on, "region_code"],
            "geography",
        )

    def _months(self, counts: pl.DataFrame) -> None:
        on = ["table", "geography_level", "region_code", "provider_code", "modality"]
        on += ["source_setting", "measure"]
        year = pl.col("period").str.contains("/")
        totals = counts.filter(year).with_columns(
            pl.col("period").str.split("/").list.get(0).alias("start"),
            pl.col("period").str.split("/").list.get(1).alias("end"),
        )
        months = counts.filter(~year).rename({"fid": "part", "period": "month"})
        joined = (
            totals.select(*on, "fid", "start", "end")
            .join(months.select(*on, "part", "month"), on=on, how="inner")
            .filter((pl.col("month") >= pl.col("start")) & (pl.col("month") <= pl.col("end")))
            .group_by("fid")
            .agg(pl.col("part"))
        )
        for total, parts in joined.iter_rows():
            self.model.total_of(total, parts, "months")

    def _settings(self, counts: pl.DataFrame) -> None:
        on = ["table", "geography_level", "region_code", "provider_code", "modality"]
        on += ["period", "measure"]
        for _table, frame in counts.group_by("table"):
            present = set(frame["source_setting"].unique().to_list())
            if "All" not in present or present == {"All"}:
                continue
            complete = set(SETTINGS) <= present
            setting = pl.col("source_setting")
            self._sums(
                frame.filter(setting == "All"),
                frame.filter(setting != "All"),
                on,
                "settings",
                subset=not complete,
            )

    def _table10(self, counts: pl.DataFrame) -> None:
        on = ["geography_level", "region_code", "provider_code", "modality"]
        on += ["source_setting", "period"]
        t10 = counts.filter(pl.col("table") == "10")
        measure = pl.col("measure")
        self._sums(
            t10.filter(measure == "activity_count"),
            t10.filter(measure.is_in(["count_report_time_known", "count_report_time_not_known"])),
            on,
            "table10",
        )
        t11 = counts.filter((pl.col("table") == "11") & (measure == "activity_count"))
        for group, settings in TABLE10_GROUPS.items():
            parts = t11.filter(pl.col("source_setting").is_in(list(settings))).with_columns(
                pl.lit(group).alias("source_setting")
            )
            totals = t10.filter((measure == "activity_count") & (pl.col("source_setting") == group))
            self._sums(totals, parts, on, "table10")

    def _table13(self, counts: pl.DataFrame) -> None:
        row = ["geography_level", "region_code", "provider_code", "modality"]
        measure = pl.col("measure") == "activity_count"
        t13 = counts.filter((pl.col("table") == "13") & measure).with_columns(
            pl.col("period").str.slice(0, 7).alias("start"),
            pl.col("period").str.slice(8, 7).alias("end"),
        )
        if t13.height == 0:
            return
        t1 = counts.filter(
            (pl.col("table") == "1") & measure & ~pl.col("period").str.contains("/")
        ).select(*row, pl.col("period").alias("month"), "fid")
        # a quarter: both broad settings = table 1's months of the quarter
        quarters = t13.group_by(*row, "period", "start", "end").agg(pl.col("fid"))
        months = (
            quarters.select(*row, "period", "start", "end")
            .join(t1, on=row)
            .filter((pl.col("month") >= pl.col("start")) & (pl.col("month") <= pl.col("end")))
            .group_by(*row, "period")
            .agg(pl.col("fid").alias("months"))
        )
        for sides in quarters.join(months, on=[*row, "period"]).iter_rows(named=True):
            terms = [(f, 1.0) for f in sides["fid"]] + [(f, -1.0) for f in sides["months"]]
            self.model.row_of(terms, 0.0, 0.0, "table13")
        # the year: a broad setting's quarters = table 11's settings in it, year to date
        t11 = counts.filter(
            (pl.col("table") == "11") & measure & pl.col("period").str.contains("/")
        )
        for group, settings in TABLE13_GROUPS.items():
            parts = t11.filter(pl.col("source_setting").is_in(list(settings)))
            mine = t13.filter(pl.col("source_setting") == group)
            for year in parts["period"].unique().to_list():
                start, end = year[:7], year[8:]
                inside = mine.filter((pl.col("start") >= start) & (pl.col("end") <= end))
                spans = inside.select("start", "end").unique()
                if spans.height == 0 or spans["start"].min() != start or spans["end"].max() != end:
                    continue  # the quarters do not make up this year to date
                left = inside.group_by(row).agg(pl.col("fid"))
                right = (
                    parts.filter(pl.col("period") == year)
                    .group_by(row)
                    .agg(pl.col("fid").alias("parts"))
                )
                for sides in left.join(right, on=row).iter_rows(named=True):
                    terms = [(f, 1.0) for f in sides["fid"]] + [(f, -1.0) for f in sides["parts"]]
                    self.model.row_of(terms, 0.0, 0.0, "table13")

    def _subsets(self, counts: pl.DataFrame) -> None:
        on = ["geography_level", "region_code", "provider_code", "modality"]
        on += ["source_setting", "period"]
        table, measure = pl.col("table"), pl.col("measure")
        activity = counts.filter(measure == "activity_count")
        t1 = activity.filter(table == "1")
        # table 12 (interventional) within table 1
        self._pairs(t1, activity.filter(table == "12"), on, "table12")
        # table 9: the four bands together within table 11
        t9 = counts.filter((table == "9") & measure.str.starts_with("count_days_"))
        t11 = activity.filter(table.is_in(["1", "11"]))
        self._sums(t11, t9, on, "table9", subset=True)
        # table 4: test groups of one modality together within it
        t4 = (
            activity.filter(table == "4")
            .with_columns(
                pl.col("modality")
                .str.extract(r"\(([^)]*)\)\s*$")
                .replace_strict(GROUP_MODALITY, default=None)
                .alias("modality")
            )
            .filter(pl.col("modality").is_not_null())
        )
        superset = activity.filter(
            (table == "1") | ((table == "11") & (pl.col("source_setting") == "GP Direct Access"))
        )
        self._sums(superset, t4, on, "table4", subset=True)

    def _pairs(self, totals: pl.DataFrame, parts: pl.DataFrame, on: list[str], source: str) -> None:
        """Each part within its own total (one part per total)."""
        joined = parts.select(*on, pl.col("fid").alias("part")).join(
            totals.select(*on, "fid"), on=on, how="inner"
        )
        for total, part in zip(joined["fid"].to_list(), joined["part"].to_list(), strict=True):
            self.model.total_of(total, [part], source, subset=True)

    # --- quality/ -----------------------------------------------------------------------

    def _quality_policy(self, values: pl.Series) -> str:
        if self.policy == "strict" and _rounded_to_five(values):
            return "hes"
        return self.policy

    def quality_csv(self, frame: pl.DataFrame) -> bool:
        """Read one CSV of quality/; False when it holds no figure this attacker uses."""
        frame = frame.with_columns(pl.all().fill_null(""))
        columns = set(frame.columns)
        if {"geography_level", "month", "measure", "value"} <= columns:
            self._quality_long(frame)
            return True
        if {"provider_code", "month", "records_received"} <= columns:
            self._provider_issues(frame)
            return True
        if "source_file" in columns and any(c.startswith("records_") for c in columns):
            self._files_csv(frame)
            return True
        return False

    def _quality_long(self, frame: pl.DataFrame) -> None:
        if "marker" not in frame.columns:
            frame = frame.with_columns(pl.lit("").alias("marker"))
        for name in ("region_code", "provider_code"):
            if name not in frame.columns:
                frame = frame.with_columns(pl.lit("").alias(name))
        frame = frame.filter(_is_count(pl.col("measure")))
        below = frame.filter(pl.col("geography_level") != "england")
        policy = self._quality_policy(below["value"])
        lower, upper, hidden = readings(
            policy,
            (frame["geography_level"] == "england").to_numpy(),
            frame["value"].str.strip_chars().cast(pl.Float64, strict=False).to_numpy(),
            frame["marker"].to_numpy().astype(str),
        )
        by_place: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(dict)
        cols = ("geography_level", "region_code", "provider_code", "month", "measure")
        for i, (level, region, provider, month, measure) in enumerate(
            frame.select(cols).iter_rows()
        ):
            fid = self.model.bound(
                ("q", level, region, provider, month, measure), lower[i], upper[i]
            )
            by_place[(level, region, provider, month)][measure] = fid
            if hidden[i] and fid not in self.targets:
                self.targets[fid] = f"quality|{level}|{region}|{provider}|{month}|{measure}"
        england: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for place, figures in by_place.items():
            self._record_accounting(figures, "quality")
            if "count_records_accepted" in figures:
                self.quality_accepted[place] = figures["count_records_accepted"]
            if "count_records_received" in figures:
                self.quality_received[place] = figures["count_records_received"]
            for measure, fid in figures.items():
                if measure.startswith("count_rule_"):
                    for whole in ("count_records_received",):
                        if whole in figures:
                            self.model.total_of(figures[whole], [fid], "quality", subset=True)
            if place[0] == "provider":
                for measure, fid in figures.items():
                    england[place[3]][measure].append(fid)
        for month, measures in england.items():
            whole = by_place.get(("england", "", "", month), {})
            for measure, parts in measures.items():
                if measure in whole:
                    exact = measure in ("count_records_accepted", "count_records_warned")
                    self.model.total_of(whole[measure], parts, "quality", subset=not exact)

    def _record_accounting(
        self, figures: dict[str, int], source: str, prefix: str = "count_records_"
    ) -> None:
        """received = accepted + rejected; warned (and superseded) within accepted."""
        get = {m: figures.get(prefix + m) for m in FILE_MEASURES}
        if (
            get["received"] is not None
            and get["accepted"] is not None
            and get["rejected"] is not None
        ):
            self.model.total_of(get["received"], [get["accepted"], get["rejected"]], source)
        for part in ("warned", "superseded"):
            if get["accepted"] is not None and get[part] is not None:
                self.model.total_of(get["accepted"], [get[part]], source, subset=True)

    def _provider_issues(self, frame: pl.DataFrame) -> None:
        values = pl.concat(
            [frame[c] for c in ("records_received", "records_counted") if c in frame.columns]
        )
        policy = self._quality_policy(values)
        for measure in ("records_received", "records_counted"):
            if measure not in frame.columns:
                continue
            marker = frame[f"{measure}_marker"] if f"{measure}_marker" in frame.columns else None
            lower, upper, hidden = readings(
                policy,
                np.zeros(frame.height, dtype=bool),
                frame[measure].str.strip_chars().cast(pl.Float64, strict=False).to_numpy(),
                (marker if marker is not None else pl.Series([""] * frame.height))
                .to_numpy()
                .astype(str),
            )
            region = (
                frame["region_code"]
                if "region_code" in frame.columns
                else pl.Series([""] * frame.height)
            )
            for i, (reg, provider, month) in enumerate(
                zip(
                    region.to_list(),
                    frame["provider_code"].to_list(),
                    frame["month"].to_list(),
                    strict=True,
                )
            ):
                fid = self.model.bound(
                    ("issues", reg, provider, month, measure), lower[i], upper[i]
                )
                if hidden[i] and fid not in self.targets:
                    self.targets[fid] = f"provider-issues|{reg}|{provider}|{month}|{measure}"
                if measure == "records_counted":
                    self.counted[(reg, provider, month)] = fid
                else:
                    self.quality_received[("issues", reg, provider, month)] = fid

    def _files_csv(self, frame: pl.DataFrame) -> None:
        values = pl.concat(
            [frame[f"records_{m}"] for m in FILE_MEASURES if f"records_{m}" in frame.columns]
        )
        policy = self._quality_policy(values)
        for measure in FILE_MEASURES:
            column = f"records_{measure}"
            if column not in frame.columns:
                continue
            marker_col = f"{column}_marker"
            marker = (
                frame[marker_col] if marker_col in frame.columns else pl.Series([""] * frame.height)
            )
            lower, upper, hidden = readings(
                policy,
                np.zeros(frame.height, dtype=bool),
                frame[column].str.strip_chars().cast(pl.Float64, strict=False).to_numpy(),
                marker.to_numpy().astype(str),
            )
            for i, name in enumerate(frame["source_file"].to_list()):
                fid = self.model.bound(("file", name, measure), lower[i], upper[i])
                self.files.setdefault(name, {})[measure] = fid
                if hidden[i] and fid not in self.targets:
                    self.targets[fid] = f"file|{name}|{measure}"

    # --- manifest.json ------------------------------------------------------------------

    def manifest(self, manifest: dict) -> None:
        totals = manifest.get("totals") if isinstance(manifest.get("totals"), dict) else {}
        total_values = [v for v in totals.values() if isinstance(v, int | float)]
        rounded = self.policy == "did" and _rounded_to_five(pl.Series(total_values), enough=3)
        for measure in FILE_MEASURES:
            value = totals.get(measure)
            if isinstance(value, int | float):
                spread = 2.0 if rounded else 0.0
                self.model.bound(("total", measure), max(value - spread, 0), value + spread)
        if isinstance(totals.get("superseded"), int | float):
            self.superseded_total = float(totals["superseded"])
        for entry in manifest.get("inputs") or []:
            if not isinstance(entry, dict) or "file" not in entry:
                continue
            name = str(entry["file"])
            for measure in FILE_MEASURES:
                value = entry.get(f"records_{measure}")
                if isinstance(value, int | float):
                    fid = self.model.bound(("file", name, measure), value, value)
                    self.files.setdefault(name, {})[measure] = fid
            size = next(
                (
                    entry[s]
                    for s in ("size", "size_bytes", "bytes")
                    if isinstance(entry.get(s), int)
                ),
                None,
            )
            if size is not None and name.lower().endswith(".csv"):
                low = max(0, size - HEADER_BYTES) / RECORD_BYTES[1]
                fid = self.model.bound(
                    ("file", name, "received"), np.ceil(low), size // RECORD_BYTES[0]
                )
                self.files.setdefault(name, {})["received"] = fid

    # --- a published audit ----------------------------------------------------------------

    def audit_bounds(self, frame: pl.DataFrame) -> None:
        for label, low, high in frame.select("cell", "lower", "upper").iter_rows():
            parts = (label or "").split("|")
            if len(parts) != len(KEY) or not parts[0].startswith("t"):
                continue
            table = parts[0][1:]
            if table == "11" and parts[5] == "All":
                table = "1"
            key = ("t", table, *parts[1:])
            if key not in self.model.index:
                continue
            try:
                lo = float(low)
                hi = float(high)
            except (TypeError, ValueError):
                continue
            self.model.bound(key, lo, hi if np.isfinite(hi) else INF)

    def readings_done(self) -> None:
        """What the policy readings alone give each figure: the trivial lower bounds'."""
        self.policy_lower = self.model.lower

    # --- the links between the parts ------------------------------------------------------

    def link_quality_to_tables(self) -> None:
        model = self.model
        exact = self.superseded_total == 0
        months = self.table1_months
        cells: dict[tuple[str, str, str, str], list[int]] = {}
        if months is not None:
            for level, region, provider, period, fids in months.iter_rows():
                cells[(level, region, provider, period)] = fids
        # accepted records of a provider-month: its table 1 cells (and superseded ones)
        for place, accepted in self.quality_accepted.items():
            if place in cells:
                model.total_of(accepted, cells[place], "quality-link", subset=not exact)
        for (region, provider, month), counted in self.counted.items():
            place = ("provider", region, provider, month)
            if place in cells:
                model.total_of(counted, cells[place], "quality-link")
            received = self.quality_received.get(("issues", region, provider, month))
            if received is not None and place in self.quality_received:
                model.row_of(
                    [(received, 1.0), (self.quality_received[place], -1.0)], 0, 0, "quality-link"
                )
        # the files: accounting, England totals, and one file as one provider's month
        by_measure: dict[str, list[int]] = defaultdict(list)
        by_place: dict[tuple[str, str, str, str], dict[str, list[int]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for name, figures in self.files.items():
            self._record_accounting({f"count_records_{m}": f for m, f in figures.items()}, "files")
            for measure, fid in figures.items():
                by_measure[measure].append(fid)
            found = FILE_NAME.match(name)
            if found:
                place = ("provider", found["region"], found["provider"], found["month"])
                for measure, fid in figures.items():
                    by_place[place][measure].append(fid)
        for measure, fids in by_measure.items():
            if ("total", measure) in model.index:
                model.total_of(model.index[("total", measure)], fids, "files")
        if self.table1_year and ("total", "accepted") in model.index:
            terms = [(f, 1.0) for f in self.table1_year]
            terms.append((model.index[("total", "accepted")], -1.0))
            if ("total", "superseded") in model.index:
                terms.append((model.index[("total", "superseded")], 1.0))
            model.row_of(terms, -INF, 0.0, "files")
        for place, figures in by_place.items():
            accepted = figures.get("accepted", [])
            superseded = figures.get("superseded", [])
            if place in cells and accepted:
                terms = [(f, 1.0) for f in accepted] + [(f, -1.0) for f in superseded]
                terms += [(f, -1.0) for f in cells[place]]
                model.row_of(terms, 0.0, 0.0 if superseded or exact else INF, "file-names")
            if place in self.quality_accepted and accepted:
                terms = [(f, 1.0) for f in accepted] + [(self.quality_accepted[place], -1.0)]
                model.row_of(terms, 0.0, 0.0, "file-names")
            if place in self.quality_received and figures.get("received"):
                terms = [(f, 1.0) for f in figures["received"]]
                terms.append((self.quality_received[place], -1.0))
                model.row_of(terms, 0.0, INF, "file-names")

    # --- the attack -----------------------------------------------------------------------

    def attack(self, folder: Path, k: int, files_read: list[str], exactness: bool) -> Attack:
        model = self.model
        targets = np.array(sorted(self.targets), dtype=np.int64)
        if self.policy == "strict":
            hidden = np.zeros(len(model), dtype=bool)
            hidden[targets] = True
            floors = np.maximum(model.trivial_lower(hidden, self.policy_lower)[targets], 1.0)
            goals = floors + k - 2
        else:
            low, high = SUPPRESSED_RANGE.get(self.policy, SUPPRESSED_RANGE["did"])
            floors, goals = np.full(targets.size, low), np.full(targets.size, high)
        small_below = k if self.policy == "strict" else INF
        found = model.solve(
            targets,
            goals,
            floors,
            small_below=small_below,
            optional_sources=OPTIONAL_SOURCES,
            exactness=exactness,
        )
        if self.policy == "strict":
            # a floor propagation missed (it takes two relations at once): raised by
            # the structural LP, then those targets decided again against it
            lifted = (found.lower > floors + TOLERANCE) & (found.lower < small_below)
            if lifted.any():
                full = np.zeros(len(model))
                full[targets] = floors
                raised = model.structural_lower(hidden, full, targets[lifted])[targets]
                again = np.flatnonzero(raised > floors)
                if again.size:
                    floors, goals = raised, raised + k - 2
                    redone = model.solve(
                        targets[again],
                        goals[again],
                        floors[again],
                        small_below=small_below,
                        optional_sources=OPTIONAL_SOURCES,
                        exactness=exactness,
                    )
                    found = _replace(found, again, redone)
        lower, upper = found.lower, found.upper
        outside = (lower > floors) | (upper < goals)
        # under strict a count certainly k or more is no small count: it must only not be
        # exact ("large", reported apart)
        small = lower < small_below
        status = np.select(
            [found.infeasible, found.exact, outside & small, ~small],
            ["infeasible", "exact", "narrowed", "large"],
            "ok",
        )
        cells = pl.DataFrame(
            {
                "cell": [self.targets[int(t)] for t in targets],
                "lower": lower,
                "upper": upper,
                "lower_is_min": found.lower_is_min,
                "upper_is_max": found.upper_is_max,
                "trivial": floors,
                "goal": goals,
                "status": status,
            }
        )
        return Attack(
            folder=folder,
            policy=self.policy,
            k=k,
            files_read=files_read,
            cells=cells,
            contradicted_sources=found.contradicted_sources,
            contradictions=model.contradictions,
            solves=found.solves,
        )
