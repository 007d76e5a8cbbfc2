"""National-scale benchmark: a year of England's imaging, measured against floors.

    python benchmarks/run_benchmarks.py [--data benchmarks/data/national] [--months 2024-04:2025-03]

Generates the national synthetic year once (`did-publish synth --scale national`, one
CSV per provider-month as submitted) and times, in one run and each in a fresh process
(so that peak memory is the step's own):

1. parse floor: DuckDB counting the rows of the same CSV files read as text;
2. our ingest: read, validate, derive and keep the records in a new record store;
3. aggregate floor: DuckDB counting stored records per site, code and month;
4. our tables (did policy, nothing written) from the store; then the build with every
   output rendered (CSV, datapackage, workbook, HTML, quality report, manifest);
5. plain pandas tables 1-3 from the same store (benchmarks/pandas_tables.py);
6. adding the last month to a store holding the other eleven, then rebuilding, against
   the same build from an empty store;
7. the DuckDB and Spark engines side by side on one month;
   beside it, the month floor: DuckDB grouping the same month's CSV files by site and
   month, read as text;
8. XML against CSV: ingest (read, validate, derive, store) of the same national month
   written both ways (`did-publish synth --format xml`, same seed: the same records),
   records per second and peak memory of each. `--only xml` runs this step alone and
   writes `benchmarks/RESULTS-xml.md`;
9. the demo (`did-publish build`, every output, then `--policy strict`, stopped after
   `--strict-limit` seconds and reported as not finished), each a fresh process of the
   command line, and the size of the demo's HTML: its largest page and the whole
   `html/` folder. `--only demo` runs this step alone (a few minutes) and writes
   `benchmarks/RESULTS-demo.md`, and puts its rows, with their goals, in place of step
   9's in `benchmarks/RESULTS.md` (the national figures there are left as they were).

Writes benchmarks/RESULTS.md with the figures, each beside its goal, and the machine.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STEP_CODE = {
    "parse_floor": """
import duckdb
files = [str(p) for p in config.inputs]
con = duckdb.connect()
con.execute("SET memory_limit = '4GB'")
rows = con.sql("SELECT count(*) FROM read_csv($f, all_varchar = true, header = true)", params={{"f": files}}).fetchall()[0][0]
result["rows"] = rows
""",
    "ingest": """
from publish.pipeline import build_session, ingest_and_validate
from publish.reference import ReferenceFiles, load_reference_data
with build_session(config) as (con, work_dir):
    load_reference_data(con, ReferenceFiles(config.sites, config.imaging_codes))
    files = ingest_and_validate(con, config, work_dir)
    result["files"] = len(files)
    result["records"] = con.sql("SELECT sum(n) FROM counted_cube").fetchall()[0][0]
    result["received"] = sum(f.records_received for f in files)
""",
    "month_floor": """
import duckdb
files = [str(p) for p in config.inputs]
con = duckdb.connect()
con.execute("SET memory_limit = '4GB'")
groups, rows = con.sql(
    "SELECT count(*), sum(n) FROM (SELECT SITE_CODE_IMAGING, substr(DIAGNOSTIC_TEST_DATE, 1, 7), "
    "count(*) AS n FROM read_csv($f, all_varchar = true, header = true) GROUP BY ALL)",
    params={{"f": files}}).fetchall()[0]
result["groups"], result["rows"] = groups, int(rows)
""",
    "aggregate_floor": """
import duckdb
con = duckdb.connect()
con.execute("SET memory_limit = '4GB'")
result["cells"] = con.sql(
    "SELECT count(*) FROM (SELECT provider_code, modality, test_month, count(*) "
    "FROM read_parquet('{store}/derived/*.parquet') GROUP BY ALL)").fetchall()[0][0]
""",
    "tables": """
from publish.pipeline import build_session, compute_publication
with build_session(config) as (con, work_dir):
    publication, files, outcomes, _report, _series = compute_publication(con, config, work_dir)
result["tidy_rows"] = publication.tidy.height
""",
    "build": """
from publish.pipeline import build_publication
build = build_publication(config)
result["tidy_rows"] = build.publication.tidy.height
""",
    "pandas": """
