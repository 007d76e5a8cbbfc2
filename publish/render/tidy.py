"""The tidy CSV and its datapackage.json (PUBLICATION.md section 2).

One long file per publication. Row order is fixed here, once: table, then England,
regions in code order, providers by region then name, then the row label in
publication order, source setting, period (months, then year to date) and measure.
Numbers are written as the shortest exact text ("8", "8.5"), so the same cells always
give the same bytes.
"""

import json
from pathlib import Path

import polars as pl

from publish.codes import (
    ALL_SETTINGS,
    CANCER_TEST_GROUPS,
    MODALITIES,
    REGIONS,
    TABLE11_SOURCE_SETTINGS,
)
from publish.csv_files import neutralise_formulas, write_csv  # noqa: F401 (re-exported)
from publish.tables import (
    MARKERS,
    MEASURES,
    TABLE10_SETTING_GROUPS,
    TABLE_ORDER,
    TABLES,
    TIDY_COLUMNS,
)

GEOGRAPHY_ORDER = {"england": 0, "region": 1, "provider": 2, "commissioner": 3}
ROW_LABEL_ORDER = {label: i for i, label in enumerate(MODALITIES + CANCER_TEST_GROUPS)}
SETTING_ORDER = (
    {ALL_SETTINGS: -1}
    | {label: i for i, label in enumerate(s for s in TABLE11_SOURCE_SETTINGS if s != ALL_SETTINGS)}
    | {label: 100 + i for i, label in enumerate(TABLE10_SETTING_GROUPS)}
)
PRIMARY_KEY = [c for c in TIDY_COLUMNS if c not in ("value", "marker")]


