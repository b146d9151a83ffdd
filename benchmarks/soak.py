"""The soak with faults, longer: the test suite's soak (tests/soak) with more purchases and a longer chaos period.

    python -m benchmarks.soak [--database sqlite|postgresql|both] [--quick] [--purchases N] [--duration S] [--seed K]

Thousands of purchases and refunds go through the Kill Bill simulator's payments API (which calls the bridge's
plugin contract) while the Hyperswitch simulator injects dropped responses after commit, 5xx, 429, timeouts and
connection resets and delays, duplicates and reorders its webhooks, the bridge's web and worker processes are
SIGKILLed and restarted, and Kill Bill fails some notifyStateChanged calls. After it settles, the audit: every
Kill Bill transaction equals the Hyperswitch truth, nothing was charged twice, no webhook or push notification was
lost. Prints the counts, writes them to benchmarks/results/soak.json, and exits 1 if the audit found a problem.

The default run (2,500 purchases, chaos for up to 300 s) takes about six minutes per database on a busy two-core
machine; longer than the bridge's five-minute never-received grace, so UNKNOWN transactions whose request never
reached Hyperswitch end as failures, and Kill Bill's own retries of failed automatic payments come due.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.stacks import DATABASES, database, resident_memory
from tests.soak.scenario import SoakPlan, SoakReport, run

FULL = SoakPlan(purchases=2500, duration=300, settle_timeout=180)
QUICK = SoakPlan(purchases=150, duration=30, tenants=2, settle_timeout=90)
# The counts shown in the table (all of them are in the JSON).
HEADLINE = ("load.seconds", "kb.purchase.SUCCESS", "kb.refund.SUCCESS", "agree.success", "agree.failure_no_money",
            "explained.unknown_never_reached_hyperswitch", "explained.pending_in_hyperswitch", "kills.web",
            "kills.worker-1", "kills.worker-2", "notify_failures.fired", "webhooks.events",
            "webhooks.duplicate_copies", "pushes.sent", "hs.create_retries", "settle.seconds")


def soak(kind: str, plan: SoakPlan) -> SoakReport:
    """One soak on a new database of ``kind``; resident memory of the bridge's processes at its end."""
    with tempfile.TemporaryDirectory(prefix="bridge-soak-") as temp, database(kind, Path(temp)) as url:
        return run(plan, url, Path(temp), measure=lambda sidecar: {"memory_mib": resident_memory(sidecar)},
                   progress=lambda line: print(f"  {kind}: {line}", flush=True))


def faults_fired(counts: dict[str, int]) -> int:
    return sum(value for key, value in counts.items() if key.startswith("faults."))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=(*DATABASES, "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="small sizes: check that it runs")
    parser.add_argument("--purchases", type=int, help=f"default {FULL.purchases} (quick {QUICK.purchases})")
    parser.add_argument("--duration", type=float, help=f"seconds of chaos, default {FULL.duration:.0f} "
                                                        f"(quick {QUICK.duration:.0f}); it ends with the load")
    parser.add_argument("--seed", type=int, default=FULL.seed)
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    plan = replace(base, seed=args.seed, purchases=args.purchases or base.purchases,
                   duration=args.duration or base.duration)
    kinds = DATABASES if args.database == "both" else (args.database,)
    figures: dict[str, Any] = {}
    passed = True
    for kind in kinds:
        print(f"soak on {kind}: {plan.purchases} purchases, chaos up to {plan.duration:.0f} s, seed {plan.seed}",
              flush=True)
        result = soak(kind, plan)
        print(result.summary(), flush=True)
        figures[kind] = {**result.figures(), "faults_fired": faults_fired(result.counts)}
        passed &= result.passed
    rows = [[key, *(figures[kind]["counts"].get(key, 0) for kind in kinds)] for key in HEADLINE]
    rows.append(["faults fired", *(figures[kind]["faults_fired"] for kind in kinds)])
    rows.append(["problems", *(len(figures[kind]["problems"]) for kind in kinds)])
    print(report.table(rows, ["count", *kinds]))
    report.write("soak", figures)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