import sys
sys.path.insert(0, "{root}/benchmarks")
from pathlib import Path
from pandas_tables import tables_1_to_3
result["cells"] = len(tables_1_to_3(Path("{store}")))
""",
}

PRELUDE = """
import json, resource, time
from pathlib import Path
from dataclasses import replace
from publish.config import BuildConfig
config = BuildConfig(inputs=tuple(Path(p) for p in json.loads(Path("{inputs}").read_text())), submissions=Path("{data}/submissions.csv"),
                     store={store_value}, out_dir=Path("{out}"), policy="{policy}", engine="{engine}")
result = {{}}
started = time.perf_counter()
"""
EPILOGUE = """
result["seconds"] = time.perf_counter() - started
result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps(result))
"""


def run_step(step: str, inputs: list[str], **values) -> dict:
    listed = Path(values["out"]).parent / f"inputs-{len(inputs)}.json"
    listed.write_text(json.dumps(inputs), encoding="utf-8")
    values.setdefault("engine", "duckdb")
    store_value = f'Path("{values["store"]}")' if values["store"] else "None"
    code = (PRELUDE + STEP_CODE[step] + EPILOGUE).format(
        root=ROOT, inputs=listed, store_value=store_value, **values
    )
    started = time.perf_counter()
    log = Path(values["out"]).parent / f"{step}.log"
    with log.open("w") as output:  # files, not pipes: a chatty step cannot block
        process = subprocess.Popen(
            [sys.executable, "-c", code], stdout=output, stderr=output, cwd=ROOT
        )
        peak, _ = watch_memory(process)
    wall = time.perf_counter() - started
    stdout = stderr = log.read_text(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{stderr[-3000:]}")
    line = next(text for text in stdout.splitlines() if text.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["wall_seconds"] = wall
    # The whole process tree (Spark's JVM is a child of the step), sampled every 0.1 s.
    result["peak_rss_mb"] = max(result["peak_rss_mb"], peak)
    print(f"{step}: {result}", flush=True)
    return result


def run_command(name: str, argv: list[str], work: Path, limit: float | None = None) -> dict:
    """A command line as a fresh process: its wall time and the peak memory of its tree.

    Past `limit` seconds the command's process group (it is started in a session of its
    own) is stopped and the result says so (`"finished": false`): a step that runs for
    an hour is reported as not finished in the limit, not waited for."""
    log = work / f"{name}.log"
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(
            argv, stdout=output, stderr=output, cwd=ROOT, start_new_session=True
        )
        peak, finished = watch_memory(process, limit)
    wall = time.perf_counter() - started
    if finished and process.returncode != 0:
        raise SystemExit(f"{name} failed:\n{log.read_text(errors='replace')[-3000:]}")
    result = {"wall_seconds": wall, "peak_rss_mb": peak, "finished": finished}
    if not finished:
        result["limit_seconds"] = limit
    print(f"{name}: {result}", flush=True)
    return result


def site_sizes(publication: Path) -> dict:
    """The HTML a build wrote: the site (`html/`) and its largest page, and the largest
    HTML file anywhere in the publication (the data-quality report is one)."""
    site = [p for p in (publication / "html").rglob("*") if p.is_file()]
    pages = [p for p in site if p.suffix == ".html"]
    anywhere = [p for p in publication.rglob("*.html") if p.is_file()]
    largest = max(pages, key=lambda p: p.stat().st_size)
    largest_anywhere = max(anywhere, key=lambda p: p.stat().st_size)
    return {
        "site_bytes": sum(p.stat().st_size for p in site),
        "site_files": len(site),
        "pages": len(pages),
        "largest_page_bytes": largest.stat().st_size,
        "largest_page": str(largest.relative_to(publication)),
        "largest_html_bytes": largest_anywhere.stat().st_size,
        "largest_html": str(largest_anywhere.relative_to(publication)),
    }


def demo_builds(measure_command, work: Path, strict_limit: float | None = None) -> None:
    """Step 9: the demo as a user runs it (every output), then under --policy strict
    (stopped after `strict_limit` seconds)."""
    command = str(Path(sys.executable).parent / "did-publish")
    out = work / "demo_build"
    measure_command("demo_build", [command, "build", "--out", str(out)], out)
    # Any option but --out makes `build` ask for inputs, so the strict demo is the same
    # synthetic files (`synth`'s defaults are the demo's) built with --policy strict,
    # their generation timed too, as in the demo.
    out = work / "demo_strict_build"
    data = work / "demo-data"
    script = (
        f"rm -rf '{data}' && '{command}' synth --out '{data}' && '{command}' build '{data}' "
        f"--submissions '{data}/submissions.csv' --policy strict --out '{out}'"
    )
    measure_command("demo_strict_build", ["sh", "-c", script], out, strict_limit)


def seconds_text(result: dict) -> str:
    """A step's seconds, or that it did not finish in its limit."""
    if result.get("finished", True):
        return f"{result['wall_seconds']:.1f}"
    return f"did not finish in {result['limit_seconds']:.0f} s"


