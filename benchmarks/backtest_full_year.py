"""Back test of the full year: every provider of NHS England's 2023-24 DID tables.

Generates record-level submissions at published volumes for all providers (about 47
million counted records, plus invalid records and resubmissions; see
`tests/backtest/generate.py`), builds them with the real command line
(`did-publish build ... --policy did --status final --period 2024-03`), compares every
published provider cell of tables 1, 2, 3 and 11 with ours (`tests/backtest/compare.py`)
and checks the quarantine against the records made invalid. Prints the times, the
number of cells compared and the mismatches; exits 1 if any.

    python benchmarks/backtest_full_year.py [--out /tmp/did-backtest-full]
        [--format parquet|csv] [--providers NT4,RR8] [--memory-limit 12GB] [--reuse]

Parquet (the default) keeps the files small (the CSV of the year is about 8 GB) and is
a submission format of INPUT.md like CSV; `--format csv` tests the CSV reader at scale.
`--reuse` skips generation when the folder already holds a generated year.

Measured on 2 shared CPUs and 23 GB of RAM: generation 9.5 minutes (47.3 million
records in 4,618 Parquet files, 1.1 GB); build 23 minutes with `--memory-limit 12GB`
(30 minutes with the default 4GB). The build's DuckDB spills to `.tmp/` in its working
directory (here the `--out` folder): about 23 GB at 12GB, 30 GB at 4GB, so leave that
much disk free. Result: 54,120 published provider cells compared (tables 1, 2 and 3:
14,760 each; table 11: 9,840), 0 mismatches; the quarantine holds exactly the 121,424
records made invalid.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.backtest.compare import check_rejections, compare  # noqa: E402
from tests.backtest.generate import DEFAULT_PUBLISHED, PERIOD, generate  # noqa: E402

IDENTIFIER = f"did-2023-24-final-{PERIOD}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/did-backtest-full"))
    parser.add_argument("--published", type=Path, default=DEFAULT_PUBLISHED)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--providers", help="comma-separated org codes (default: all)")
    parser.add_argument("--memory-limit", help="DuckDB memory limit of the build, e.g. 12GB")
    parser.add_argument("--seed", type=int, default=2324)
    parser.add_argument("--reuse", action="store_true", help="reuse generated files in --out")
    args = parser.parse_args(argv)
    providers = args.providers.split(",") if args.providers else None
    args.out = args.out.resolve()
    generated_dir = args.out / "generated"
    figures: dict = {}

    started = time.perf_counter()
    summary_path = generated_dir / "generation.json"
    if args.reuse and summary_path.exists():
        print(f"reusing {generated_dir}", flush=True)
        generation = json.loads(summary_path.read_text())
    else:
        shutil.rmtree(generated_dir, ignore_errors=True)
        result = generate(generated_dir, args.published, providers, args.seed, args.format)
        generation = result.summary()
    figures["generation"] = generation
    figures["generate_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures, indent=2), flush=True)

    out = args.out / "out"
    command = [
        str(Path(sys.executable).with_name("did-publish")),
        "build",
        str(generated_dir / "submissions"),
        "--sites",
        str(generated_dir / "sites.csv"),
        "--imaging-codes",
        str(generated_dir / "imaging_codes.csv"),
        "--submissions",
        str(generated_dir / "submissions.csv"),
        "--policy",
        "did",
        "--status",
        "final",
        "--period",
        PERIOD,
        "--out",
        str(out),
    ]
    if args.memory_limit:
        config = args.out / "build.toml"
        config.write_text(f'[build]\nmemory_limit = "{args.memory_limit}"\n')
        command += ["--config", str(config)]
    print(" ".join(command), flush=True)
    started = time.perf_counter()
    # run in the output folder: DuckDB spills to ./.tmp there, not into the checkout
    subprocess.run(command, check=True, cwd=args.out)
    figures["build_seconds"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    comparison = compare(args.published, out / IDENTIFIER / f"{IDENTIFIER}.csv", providers)
    rejections = check_rejections(
        generated_dir / "expected_rejections.csv",
        out / f"{IDENTIFIER}.restricted" / "quarantine.csv",
    )
    manifest = json.loads((out / IDENTIFIER / "manifest.json").read_text())
    figures["compare_seconds"] = round(time.perf_counter() - started, 1)
    figures["build_totals"] = manifest["totals"]
    figures["cells_compared"] = comparison.cells_compared
    figures["cells_compared_total"] = comparison.total_compared
    figures["mismatches"] = comparison.mismatches.height
    figures["mismatches_by_table"] = dict(comparison.mismatches.group_by("table").len().iter_rows())
    figures["quarantine_problems"] = rejections.height
    print(comparison.report(limit=40))
    if rejections.height:
        print(rejections.head(20))
    print(json.dumps(figures, indent=2))
    (args.out / "backtest_full_year.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if comparison.mismatches.height or rejections.height else 0


if __name__ == "__main__":
    raise SystemExit(main())