def add_names(
    cells: pl.DataFrame, names: pl.DataFrame, commissioners: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Region and provider names beside their codes ("" above the level that has one).

    names: one row per (region_code, provider_code) with region_name, provider_name.
    commissioners: one row per commissioner code with its name (`provider_name`), for
    the commissioner rows of tables 7a, 7b and 8, whose code sits in `provider_code`.
    """
    region_names = (
        pl.concat(
            [
                names.select("region_code", "region_name"),
                pl.DataFrame({"region_code": list(REGIONS), "region_name": list(REGIONS.values())}),
            ]
        )
        .group_by("region_code")
        .agg(pl.col("region_name").first())
    )
    provider_names = names.group_by("region_code", "provider_code").agg(
        pl.col("provider_name").min()
    )
    level = pl.lit("provider").alias("geography_level")
    keyed = [provider_names.with_columns(level)]
    if commissioners is not None:
        keyed.append(
            cells.filter(pl.col("geography_level") == "commissioner")
            .select("region_code", "provider_code")
            .unique()
            .join(commissioners, on="provider_code", how="left")
            .with_columns(
                pl.col("provider_name").fill_null(pl.col("provider_code")),
                pl.lit("commissioner").alias("geography_level"),
            )
            .select(provider_names.columns + ["geography_level"])
        )
    return (
        cells.join(region_names, on="region_code", how="left")
        .join(
            pl.concat(keyed, how="vertical_relaxed"),
            on=["geography_level", "region_code", "provider_code"],
            how="left",
        )
        .with_columns(
            pl.col("region_name").fill_null(""),
            pl.col("provider_name").fill_null(""),
        )
    )


def in_publication_order(frame: pl.DataFrame) -> pl.DataFrame:
    # a measure's place is its table's: the same band comes at another place in 7b
    measure_order = {
        f"{spec.number}|{measure}": i
        for spec in TABLES.values()
        for i, measure in enumerate(spec.measures)
    }
    table_measure = pl.concat_str(pl.col("table").cast(pl.Utf8), pl.lit("|"), pl.col("measure"))
    return frame.sort(
        pl.col("table").replace_strict(TABLE_ORDER, default=999, return_dtype=pl.Int32),
        pl.col("table"),
        pl.col("geography_level").replace_strict(GEOGRAPHY_ORDER, return_dtype=pl.Int32),
        pl.col("region_code"),
        pl.col("provider_name"),
        pl.col("provider_code"),
        pl.col("modality").replace_strict(ROW_LABEL_ORDER, default=999, return_dtype=pl.Int32),
        pl.col("modality"),
        pl.col("source_setting").replace_strict(SETTING_ORDER, default=999, return_dtype=pl.Int32),
        pl.col("source_setting"),
        pl.col("period").str.contains("/"),
        pl.col("period"),
        table_measure.replace_strict(measure_order, default=999, return_dtype=pl.Int32),
        pl.col("measure"),
        maintain_order=True,
    )


def to_tidy(protected: pl.DataFrame) -> pl.DataFrame:
    """The renderers' frame: TIDY_COLUMNS in publication order, value a nullable float."""
    return in_publication_order(
        protected.select(TIDY_COLUMNS).with_columns(
            pl.col("table").cast(pl.Int64), pl.col("value").cast(pl.Float64)
        )
    )


def format_value(value: pl.Expr) -> pl.Expr:
    """Shortest exact text: 12.0 -> "12", 8.5 -> "8.5", 33.3 -> "33.3", null -> ""."""
    whole = value.round(0) == value
    return (
        pl.when(value.is_null())
        .then(pl.lit(""))
        .when(whole)
        .then(value.cast(pl.Int64).cast(pl.Utf8))
        .otherwise(value.round(1).cast(pl.Utf8))
    )


PUBLISHED_NUMBERS = {spec.number: spec.published_number for spec in TABLES.values()}


def write_tidy_csv(tidy: pl.DataFrame, path: Path) -> None:
    """The tidy CSV: each table under its published number ("7a")."""
    write_csv(
        tidy.with_columns(
            pl.col("table").replace_strict(PUBLISHED_NUMBERS, return_dtype=pl.Utf8),
            format_value(pl.col("value")).alias("value"),
        ),
        path,
    )


def write_revisions_csv(revisions: pl.DataFrame, path: Path) -> None:
    """`<identifier>-revisions.csv`: the revised cells, tidy columns then the earlier
    release's figure, marker and identifier (PUBLICATION.md section 7)."""
    write_csv(
        revisions.with_columns(
            pl.col("table").replace_strict(PUBLISHED_NUMBERS, return_dtype=pl.Utf8),
            format_value(pl.col("value")).alias("value"),
            format_value(pl.col("previous_value")).alias("previous_value"),
        ),
        path,
    )


def datapackage(identifier: str, csv_name: str, title: str) -> dict:
    """Frictionless Data Package describing the tidy CSV (Table Schema with types)."""
    descriptions = {
        "table": "Table number, as in NHS England's DID publication (1 to 13, 7a, 7b)",
        "geography_level": "england, region or provider; commissioner for tables 7a, 7b "
        "and 8 (the sub-ICB location of the patient's GP practice as at the test date)",
        "region_code": "Commissioning region code, e.g. Y56; empty for England (and for "
        "the commissioner Unknown)",
        "region_name": "Commissioning region name; empty for England",
        "provider_code": "Organisation code of the provider; on commissioner rows the "
        "sub-ICB location's code, or Unknown where the GP practice is missing or not in "
        "the reference; empty above provider level",
        "provider_name": "Provider name (commissioner rows: sub-ICB location name); empty "
        "above provider level",
        "modality": "Published modality name, or a cancer test group for tables 4-6 and 8",
        "source_setting": "All, or a patient source setting (short label), or a group of "
        "them (tables 10 and 13)",
        "period": "YYYY-MM for a month; YYYY-MM/YYYY-MM (ISO 8601 interval) for year to date, "
        "or for a quarter in table 13 (its months so far)",
        "measure": "What the value measures: "
        + "; ".join(
            f"{m} ({MEASURES[m].label})"
            for m in sorted({m for spec in TABLES.values() for m in spec.measures})
        ),
        "value": "The published figure; empty when suppressed or not available",
        "marker": "Empty, or shorthand: "
        + "; ".join(f"{code} {meaning}" for code, meaning in MARKERS.items()),
    }
    fields = []
    for name in TIDY_COLUMNS:
        field: dict = {"name": name, "description": descriptions[name]}
        if name == "table":
            field |= {
                "type": "string",
                "constraints": {
                    "required": True,
                    "enum": [PUBLISHED_NUMBERS[n] for n in sorted(TABLES, key=TABLE_ORDER.get)],
                },
            }
        elif name == "value":
            field |= {"type": "number"}
        else:
            field |= {"type": "string"}
        if name == "geography_level":
            field["constraints"] = {"required": True, "enum": list(GEOGRAPHY_ORDER)}
        if name == "marker":
            field["constraints"] = {"enum": ["", *MARKERS]}
        fields.append(field)
    return {
        "profile": "tabular-data-package",
        "name": identifier,
        "title": title,
        "licenses": [
            {
                "name": "OGL-UK-3.0",
                "title": "Open Government Licence v3.0",
                "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
            }
        ],
        "resources": [
            {
                "name": identifier,
                "path": csv_name,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ",", "lineTerminator": "\n", "header": True},
                "schema": {
                    "fields": fields,
                    "missingValues": [""],
                    "primaryKey": PRIMARY_KEY,
                },
            }
        ],
    }


def write_datapackage(path: Path, identifier: str, csv_name: str, title: str) -> None:
    path.write_text(
        json.dumps(datapackage(identifier, csv_name, title), indent=2) + "\n", encoding="utf-8"
    )