def demo_lines(results: dict) -> list[str]:
    """The demo's rows: what was measured and each goal of issue 17 beside it."""
    did, strict = results["demo_build"], results["demo_strict_build"]
    site = did["site"]
    return [
        "### 9. The demo (`did-publish build`, about 177,000 records, every output)",
        "",
        "| step | seconds | peak memory (MB) |",
        "|---|---:|---:|",
        f"| 9a. demo build, did policy, every output | {did['wall_seconds']:.1f} | "
        f"{did['peak_rss_mb']:.0f} |",
        f"| 9b. demo build, `--policy strict`, every output | {seconds_text(strict)} | "
        f"{strict['peak_rss_mb']:.0f} |",
        "",
        f"The did demo's site: {site['pages']} pages, {site['site_files']} files, "
        f"{site['site_bytes'] / 1e6:.1f} MB; its largest page `{site['largest_page']}` "
        f"{site['largest_page_bytes'] / 1e3:.0f} kB. Largest HTML file of the publication: "
        f"`{site['largest_html']}`, {site['largest_html_bytes'] / 1e3:.0f} kB.",
    ]


def demo_goals(results: dict) -> list[tuple[str, float | str, float, str]]:
    """Step 9's goals (issue 17); strict, when stopped at its limit, is a lower bound."""
    did, strict = results["demo_build"], results["demo_strict_build"]
    site = did["site"]
    strict_ratio: float | str = strict["wall_seconds"] / did["wall_seconds"]
    if not strict.get("finished", True):
        strict_ratio = f"> {strict_ratio:.2f} (did not finish in {strict['limit_seconds']:.0f} s)"
    return [
        ("Demo build, every output (seconds)", did["wall_seconds"], 15, "<="),
        ("Demo under --policy strict / the did demo build", strict_ratio, 2, "<="),
        ("Largest page of the demo site, html/ (kB)", site["largest_page_bytes"] / 1e3, 500, "<="),
        (
            "Largest HTML page of the demo publication, quality report included (kB)",
            site["largest_html_bytes"] / 1e3,
            500,
            "<=",
        ),
        ("Demo site, html/ (MB)", site["site_bytes"] / 1e6, 8, "<="),
    ]


def goal_rows(goals: list[tuple[str, float | str, float, str]]) -> list[str]:
    """The goals table; a measured text (a step stopped at its limit) is a goal missed."""
    lines = ["| goal | measured | target | met |", "|---|---:|---:|---|"]
    for label, value, target, sense in goals:
        if isinstance(value, str):
            met, shown = False, value
        else:
            met = value <= target if sense == "<=" else value >= target
            shown = f"{value:.2f}"
        lines.append(f"| {label} | {shown} | {sense} {target:g} | {'yes' if met else 'no'} |")
    return lines


def replace_demo_rows(results_md: str, section: list[str], goals: list[str]) -> str:
    """RESULTS.md with step 9's goal rows and its section replaced by a new run's (the
    rest, the national figures, as they were). A goal row is matched by its label; the
    section runs from its heading to the next heading."""
    lines = results_md.split("\n")
    new_goals = {row.split(" | ")[0]: row for row in goals[2:]}
    lines = [new_goals.get(line.split(" | ")[0], line) for line in lines]
    start = next(i for i, line in enumerate(lines) if line.startswith("### 9. The demo"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return "\n".join([*lines[:start], *section, "", *lines[end:]])


def tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        sizes[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return sum(sizes.get(pid, 0) for pid in tree) / 2**20


def watch_memory(process: subprocess.Popen, limit: float | None = None) -> tuple[float, bool]:
    """(peak resident memory of the process tree, whether it finished): until it exits
    (stdout read after), or until `limit` seconds, when its process group is stopped."""
    import threading

    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.1):
            peak = max(peak, tree_rss_mb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    finished = True
    try:
        process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        finished = False
        os.killpg(process.pid, signal.SIGTERM)  # the group of the command started here
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    done.set()
    sampler.join()
    return peak, finished


def month_files(data: Path, months: list[str], suffix: str = ".csv") -> list[str]:
    return sorted(
        str(p)
        for p in data.glob(f"*{suffix}")
        if p.name != "submissions.csv" and p.stem[-7:] in months
    )


def synthesise(out: Path, months: str, file_format: str = "csv") -> None:
    """The national synthetic data, once (seed 1: the same records in either format)."""
    if (out / "submissions.csv").exists():
        return
    started = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).parent / "did-publish"),
            "synth",
            "--out",
            str(out),
            "--months",
            months,
            "--scale",
            "national",
            "--seed",
            "1",
            "--format",
            file_format,
        ],
        check=True,
        cwd=ROOT,
    )
    print(f"synth {file_format}: {time.perf_counter() - started:.0f} s", flush=True)


