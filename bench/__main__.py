"""Run the benchmarks: `.venv/bin/python -m bench [--only NAME ...] [--repeats N] [--quick]`.

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
from bench.service import Bench, start_django

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


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS))
    parser.add_argument("--repeats", type=int, help="repeats of every measurement")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat: a smoke run")
    parser.add_argument(
        "--stores",
        nargs="+",
        choices=["local", "s3"],
        default=["local", "s3"],
        help="stores for staging and publishing (s3: a SeaweedFS server started for the run)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON file to write")
    return parser.parse_args(argv)


def benchmark(name: str):
    module, function = BENCHMARKS[name].split(":")
    return getattr(importlib.import_module(module), function)


def main(argv: list[str]) -> int:
    options = arguments(argv)
    folder = Path(tempfile.mkdtemp(prefix="aicenter-bench-"))
    started = time.monotonic()
    try:
        start_django(folder)
        bench = Bench(folder, options.repeats, options.quick, options.stores)
        rows = []
        for name in options.only:
            print(f"Running {name}...", file=sys.stderr, flush=True)
            rows += benchmark(name)(bench)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    context = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "python": platform.python_version(),
        "quick": options.quick,
        "seconds": round(time.monotonic() - started),
    }
    print(table(rows))
    write_json(options.output, rows, context)
    print(f"Figures written to {options.output}.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
