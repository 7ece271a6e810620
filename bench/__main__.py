"""Run the benchmarks: `.venv/bin/python -m bench [--only NAME ...] [--repeats N] [--quick]`,
or their curves at three sizes: `.venv/bin/python -m bench --curves [--quick] [--large]`.

Everything runs on a throwaway service in a temporary folder (SQLite, a local store,
real qcluster workers, and SeaweedFS for the S3 rows); the developer's data is never used.
"""

import argparse
import importlib
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.measure import table, write_json
from bench.service import Bench, redis_broker, start_django

# name -> module.function; each returns table rows.
BENCHMARKS = {
    "overhead": "bench.runs:overhead",
    "limits": "bench.limits:limits",
    "environments": "bench.environments:reuse",
    "staging": "bench.staging:staging",
    "publishing": "bench.publishing:publishing",
    "pages": "bench.pages:pages",
    "throughput": "bench.runs:throughput",
    "load": "bench.load:load",
    "client": "bench.client:client",
    "metrics": "bench.metrics:metrics",
}
DEFAULT_OUTPUT = Path(__file__).with_name("results") / "latest.json"
CURVES_OUTPUT = DEFAULT_OUTPUT.with_name("curves.json")
CURVE_GROUPS = ["data", "pages", "logs", "burst"]


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS))
    parser.add_argument("--repeats", type=int, help="repeats of every measurement")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat: a smoke run")
    parser.add_argument(
        "--stores",
        nargs="+",
        choices=["local", "s3"],
        help="stores for staging and publishing (s3: a SeaweedFS server started for the run); "
        "both by default, the local store alone for the curves",
    )
    parser.add_argument("--output", type=Path, help="JSON file to write")
    parser.add_argument("--curves", action="store_true", help="each path at three sizes")
    parser.add_argument(
        "--paths", nargs="+", choices=CURVE_GROUPS, help="curves to draw (all but a quick burst)"
    )
    parser.add_argument(
        "--large",
        action="store_true",
        help="data curves at 1,000 / 10,000 / 100,000 files, on SeaweedFS too",
    )
    options = parser.parse_args(argv)
    if options.stores is None:
        options.stores = ["local", "s3"] if not options.curves or options.large else ["local"]
    if options.paths is None:
        options.paths = CURVE_GROUPS[:-1] if options.quick else CURVE_GROUPS
    if options.output is None:
        options.output = CURVES_OUTPUT if options.curves else DEFAULT_OUTPUT
    return options


def benchmark(name: str):
    module, function = BENCHMARKS[name].split(":")
    return getattr(importlib.import_module(module), function)


def main(argv: list[str]) -> int:
    options = arguments(argv)
    folder = Path(tempfile.mkdtemp(prefix="aicenter-bench-"))
    started = time.monotonic()
    if options.curves:
        return draw_curves(options, folder, started)
    try:
        start_django(folder)
        bench = Bench(folder, options.repeats, options.quick, options.stores)
        rows = []
        for name in options.only:
            print(f"Running {name}...", file=sys.stderr, flush=True)
            rows += benchmark(name)(bench)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(table(rows))
    write_json(options.output, rows, context_of(options, started))
    print(f"Figures written to {options.output}.", file=sys.stderr)
    return 0


def draw_curves(options: argparse.Namespace, folder: Path, started: float) -> int:
    from bench import growth
    from bench.chart import write_svg
    from bench.curves import BROKER, curves

    try:
        broker = redis_broker(BROKER) if "burst" in options.paths else "orm"
        start_django(folder, broker)
        bench = Bench(folder, options.repeats, options.quick, options.stores)
        drawn = curves(bench, options.paths, options.large)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(growth.table(drawn))
    growth.write_json(options.output, drawn, context_of(options, started))
    write_svg(options.output.with_suffix(".svg"), drawn)
    print(f"Curves written to {options.output} and its .svg.", file=sys.stderr)
    return 0


def context_of(options: argparse.Namespace, started: float) -> dict:
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "python": platform.python_version(),
        "quick": options.quick,
        "seconds": round(time.monotonic() - started),
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