def xml_against_csv(args, measure, work: Path) -> list[str]:
    """Step 8: the same month ingested from CSV and from XML, each into a new store."""
    from publish.cli import parse_month_range

    months = parse_month_range(args.xml_months)
    span = f"{months[0]}:{months[-1]}"
    csv_data = args.data.with_name(f"{args.data.name}-csv-{months[0]}_{months[-1]}")
    xml_data = args.data.with_name(f"{args.data.name}-xml-{months[0]}_{months[-1]}")
    if (args.data / "submissions.csv").exists():
        csv_data = args.data  # the year already generated holds the month
    else:
        synthesise(csv_data, span, "csv")
    synthesise(xml_data, span, "xml")
    for file_format, data in (("csv", csv_data), ("xml", xml_data)):
        store = work / f"{file_format}-month-store"
        if f"{file_format}_month_ingest" not in measure.results:
            shutil.rmtree(store, ignore_errors=True)
        measure(
            f"{file_format}_month_ingest",
            "ingest",
            month_files(data, months, f".{file_format}"),
            store=store,
            data=data,
        )
    return xml_lines(measure.results, months, csv_data, xml_data)


def xml_lines(results: dict, months: list[str], csv_data: Path, xml_data: Path) -> list[str]:
    def size(data: Path, suffix: str) -> float:
        return sum(Path(p).stat().st_size for p in month_files(data, months, suffix)) / 2**30

    rows = []
    for file_format, data in (("CSV", csv_data), ("XML", xml_data)):
        result = results[f"{file_format.lower()}_month_ingest"]
        received = result["received"]
        rows.append(
            (file_format, size(data, f".{file_format.lower()}"), received, result["wall_seconds"],
             received / result["wall_seconds"], result["peak_rss_mb"])
        )  # fmt: skip
    ratio = rows[1][4] / rows[0][4]
    span = f"{months[0]} to {months[-1]}"
    return [
        f"### 8. XML against CSV: ingest of the same national month ({span})",
        "",
        "Read, validate, derive and store, each into a new record store, in one process each.",
        "",
        "| input | GB on disk | records received | seconds | records per second | peak memory (MB) |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| {name} | {gb:.2f} | {n:,} | {sec:.1f} | {rate:,.0f} | {mem:.0f} |"
            for name, gb, n, sec, rate, mem in rows
        ],
        "",
        "| goal | measured | target | met |",
        "|---|---:|---:|---|",
        f"| XML at least 1/3 of CSV's records per second | {ratio:.2f} | 0.33 | "
        f"{'yes' if ratio >= 1 / 3 else 'no'} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data" / "national")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "data" / "work")
    parser.add_argument("--months", default="2024-04:2025-03")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="Keep the work folder and the steps already measured in it (results.json).",
    )
    parser.add_argument(
        "--spark-months",
        default=None,
        help="Months built on Spark local mode and on DuckDB side by side (default: the "
        "last month; 'none' to leave Spark out). A year on Spark local mode takes an hour.",
    )
    parser.add_argument(
        "--xml-months",
        default=None,
        help="Months ingested from XML and from CSV side by side (default: the last month; "
        "'none' to leave it out). A national month of XML is about 3.5 GB.",
    )
    parser.add_argument(
        "--strict-limit",
        type=float,
        default=900,
        help="Seconds the demo under --policy strict may take before it is stopped and "
        "reported as not finished (default 900).",
    )
    parser.add_argument(
        "--only",
        choices=["xml", "demo"],
        default=None,
        help="Run only step 8 (XML against CSV) and write benchmarks/RESULTS-xml.md, or "
        "only step 9 (the demo) and write benchmarks/RESULTS-demo.md.",
    )
    args = parser.parse_args()
    from publish.cli import parse_month_range

    months = parse_month_range(args.months)
    args.xml_months = args.xml_months or months[-1]
    if args.only:
        work = args.work.with_name(f"{args.work.name}-{args.only}")
        saved = work / "results.json"
        if not args.resume:
            shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        results = json.loads(saved.read_text()) if saved.exists() else {}

        def measure_alone(name: str, step: str, inputs: list[str], **values) -> None:
            if name not in results:
                results[name] = run_step(
                    step, inputs=inputs, **{"out": work / "out", "policy": "did"} | values
                )
                saved.write_text(json.dumps(results, indent=1), encoding="utf-8")

        measure_alone.results = results
        if args.only == "xml":
            lines = xml_against_csv(args, measure_alone, work)
        else:
            demo_builds(command_measurer(results, saved), work, args.strict_limit)
            section = [*demo_lines(results), "", demo_run_line()]
            goals = goal_rows(demo_goals(results))
            lines = [*section, "", *goals]
            overall = ROOT / "benchmarks" / "RESULTS.md"
            overall.write_text(
                replace_demo_rows(overall.read_text(encoding="utf-8"), section, goals),
                encoding="utf-8",
            )
        text = "\n".join([f"# Benchmark results: {args.only}", "", machine_line(), "", *lines])
        name = f"RESULTS-{args.only}.md"
        (ROOT / "benchmarks" / name).write_text(text + "\n", encoding="utf-8")
        print(text)
        return
    synthesise(args.data, args.months)
    saved = args.work / "results.json"
    if not args.resume:
        shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True, exist_ok=True)
    results = json.loads(saved.read_text()) if saved.exists() else {}
    all_files = month_files(args.data, months)
    common = {"data": args.data, "out": args.work / "out", "policy": "did"}
    store = args.work / "store"
    scratch_store = args.work / "scratch-store"

    def measure(name: str, step: str, inputs: list[str], **values) -> None:
        if name not in results:
            results[name] = run_step(step, inputs=inputs, **common | values)
            saved.write_text(json.dumps(results, indent=1), encoding="utf-8")

    measure.results = results

    measure("parse_floor", "parse_floor", all_files, store=store)
    measure("ingest", "ingest", all_files, store=store)
    measure("aggregate_floor", "aggregate_floor", all_files, store=store)
    measure("tables", "tables", all_files, store=store)
    measure("build", "build", all_files, store=store)
    measure("pandas", "pandas", all_files, store=store)
    if "scratch_build" not in results:
        shutil.rmtree(scratch_store, ignore_errors=True)
    measure("scratch_build", "build", all_files, store=scratch_store)
    if "add_month_build" not in results:
        shutil.rmtree(scratch_store, ignore_errors=True)
        run_step("build", inputs=month_files(args.data, months[:-1]), store=scratch_store, **common)
    measure("add_month_build", "build", all_files, store=scratch_store)
    last_month = month_files(args.data, months[-1:])
    measure("month_floor", "month_floor", last_month, store="")
    measure("duckdb_engine", "build", last_month, store="")
    results["month"] = months[-1]
    if args.spark_months != "none":
        spark_months = parse_month_range(args.spark_months) if args.spark_months else months[-1:]
        spark_files = month_files(args.data, spark_months)
        engine_step = "duckdb_engine" if spark_months == months[-1:] else "duckdb_spark_months"
        measure(engine_step, "build", spark_files, store="")
        measure("spark_engine", "build", spark_files, store="", engine="spark")
        results["spark_months"] = spark_months
    extra = [] if args.xml_months == "none" else xml_against_csv(args, measure, args.work)
    demo_builds(command_measurer(results, saved), args.work, args.strict_limit)
    write_results(results, all_files, months, extra)


