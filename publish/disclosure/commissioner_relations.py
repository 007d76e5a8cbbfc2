"""The relations of tables 7a, 7b and 8 (by commissioner), for the suppression and the
audit (`publish.disclosure.build_relations` adds them to the others).

What an attacker knows of them holds by construction of the tables:
- bands: a row's day bands ("time not known" included) add up to its total
  (`activity_count`): every test falls in one band;
- geography: the commissioners (Unknown included) add up to England;
- one set of tests: a row of 7a and the same row of 7b count the same tests (their
  totals are one figure's two views: equal); England's total of a modality in 7a is
  table 1's England year to date, and table 8's England totals are table 4's (All and
  GP Direct Access);
- subset: table 8's GP Direct Access is at most its All.
"""

import polars as pl

from publish.codes import ALL_SETTINGS
from publish.tables import (
    ACTIVITY_TABLE,
    CANCER_ACTIVITY_TABLE,
    COMMISSIONER_CANCER_TABLE,
    COMMISSIONER_REPORT_TABLE,
    COMMISSIONER_REQUEST_TABLE,
    CommissionerSource,
    tables_made_by,
)

COMMISSIONER_TABLES = [spec.number for spec in tables_made_by(CommissionerSource)]
# Kinds of relation of these tables (equalities), in the order their rows are numbered.
COMMISSIONER_KINDS = ("commissioner_bands", "commissioner_geography", "commissioner_same_tests")
GEO = ["geography_level", "region_code", "provider_code"]


def pairs(total: pl.DataFrame, part: pl.DataFrame, on: list[str], kind: str) -> pl.DataFrame:
    """(kind, total figure, part figure) for every part that joins its total."""
    return (
        total.select(*on, pl.col("figure").alias("total"))
        .join(part.select(*on, pl.col("figure").alias("part")), on=on, how="inner")
        .select(pl.lit(kind).alias("kind"), "total", "part")
    )


def commissioner_equality_pairs(counts: pl.DataFrame) -> pl.DataFrame:
    """Equalities (kind, total, part) of tables 7a, 7b and 8 (`counts`: the keyed count
    figures of `build_relations`)."""
    tables = counts.filter(pl.col("table").is_in(COMMISSIONER_TABLES))
    is_total = pl.col("measure") == "activity_count"
    row = ["table", *GEO, "modality", "source_setting", "period"]
    line = ["table", "modality", "source_setting", "period", "measure"]
    level = pl.col("geography_level")
    england = tables.filter(level == "england")
    year_to_date = pl.col("period").str.contains("/", literal=True)

    def table(number: int) -> pl.DataFrame:
        return counts.filter(pl.col("table") == number)

    same_row = [*GEO, "modality", "source_setting", "period", "measure"]
    request, report = table(COMMISSIONER_REQUEST_TABLE), table(COMMISSIONER_REPORT_TABLE)
    table1 = table(ACTIVITY_TABLE).filter(year_to_date & is_total)
    table4 = table(CANCER_ACTIVITY_TABLE).filter(year_to_date & is_total)
    on_england = ["geography_level", "modality", "source_setting", "period", "measure"]
    return pl.concat(
        [
            pairs(tables.filter(is_total), tables.filter(~is_total), row, "commissioner_bands"),
            pairs(england, tables.filter(level == "commissioner"), line, "commissioner_geography"),
            pairs(
                request.filter(is_total),
                report.filter(is_total),
                same_row,
                "commissioner_same_tests",
            ),
            pairs(
                table1.filter(level == "england"),
                request.filter(is_total & (level == "england")),
                on_england,
                "commissioner_same_tests",
            ),
            pairs(
                table4.filter(level == "england"),
                table(COMMISSIONER_CANCER_TABLE).filter(is_total & (level == "england")),
                on_england,
                "commissioner_same_tests",
            ),
        ]
    )


def commissioner_subset_pairs(counts: pl.DataFrame) -> pl.DataFrame:
    """(whole, part): table 8's GP Direct Access cell is at most its All."""
    cancer = counts.filter(pl.col("table") == COMMISSIONER_CANCER_TABLE)
    is_all = pl.col("source_setting") == ALL_SETTINGS
    on = [*GEO, "modality", "period", "measure"]
    return pairs(cancer.filter(is_all), cancer.filter(~is_all), on, "subset")
