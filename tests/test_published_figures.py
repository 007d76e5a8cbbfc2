"""Nothing published undoes the disclosure control (PUBLICATION.md section 5).

Two checks over whole publication folders, each built under did, hes and strict from
small submissions (`unlisted_numbers` runs as well on any folder, e.g. the demo under
strict: `python -c "from tests.test_published_figures import unlisted_numbers; ..."`):

1. Every number the workbooks and web pages show is a figure of the folder's CSVs (the
   tidy CSV and the data-quality CSVs, which the audit reads), so the audit's relations
   cover everything published.

   The rule, for every sheet of every workbook (openpyxl) and every HTML page:
   - a cell or table cell holding a number alone (a workbook number, or a text such as
     "1,234", "12.5", "40%", "7 [c]") is a figure: its value must be a value of one of
     the CSVs' figures (the tidy `value`, any column of the quality CSVs that holds
     numbers);
   - any other text is prose: a text equal to a text field of a CSV (a provider name,
     a provider issue's description, a file's message) is that field, not a figure;
     otherwise each number standing alone in it (not part of a code such as Y56,
     DIDS023 or RAA01, a month such as 2024-04, a date, a file name, a percentage
     sign's method constant) must be a figure, or one of the allowed non-figures:
     a year (1900-2100), a day of the month beside a month name ("1 April 2025"),
     a small whole number (0 to 13: table numbers, k and k-1, the policies' thresholds
     and rounding base, counts of months and notes), 50% (the provider issues'
     threshold), table 9's day bands ("8 to 31 days", "more than 62 days") and a note's
     worked example ("for example 3.5"). Page furniture with a number ("Table 1")
     falls under these.
   - the chart is an SVG of glyph paths: its numbers are checked in its alternative
     text, which the page carries. A year-on-year change ("+1.5") appears only when
     the previous year is in the data; none of these builds has it.
   A small count written in prose would pass as "a small whole number"; that is the
   rule's one known blind spot, and every small count of the report is in a table.

2. No file holds a per-file or per-provider-month count finer than the policy allows:
   the manifest lists files by name and SHA-256 only and England's totals as the policy
   protects England; quality/files.csv and the Files tables have no numbers at all; the
   by-provider counts and the provider issues follow the policy's cell rules; under
   strict no shown provider-month total leaves a single suppressed table 1 cell of it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from tests.conftest import build, record, write_submission
from tests.html_tables import TableReader

IDENTIFIER = "did-2024-25-provisional-2024-06"

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# a number standing alone: not inside a code, a date, a month or a file name
STANDALONE = re.compile(r"(?<![\w.\-/:])[+-]?\d[\d,]*(?:\.\d+)?%?(?![\w\-/:]|\.\d)")
FIGURE_ALONE = re.compile(r"^\s*[+-]?\d[\d,]*(?:\.\d+)?\s*%?\s*(?:\[[a-z]\])?\s*$")
DAY_BESIDE_MONTH = re.compile(rf"\b\d{{1,2}} (?:{MONTHS})\b")
# table 9's day bands ("8 to 31 days", "more than 62 days") and a note's worked example
# Prose that holds numbers which are not figures: day bands, an example, a download's
# size (of a published file, which anyone holds).
# Tables 7a, 7b, 8 and 13's bands ("366 days and over", "by 14 days", "within 7 and 14
# days") are day bands too.
FURNITURE = re.compile(
    r"\b\d+ to \d+ days\b|\bmore than \d+ days\b|for example [\d.]+|[\d.,]+ [KM]B\b"
    r"|\b\d+ days and over\b|\b(?:by|within) \d+(?: and \d+)? days\b",
    re.I,
)


def month_records(site: str, month: int, count: int, **fields: str) -> list[dict[str, str]]:
    day = f"2024-{month:02d}"
    return [
        record(
            SITE_CODE_IMAGING=site,
            DIAGNOSTIC_TEST_REQUEST_DATE=f"{day}-01",
            DIAG_TEST_REQUEST_REC_DATE=f"{day}-01",
            DIAGNOSTIC_TEST_DATE=f"{day}-10",
            SERVICE_REPORT_DATE=f"{day}-11",
            **fields,
        )
        for _ in range(count)
    ]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Three providers over a quarter, one file per provider-month, with small counts,
    a modality of a few tests, a rejected record, a warned one and a damaged file."""
    folder = tmp_path_factory.mktemp("figures") / "in"
    counts = {"RAA01": (40, 3, 25), "RBB01": (12, 30, 7), "NT4L1": (2, 15, 60)}
    for site, by_month in counts.items():
        for month, count in zip((4, 5, 6), by_month, strict=True):
            rows = month_records(site, month, count)
            rows += month_records(site, month, 2 + month % 2, IMAGING_CODE_NICIP="MBRAI")
            if site == "RAA01" and month == 5:
                rows += month_records(site, month, 1, REFERRER="Q12")  # warned
                rows += month_records(site, month, 1, PATIENT_SOURCE_SETTING="99")  # rejected
            write_submission(folder / f"{site[:3]}-2024-{month:02d}.csv", rows)
    (folder / "damaged.csv").write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module", params=["did", "hes", "strict"])