def command_measurer(results: dict, saved: Path):
    """Measures a command line once (kept in results.json), with the site's sizes."""

    def measure_command(name: str, argv: list[str], out: Path, limit: float | None = None) -> None:
        if name in results:
            return
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        results[name] = run_command(name, argv, out, limit)
        publications = [p for p in out.iterdir() if (p / "html").is_dir()]
        if publications:
            results[name]["site"] = site_sizes(publications[0])
        saved.write_text(json.dumps(results, indent=1), encoding="utf-8")

    return measure_command


def demo_run_line() -> str:
    """When and on what step 9 was measured alone (`--only demo`), and the machine."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return (
        f"Step 9 measured alone (`python benchmarks/run_benchmarks.py --only demo`) on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit or 'unknown'}. "
        + machine_line()
    )


def machine_line() -> str:
    load = os.getloadavg()
    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}; load average at the end {load[0]:.1f}."
    )


STEP_NAMES = {
    "parse_floor": "1. parse floor (DuckDB count of the CSV as text)",
    "ingest": "2. our ingest (read, validate, derive, store)",
    "aggregate_floor": "3. aggregate floor (DuckDB count per provider-modality-month in the store)",
    "tables": "4a. our tables, did policy, nothing written (from the store)",
    "build": "4b. our build, every output rendered (from the store)",
    "pandas": "5. plain pandas tables 1-3 from the store",
    "scratch_build": "6a. full build from an empty store",
    "add_month_build": "6b. add the last month to a store holding the earlier month(s), rebuild",
}


def write_results(
    results: dict, files: list[str], months: list[str], extra: list[str] | None = None
) -> None:
    spark_months = results.pop("spark_months", None)
    month = results.pop("month", months[-1])
    demo = {k: results.pop(k) for k in ("demo_build", "demo_strict_build")}
    results = {k: v for k, v in results.items() if not k.endswith("_month_ingest")}
    r = {k: v["wall_seconds"] for k, v in results.items()}
    mem = {k: v["peak_rss_mb"] for k, v in results.items()}
    records = results["parse_floor"]["rows"]
    lines = [
        "# Benchmark results",
        "",
        machine_line(),
        f"Input: {len(files)} CSV files, {records:,} records, months {months[0]} to {months[-1]} "
        "(`did-publish synth --scale national --seed 1`).",
        "Command: `python benchmarks/run_benchmarks.py`. Each step runs in its own process;",
        "seconds are wall time of the process, memory the peak resident memory of its whole "
        "process tree (Spark's JVM included), sampled every 0.1 s.",
        "",
        "| step | seconds | peak memory (MB) |",
        "|---|---:|---:|",
    ]
    names = dict(STEP_NAMES)
    names["month_floor"] = (
        f"7a. month floor: DuckDB grouping the CSV of {month} by site and month, as text"
    )
    names["duckdb_engine"] = f"7b. DuckDB engine: build of {month}, no store, every output"
    if spark_months:
        span = f"{spark_months[0]} to {spark_months[-1]}"
        if "duckdb_spark_months" in results:
            names["duckdb_spark_months"] = f"7c. DuckDB engine: build of {span}, no store"
        names["spark_engine"] = f"7d. Spark local mode (--engine spark): the same build of {span}"
    for key, label in names.items():
        if key in r:
            lines.append(f"| {label} | {r[key]:.1f} | {mem[key]:.0f} |")
    national = ("parse_floor", "ingest", "aggregate_floor", "tables", "build")
    national += ("scratch_build", "add_month_build", "duckdb_engine")
    goals = [
        ("Ingest / the parse floor, same run", r["ingest"] / r["parse_floor"], 3, "<="),
        ("Tables (nothing written) / the aggregate floor", r["tables"] / r["aggregate_floor"], 3,
         "<="),
        ("Plain pandas tables 1-3 / our tables", r["pandas"] / r["tables"], 15, ">="),
        ("Full build of the year from an empty store (seconds)", r["scratch_build"], 120, "<="),
        (
            f"Build of {month} / (3 x the month floor + 30 s)",
            r["duckdb_engine"] / (3 * r["month_floor"] + 30),
            1,
            "<=",
        ),
        *demo_goals(demo),
        ("Peak memory of the year (MB, steps 1-6)", max(mem[k] for k in national[:7]), 3072,
         "<="),
        ("Adding a month / a scratch build", r["add_month_build"] / r["scratch_build"], 0.2, "<="),
    ]  # fmt: skip
    lines += ["", *goal_rows(goals)]
    lines += ["", *demo_lines(demo)]
    if extra:
        lines += ["", *extra]
    (ROOT / "benchmarks" / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    main()
