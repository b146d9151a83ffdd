"""A closed-loop load: ``concurrency`` callers, each with its own HTTP session, make ``calls`` calls in all,
each starting as soon as that caller's previous one answered. The same driver measures the bridge and the
floor it is compared with, so the driver's own cost is in both."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

import requests

from benchmarks.report import Summary, summarize

# One call: the caller's session and the call's number (0 … calls-1); True when the answer was right.
Call = Callable[[requests.Session, int], bool]


def closed_loop(call: Call, *, calls: int, concurrency: int, warmup: int = 0) -> Summary:
    """Run ``warmup`` calls first (not counted), then ``calls`` calls; latencies in seconds per call."""
    numbers = itertools.count()
    if warmup:
        _drive(call, numbers, warmup, min(concurrency, warmup))
    latencies, errors, elapsed = _drive(call, numbers, calls, concurrency)
    return summarize(latencies, elapsed, errors)


def _drive(call: Call, numbers: itertools.count[int], calls: int,
           concurrency: int) -> tuple[list[float], int, float]:
    remaining = iter(range(calls))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]

    def caller() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    if next(remaining, None) is None:
                        return
                    number = next(numbers)
                began = time.perf_counter()
                try:
                    ok = call(session, number)
                except requests.RequestException:
                    ok = False
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    errors[0] += not ok

    threads = [threading.Thread(target=caller, name=f"caller-{n}") for n in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0], time.perf_counter() - began