def small_build(request, inputs, tmp_path_factory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp(f"build-{request.param}")
    build([inputs], out, "--policy", request.param, "--period", "2024-06")
    return request.param, out / IDENTIFIER


# --------------------------------------------------------------------------- figures


def number(text: str) -> float:
    return float(text.replace(",", "").replace("%", "").replace("+", ""))


def csv_figures(folder: Path) -> tuple[set[float], set[str]]:
    """(every figure of the folder's CSVs, every text field of them)."""
    figures: set[float] = set()
    texts: set[str] = set()
    for path in [folder / f"{folder.name}.csv", *sorted((folder / "quality").glob("*.csv"))]:
        frame = pl.read_csv(path, infer_schema=False)
        for column in frame.columns:
            values = frame[column].drop_nulls()
            parsed = values.str.replace_all(",", "").cast(pl.Float64, strict=False)
            if path.name == f"{folder.name}.csv" and column != "value":
                texts.update(values.to_list())  # codes, names, periods: not figures
            elif parsed.null_count() == 0 and values.len():
                figures.update(parsed.to_list())
            else:
                texts.update(" ".join(v.split()) for v in values.to_list())
    return figures, texts


class PageText(TableReader):
    """Text of a page: (text, in a table cell) pairs, and the images' alternative text."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[tuple[str, bool]] = []
        self.cell_depth = 0
        self.skip = 0
        self.in_svg = 0
        self.buffer: list[str] = []

    def start(self, tag, attrs):
        # a chart's own text is its axes' scale: its figures are in the table after it
        if tag in ("style", "script", "title") or (tag == "text" and self.in_svg):
            self.skip += 1
        if tag == "svg":
            self.in_svg += 1
        if tag in ("td", "th"):
            self.flush()
            self.cell_depth += 1
        if tag == "img":
            self.parts.append((dict(attrs).get("alt") or "", False))

    def end(self, tag):
        if tag in ("style", "script", "title") or (tag == "text" and self.in_svg):
            self.skip -= 1
        if tag == "svg":
            self.in_svg -= 1
        if tag in ("td", "th"):
            self.flush()
            self.cell_depth -= 1
        if tag in ("p", "li", "h1", "h2", "h3", "caption", "a", "dd", "dt"):
            self.flush()

    def handle_data(self, data):
        if not self.skip:
            self.buffer.append(data)

    def flush(self) -> None:
        text = " ".join("".join(self.buffer).split())
        if text:
            self.parts.append((text, self.cell_depth > 0))
        self.buffer = []


def shown_texts(folder: Path) -> list[tuple[str, str, object]]:
    """(where, kind, content) of every workbook cell and page text of the folder."""
    shown: list[tuple[str, str, object]] = []
    for path in sorted(folder.rglob("*.xlsx")):
        workbook = openpyxl.load_workbook(path, read_only=True)
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.value is None:
                        continue
                    kind = "number" if isinstance(cell.value, int | float) else "text"
                    shown.append((f"{path.name}!{sheet.title}!{cell.coordinate}", kind, cell.value))
    for path in sorted(folder.rglob("*.html")):
        page = PageText()
        page.feed(path.read_text(encoding="utf-8"))
        page.flush()
        for text, in_cell in page.parts:
            shown.append((str(path.relative_to(folder)), "cell" if in_cell else "text", text))
    return shown


def allowed_in_prose(token: str, text: str) -> bool:
    value = number(token)
    if token.endswith("%"):
        return value == 50
    if value.is_integer() and 1900 <= value <= 2100:
        return True
    if value.is_integer() and 0 <= value <= 13:
        return True
    if any(token in m.group(0) for m in FURNITURE.finditer(text)):
        return True
    return any(m.group(0).startswith(token) for m in DAY_BESIDE_MONTH.finditer(text))


def unlisted_numbers(folder: Path) -> list[str]:
    figures, texts = csv_figures(folder)
    problems = []
    for where, kind, content in shown_texts(folder):
        if kind == "number":
            if float(content) not in figures:
                problems.append(f"{where}: {content}")
            continue
        text = " ".join(str(content).split())
        if kind in ("cell", "text") and FIGURE_ALONE.match(text):
            value = number(text.split("[")[0].strip())
            if value not in figures and not (kind == "text" and allowed_in_prose(text, text)):
                problems.append(f"{where}: {text}")
            continue
        if text in texts:
            continue
        for match in STANDALONE.finditer(text):
            token = match.group(0)
            if number(token) not in figures and not allowed_in_prose(token, text):
                problems.append(f"{where}: {token} in {text[:120]!r}")
    return problems


def test_every_number_shown_is_a_figure_of_the_csvs(small_build):
    _, folder = small_build
    assert unlisted_numbers(folder) == []


def test_the_check_finds_a_number_the_csvs_do_not_hold(small_build, tmp_path):
    """Not vacuous: a page showing a figure of no CSV is caught."""
    _, folder = small_build
    copy = tmp_path / folder.name
    import shutil

    shutil.copytree(folder, copy)
    page = copy / "quality" / "index.html"
    page.write_text(
        page.read_text(encoding="utf-8").replace("</main>", "<p>12,347 records</p></main>"),
        encoding="utf-8",
    )
    assert [p for p in unlisted_numbers(copy) if "12,347" in p]


# --------------------------------------------------------------------------- finer counts


def restricted_of(folder: Path) -> Path:
    return folder.parent / f"{folder.name}.restricted"


def policy_allows(policy: str, level: str, value: float) -> bool:
    """Whether `value` can be a count shown at `level` under `policy`."""
    if value == 0:
        return True
    if policy == "strict":
        return value >= 10
    if policy == "hes":
        return level == "england" or (value >= 8 and value % 5 == 0)
    return value % 5 == 0 and (level == "england" or value >= 3)


def test_no_file_holds_a_count_finer_than_the_policy(small_build):
    policy, folder = small_build
    restricted = json.loads((restricted_of(folder) / "manifest.json").read_text())
    per_file = {e["file"]: e for e in restricted["inputs"]}
    assert any(0 < e["records_accepted"] < 10 for e in per_file.values())  # small files exist

    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["inputs"]:
        assert set(entry) == {"file", "sha256", "submission_date", "status", "message"}
        assert not re.search(r"\d+ (malformed )?records?", entry["message"] or "")
    totals = {k: v for k, v in manifest["totals"].items() if k != "geography"}
    assert manifest["totals"]["geography"] == "England"
    for key, value in totals.items():
        true = restricted["totals"][key]
        if value is None:  # suppressed: strict's primary (1 to k-1) or secondary cells
            assert policy == "strict" and true > 0
        elif policy == "did":
            assert value % 5 == 0 and abs(value - true) <= 2
        else:
            assert value == true and (policy == "hes" or value == 0 or value >= 10)

    files = pl.read_csv(folder / "quality" / "files.csv", infer_schema=False)
    assert files.columns == [
        "source_file",
        "status",
        "submission_date",
        "submission_date_rules_applied",
        "message",
    ]
    assert sorted(files["source_file"]) == sorted(per_file)

    by_provider = pl.read_csv(
        folder / "quality" / "data-quality-by-provider.csv", infer_schema=False
    )
    shown = by_provider.filter(pl.col("value").is_not_null())
    for level, value in zip(shown["geography_level"], shown["value"].cast(pl.Float64), strict=True):
        assert policy_allows(policy, level, value), (policy, level, value)
    issues = pl.read_csv(folder / "quality" / "provider-issues.csv", infer_schema=False)
    for column in ("records_received", "records_counted"):
        for value in issues[column].drop_nulls().cast(pl.Float64):
            assert policy_allows(policy, "provider", value), (column, value)

    # the workbook and the page of the report show no count of a file
    workbook = openpyxl.load_workbook(folder / "quality" / "data-quality.xlsx", read_only=True)
    files_sheet = workbook["Files"]
    assert not [
        c.value for r in files_sheet.iter_rows() for c in r if isinstance(c.value, int | float)
    ]
    # the files' table (on a page of its own) has no column of counts and no number
    files_page = PageText()
    files_page.feed((folder / "quality" / "files.html").read_text(encoding="utf-8"))
    files_page.flush()
    cells = [text for text, in_cell in files_page.parts if in_cell]
    assert set(per_file) <= set(cells)
    assert not [c for c in cells if FIGURE_ALONE.match(c)]
    html = (folder / "quality" / "files.html").read_text(encoding="utf-8")
    assert "figures" not in html.split("<table")[1].split(">")[0]  # no column of figures

    # every CSV of the folder: no per-file count (a file's name beside a number)
    for path in folder.rglob("*.csv"):
        text = path.read_text(encoding="utf-8")
        for name, entry in per_file.items():
            for line in (line for line in text.splitlines() if name in line):
                numbers = {number(t) for t in STANDALONE.findall(line.replace(name, ""))}
                assert not numbers & {entry["records_received"], entry["records_accepted"]} - {0}, (
                    path.name,
                    line,
                )


@pytest.mark.parametrize("small_build", ["strict"], indirect=True)
def test_strict_links_the_report_to_table_1(small_build):
    """Under strict a shown provider-month total never leaves one hidden modality: the
    report's records counted are the sum of the provider-month's table 1 cells."""
    _, folder = small_build
    tidy = pl.read_csv(folder / f"{folder.name}.csv", infer_schema=False).filter(
        (pl.col("table") == "1")
        & (pl.col("geography_level") == "provider")
        & ~pl.col("period").str.contains("/")
    )
    hidden = (
        tidy.group_by("region_code", "provider_code", "period")
        .agg((pl.col("marker") == "c").sum().alias("hidden"))
        .rename({"period": "month"})
    )
    by_provider = pl.read_csv(
        folder / "quality" / "data-quality-by-provider.csv", infer_schema=False
    )
    counted = by_provider.filter(
        (pl.col("geography_level") == "provider") & (pl.col("measure") == "count_records_counted")
    )
    joined = counted.join(hidden, on=["region_code", "provider_code", "month"])
    assert joined.height > 0
    assert joined.filter(pl.col("hidden") > 0).height > 0  # a provider-month with a [c]
    lone = joined.filter(pl.col("value").is_not_null() & (pl.col("hidden") == 1))
    assert lone.is_empty(), lone


def test_a_strict_build_that_fails_its_audit_exits_1_without_a_traceback(
    inputs, tmp_path, monkeypatch
):
    """A failed audit is a failed check (exit 1), said in one line; nothing published."""
    import publish.pipeline as pipeline
    from publish.disclosure.audit import AuditReport

    real = pipeline.audit_publication

    def failing(*args, **kwargs) -> AuditReport:
        from dataclasses import replace

        report = real(*args, **kwargs)
        return replace(report, passed=False, summary="Disclosure audit (strict): FAILED.")

    monkeypatch.setattr(pipeline, "audit_publication", failing)
    result = build([inputs], tmp_path, "--policy", "strict", "--period", "2024-06", expect=1)
    assert "Traceback" not in result.output
    assert "not published: Disclosure audit (strict): FAILED." in result.output
    assert not (tmp_path / IDENTIFIER).exists()
