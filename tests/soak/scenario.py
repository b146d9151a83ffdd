"""The whole soak: start the stack, run the load under chaos, settle, audit. The test and ``benchmarks/soak.py``
call :func:`run` with their own :class:`SoakPlan`."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.soak import world as stack
from tests.soak.chaos import Chaos
from tests.soak.load import Load
from tests.soak.peers import Peers
from tests.soak.settle import settle
from tests.stack import Sidecar


@dataclass(frozen=True)
class SoakPlan:
    purchases: int = 1000
    duration: float = 150.0  # seconds of chaos from the start of the load (it also ends with the load)
    seed: int = 8
    tenants: int = 3
    accounts_per_tenant: int = 8
    callers: int = 6
    refund_share: float = 0.5  # of the purchases Kill Bill answered SUCCESS
    kill_every: float = 10.0  # mean seconds between two SIGKILLs (each process once per round)
    notify_every: float = 4.0  # mean seconds between two injections of notifyStateChanged failures
    fault_scale: float = 1.0  # multiplies every fault probability (chaos.FAULTS)
    settle_timeout: float = 150.0


@dataclass
class SoakReport:
    plan: SoakPlan
    counts: dict[str, int]
    problems: list[str]
    measured: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems

    def figures(self) -> dict[str, Any]:
        return {"plan": asdict(self.plan), "counts": self.counts, "problems": self.problems, **self.measured}

    def summary(self) -> str:
        """The counts, grouped by their first word, then the problems."""
        groups: dict[str, list[str]] = {}
        for key in sorted(self.counts):
            group, _, rest = key.partition(".")
            groups.setdefault(group, []).append(f"{rest or group}={self.counts[key]}")
        lines = [f"soak: {self.plan.purchases} purchases, seed {self.plan.seed}, "
                 f"{'PASSED' if self.passed else 'FAILED'}"]
        lines += [f"  {group}: " + ", ".join(items) for group, items in groups.items()]
        lines += [f"  ! {problem}" for problem in self.problems]
        return "\n".join(lines)


def run(plan: SoakPlan, database_url: str, work_dir: Path, *,
        measure: Callable[[Sidecar], dict[str, Any]] | None = None,
        progress: Callable[[str], None] = lambda line: None) -> SoakReport:
    counts: Counter[str] = Counter()
    began = time.monotonic()
    world = stack.start(work_dir, database_url, tenants=plan.tenants, accounts_per_tenant=plan.accounts_per_tenant)
    try:
        counts["setup.seconds"] = round(time.monotonic() - began)
        progress(f"stack and {plan.tenants} × {plan.accounts_per_tenant} payors ready in "
                 f"{counts['setup.seconds']} s")
        peers = Peers(world, seed=plan.seed, counts=counts)
        chaos = Chaos(world, seed=plan.seed, kill_every=plan.kill_every, notify_every=plan.notify_every,
                      fault_scale=plan.fault_scale, counts=counts)
        peers.start()
        chaos.start()
        timer = chaos.stop_after(plan.duration)
        load_began = time.monotonic()
        try:
            Load(world, purchases=plan.purchases, callers=plan.callers, refund_share=plan.refund_share,
                 seed=plan.seed, counts=counts).run()
        finally:
            timer.cancel()
            chaos.stop()
        counts["load.seconds"] = round(time.monotonic() - load_began)
        progress(f"load done in {counts['load.seconds']} s; settling")
        for part in (chaos, peers):
            if part.error is not None:
                raise part.error
        verdict = settle(world, peers, counts, timeout=plan.settle_timeout)
        counts.update(verdict.counts)
        notify = world.killbill.control("GET", "/notify-state-changed/fail-next")
        counts["notify_failures.fired"] = notify["fired"]
        counts.update(plugin_calls(world))
        measured = measure(world.sidecar) if measure else {}
    finally:
        world.stop()
    counts["soak.seconds"] = round(time.monotonic() - began)
    return SoakReport(plan, dict(counts), verdict.problems, measured)


def plugin_calls(world: stack.World) -> Counter[str]:
    """Kill Bill's calls to the plugin by operation and how they ended (ok, plugin_error with its type,
    unreachable while the web process restarted, undefined when it died mid-call)."""
    calls: Counter[str] = Counter()
    for call in world.killbill.control("GET", "/plugin-calls"):
        ending = call["outcome"] + (f"_{call['errorType']}" if call.get("errorType") else "")
        calls[f"plugin_calls.{call['operation']}.{ending}"] += 1
    return calls
