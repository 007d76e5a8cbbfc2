"""The synthetic submissions: format, determinism, validity and realism.

One demo year is generated once for the module (a few seconds); determinism is checked
on single months. The rule checks here are written independently of the validator, so
that the generator and the validator are tested against each other by the pipeline
tests, not against the same code.
"""

from pathlib import Path

import polars as pl
import pytest

from publish.codes import ETHNIC_CATEGORIES, SUBMISSION_COLUMNS
from publish.demo.synth import generate_submissions
from publish.resources import REFERENCE_DATA_DIR

DEMO_YEAR = [f"2024-{m:02d}" for m in range(4, 13)] + [f"2025-{m:02d}" for m in range(1, 4)]
PUBLISHED_TABLE1 = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "published"
    / "did-2023-24-table1_activity_count.csv"
)
REFERRER_FORMAT = (
    r"^([CDGS]\d{1,7}|(CH|DT|CD|PH|SL)\d{1,6}|\d\d[A-Z]\d{4}[A-Z]|Z[ENSW]\d{6}"
    r"|H9999998|M9999998|R9999981|A9999998|P9999981|X9999998|N9999998)$"
)


@pytest.fixture(scope="module")
def demo_year(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("demo_year")
    return generate_submissions(out_dir, DEMO_YEAR, scale="demo", seed=0)


@pytest.fixture(scope="module")
def records(demo_year) -> pl.DataFrame:
    """Every record of the demo year, as text, with its file and submission date."""
    manifest = pl.read_csv(demo_year.submissions_path, infer_schema=False)
    frame = pl.read_csv(
        demo_year.files, infer_schema=False, include_file_paths="path", raise_if_empty=False
    )
    return frame.with_columns(pl.col("path").str.extract(r"([^/\\]+)$").alias("file")).join(
        manifest, on="file", how="left"
    )


@pytest.fixture(scope="module")
def sites() -> pl.DataFrame:
    return pl.read_csv(REFERENCE_DATA_DIR / "sites.csv", infer_schema=False)


@pytest.fixture(scope="module")
def imaging_codes() -> pl.DataFrame:
    return pl.read_csv(REFERENCE_DATA_DIR / "imaging_codes.csv", infer_schema=False)


def as_date(column: str) -> pl.Expr:
    return pl.col(column).str.to_date("%Y-%m-%d", strict=False)


def modulus_11_ok() -> pl.Expr:
    number = pl.col("NHS_NUMBER")
    total = sum(number.str.slice(i, 1).cast(pl.Int64) * (10 - i) for i in range(9))
    check = (11 - total % 11) % 11
    return number.str.contains(r"^\d{10}$") & (check == number.str.slice(9, 1).cast(pl.Int64))


def rule_breaks(sites: pl.DataFrame, imaging_codes: pl.DataFrame) -> dict[str, pl.Expr]:
    """INPUT.md rejection rules the generator is meant to break, and neighbours it must
    not break by accident."""
    nicip = imaging_codes.filter(pl.col("code_system") == "NICIP")["code"].str.to_uppercase()
    snomed = imaging_codes.filter(pl.col("code_system") == "SNOMED")["code"]
    request, received = (
        as_date("DIAGNOSTIC_TEST_REQUEST_DATE"),
        as_date("DIAG_TEST_REQUEST_REC_DATE"),
    )
    test, report = as_date("DIAGNOSTIC_TEST_DATE"), as_date("SERVICE_REPORT_DATE")
    submitted = pl.col("submission_date").str.to_date()
    return {
        "DIDS001": ~modulus_11_ok(),
        "DIDS006": as_date("PERSON_BIRTH_DATE") > test,
        "DIDS012": ~pl.col("ETHNIC_CATEGORY").is_in(list(ETHNIC_CATEGORIES)),
        "DIDS014": ~pl.col("PERSON_GENDER_CODE").is_in(["0", "1", "2", "9"]),
        "DIDS021": ~pl.col("PATIENT_SOURCE_SETTING").is_in([f"0{i}" for i in range(1, 8)]),
        "DIDS027": request > received,
        "DIDS034": request > test,
        "DIDS035": report < request,
        "DIDS043": received > test,
        "DIDS048": report < test,
        "DIDS050": test.is_null(),
        "DIDS051": test > submitted,
        "DIDS056": pl.col("IMAGING_CODE_NICIP").is_null() & pl.col("IMAGING_CODE_SNOMED").is_null(),
        "DIDS057": pl.col("IMAGING_CODE_NICIP").is_not_null()
        & ~pl.col("IMAGING_CODE_NICIP").str.to_uppercase().is_in(nicip.implode()),
        "DIDS059": pl.col("IMAGING_CODE_SNOMED").is_not_null()
        & ~pl.col("IMAGING_CODE_SNOMED").is_in(snomed.implode()),
        "DIDS066": report > submitted,
        "DIDS068": ~pl.col("SITE_CODE_IMAGING").is_in(sites["site_code"].implode()),
        "DIDS071": pl.len().over("file", "SITE_CODE_IMAGING", "RADIOLOGICAL_ACCESSION_NUM") > 1,
    }


def test_same_seed_gives_the_same_bytes_and_a_month_does_not_depend_on_the_others(
    tmp_path, demo_year
):
    june = generate_submissions(tmp_path, ["2024-06"], seed=0)
    assert june.files
    year_dir = demo_year.submissions_path.parent
    for path in june.files:
        assert path.read_bytes() == (year_dir / path.name).read_bytes(), path.name
    june_manifest = june.submissions_path.read_text().splitlines()
    year_manifest = demo_year.submissions_path.read_text().splitlines()
    assert set(june_manifest) <= set(year_manifest)


def test_region_months_drawn_one_at_a_time_give_the_same_bytes(tmp_path, demo_year, monkeypatch):
    """The generator draws region-months side by side (each from its own generator);
    drawn one after another instead, a quarter's files and manifest are byte for byte
    those of the year drawn side by side."""
    from publish.demo import synth

    monkeypatch.setattr(synth, "_GENERATORS", 1)
    quarter = generate_submissions(tmp_path, DEMO_YEAR[3:6], seed=0)
    assert len(quarter.files) > 500
    year_dir = demo_year.submissions_path.parent
    for path in quarter.files:
        assert path.read_bytes() == (year_dir / path.name).read_bytes(), path.name
    year_manifest = set(demo_year.submissions_path.read_text().splitlines())
    assert set(quarter.submissions_path.read_text().splitlines()) <= year_manifest
    assert quarter.records_written == sum(
        len(path.read_bytes().splitlines()) - 1 for path in quarter.files
    )


def test_another_seed_gives_other_records(tmp_path, demo_year):
    other = generate_submissions(tmp_path, ["2024-06"], seed=1)
    year_dir = demo_year.submissions_path.parent
    assert [p.read_bytes() for p in other.files] != [
        (year_dir / p.name).read_bytes() for p in other.files
    ]


def test_files_have_the_18_columns_in_order_utf8_and_lf(demo_year):
    header = ",".join(SUBMISSION_COLUMNS).encode()
    for path in demo_year.files:
        content = path.read_bytes()
        assert content.split(b"\n", 1)[0] == header, path.name
        assert b"\r" not in content
        content.decode("utf-8")


def test_one_file_per_provider_region_month_and_a_manifest(demo_year, sites):
    manifest = pl.read_csv(demo_year.submissions_path, infer_schema=False)
    assert manifest.columns == ["file", "submission_date"]
    assert sorted(manifest["file"]) == [p.name for p in demo_year.files]
    parts = manifest.with_columns(
        pl.col("file").str.extract(r"^(.+)-(Y\d\d)-(\d{4}-\d\d)\.csv$", i).alias(name)
        for i, name in ((1, "provider_code"), (2, "region_code"), (3, "month"))
    )
    assert parts["month"].null_count() == 0
    next_month = parts["month"].str.to_date("%Y-%m").dt.offset_by("1mo").dt.strftime("%Y-%m")
    assert (parts["submission_date"] == next_month + "-15").all()
    known = sites.select("provider_code", "region_code").unique()
    assert parts.join(known, on=["provider_code", "region_code"], how="anti").height == 0


def test_every_published_provider_region_submits(demo_year, records):
    """Each provider-region of NHS England's table 1 has files; a month where the
    published cell is empty (no data submitted) has none, as in the publication."""
    provider_regions = {tuple(name.split("-")[:2]) for name in (p.name for p in demo_year.files)}
    profile = pl.read_csv(REFERENCE_DATA_DIR / "synth_profile.csv", infer_schema=False)
    assert provider_regions == set(profile.select("provider_code", "region_code").iter_rows())
    if PUBLISHED_TABLE1.exists():
        published = pl.read_csv(PUBLISHED_TABLE1, infer_schema=False).filter(
            pl.col("org_code") != "-"
        )
        assert len(provider_regions) == 202
        assert provider_regions == set(published.select("org_code", "region_code").iter_rows())
    profile_june = profile.filter(pl.col("month") == "2023-06")
    june_files = {p.name for p in demo_year.files if p.name.endswith("-2024-06.csv")}
    assert june_files == {
        f"{p}-{r}-2024-06.csv"
        for p, r in profile_june.select("provider_code", "region_code").unique().iter_rows()
    }


def test_only_the_deliberately_invalid_records_break_rules(
    demo_year, records, sites, imaging_codes
):
    breaks = records.select(
        **{code: rule.fill_null(False) for code, rule in rule_breaks(sites, imaging_codes).items()}
    )
    found = {code: count for code, count in breaks.sum().row(0, named=True).items() if count}
    assert found == demo_year.invalid_records
    assert breaks.select(pl.sum_horizontal(pl.all()).max()).item() == 1  # one rule each
    share = demo_year.invalid_total / demo_year.records_written
    assert 0.003 < share < 0.008


def test_nhs_numbers_pass_modulus_11_except_the_deliberate_ones(demo_year, records):
    failing = records.filter(~modulus_11_ok())
    assert failing.height == demo_year.invalid_records["DIDS001"]
    assert records["NHS_NUMBER"].str.contains(r"^\d{10}$").all()


def test_site_and_imaging_codes_are_in_the_shipped_references(
    demo_year, records, sites, imaging_codes
):
    unknown_sites = records.filter(~pl.col("SITE_CODE_IMAGING").is_in(sites["site_code"].implode()))
    assert unknown_sites.height == demo_year.invalid_records["DIDS068"]
    codes = imaging_codes.with_columns(pl.col("code").str.to_uppercase())
    for column, system, rule in (
        ("IMAGING_CODE_NICIP", "NICIP", "DIDS057"),
        ("IMAGING_CODE_SNOMED", "SNOMED", "DIDS059"),
    ):
        known = codes.filter(pl.col("code_system") == system)["code"]
        used = records[column].drop_nulls().str.to_uppercase()
        assert (~used.is_in(known.implode())).sum() == demo_year.invalid_records[rule]
    # Both systems, alone and together, and some lower-case NICIP.
    nicip, snomed = pl.col("IMAGING_CODE_NICIP"), pl.col("IMAGING_CODE_SNOMED")
    mix = records.select(
        (nicip.is_not_null() & snomed.is_null()).mean().alias("nicip_only"),
        (nicip.is_null() & snomed.is_not_null()).mean().alias("snomed_only"),
        (nicip.is_not_null() & snomed.is_not_null()).mean().alias("both"),
        (nicip != nicip.str.to_uppercase()).mean().alias("lower_case"),
    ).row(0, named=True)
    assert all(share > 0.15 for name, share in mix.items() if name != "lower_case")
    assert 0.002 < mix["lower_case"] < 0.02


def test_codes_cover_cancer_groups_and_interventional_with_plausible_shares(records, imaging_codes):
    lookup = imaging_codes.select(
        pl.col("code").str.to_uppercase(), "modality", "interventional", "cancer_test_group"
    )
    derived = records.with_columns(
        pl.coalesce("IMAGING_CODE_SNOMED", pl.col("IMAGING_CODE_NICIP").str.to_uppercase()).alias(
            "code"
        )
    ).join(lookup, on="code", how="inner")
    groups = derived["cancer_test_group"].drop_nulls().unique().sort().to_list()
    assert groups == sorted(imaging_codes["cancer_test_group"].drop_nulls().unique())
    chest_xray = derived.filter(pl.col("modality") == "Plain Radiography").select(
        (pl.col("cancer_test_group") == "Chest (X-ray)").fill_null(False).mean()
    )
    assert 0.2 < chest_xray.item() < 0.5
    interventional = derived.group_by("modality").agg((pl.col("interventional") == "Y").mean())
    shares = dict(interventional.iter_rows())
    assert 0.2 < shares["Fluoroscopy"] < 0.5
    assert shares["Computerized Axial Tomography"] > 0


def test_demo_volume_and_small_cells(demo_year, records, imaging_codes, sites):
    assert 100_000 <= demo_year.records_written <= 200_000
    lookup = imaging_codes.select(pl.col("code").str.to_uppercase(), "modality")
    cells = (
        records.with_columns(
            pl.coalesce(
                "IMAGING_CODE_SNOMED", pl.col("IMAGING_CODE_NICIP").str.to_uppercase()
            ).alias("code")
        )
        .join(lookup, on="code", how="inner")
        .join(sites, left_on="SITE_CODE_IMAGING", right_on="site_code", how="inner")
        .group_by("region_code", "provider_code", "modality", "file")
        .len()
    )
    small = cells.filter(pl.col("len") <= 2).height / cells.height
    middling = cells.filter(pl.col("len").is_between(3, 7)).height / cells.height
    assert 0.1 < small < 0.5 and 0.1 < middling < 0.5


def test_dates_are_in_order_with_some_missing(records):
    n = records.height
    request, received = (
        as_date("DIAGNOSTIC_TEST_REQUEST_DATE"),
        as_date("DIAG_TEST_REQUEST_REC_DATE"),
    )
    test, report = as_date("DIAGNOSTIC_TEST_DATE"), as_date("SERVICE_REPORT_DATE")
    month = pl.col("file").str.extract(r"(\d{4}-\d\d)\.csv$")
    assert records.filter(test.dt.strftime("%Y-%m") != month).height == 0
    no_request = records.filter(request.is_null() & received.is_not_null()).height / n
    no_report = records.filter(report.is_null()).height / n
    assert 0.02 < no_request < 0.04
    assert 0.01 < no_report < 0.04
    valid = records.filter(request <= test)
    assert valid.filter((received < request) | (received > test)).height == 0
    assert valid.filter(report < test).height <= records.height * 0.002


def test_patient_fields_have_valid_formats(records):
    assert records["PERSON_GENDER_CODE"].is_in(["0", "1", "2", "9"]).all()
    assert records["NHS_NUMBER_STATUS_IND"].is_in([f"0{i}" for i in range(1, 9)]).all()
    assert records["POSTCODE"].drop_nulls().str.contains(r"^[A-Z]{1,2}\d{1,2} \d[A-Z]{2}$").all()
    assert records["PRACTICE_CODE"].str.contains(r"^[A-Z]\d{5}$").all()
    assert records["REFERRER"].drop_nulls().str.contains(REFERRER_FORMAT).all()
    assert records["RADIOLOGICAL_ACCESSION_NUM"].str.len_chars().max() <= 20
    ages = (as_date("DIAGNOSTIC_TEST_DATE") - as_date("PERSON_BIRTH_DATE")).dt.total_days() / 365.25
    age = records.select(ages.alias("age"))["age"]
    assert 40 < age.median() < 75 and age.max() < 110


def test_a_site_reference_without_a_provider_skips_it(tmp_path, sites):
    only_leeds = tmp_path / "sites.csv"
    sites.filter(pl.col("provider_code") == "RR8").write_csv(only_leeds)
    result = generate_submissions(tmp_path / "out", ["2024-06"], sites_path=only_leeds)
    assert [p.name for p in result.files] == ["RR8-Y63-2024-06.csv"]
    assert len(result.skipped_provider_regions) == 201


@pytest.mark.parametrize(
    ("months", "scale"), [(["2024-6"], "demo"), (["2024-06"], "huge"), ([], "demo")]
)
def test_bad_arguments_are_refused(tmp_path, months, scale):
    with pytest.raises(ValueError):
        generate_submissions(tmp_path, months, scale=scale)
