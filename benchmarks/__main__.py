"""``python -m benchmarks``: every benchmark in turn, each in its own process.

    python -m benchmarks [--quick] [--database sqlite|postgresql|both] [--only NAME ...]

Each module also runs on its own (``python -m benchmarks.<name> --help``) and prints its own table; figures
go to benchmarks/results/<name>.json with the machine they were taken on.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from benchmarks.report import ROOT

# In the order of issue 8; the soak last (its longer mode: python -m benchmarks.soak).
MODULES = ("plugin_calls", "webhooks", "scale", "billing_run", "footprint", "soak")
# Benchmarks measured on one database only: scale on PostgreSQL (where a million rows is a deployment).
ONE_DATABASE = {"scale"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check that everything runs")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--only", nargs="+", choices=MODULES, default=None, metavar="NAME")
    args = parser.parse_args(argv)
    failed: list[str] = []
    for name in args.only or MODULES:
        command = [sys.executable, "-m", f"benchmarks.{name}"]
        if args.quick:
            command.append("--quick")
        if name not in ONE_DATABASE:
            command += ["--database", args.database]
        print(f"\n== benchmarks.{name}", flush=True)
        began = time.monotonic()
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            failed.append(name)
        print(f"== benchmarks.{name}: {time.monotonic() - began:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
