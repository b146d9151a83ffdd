"""Benchmark 5: start-up and resident memory.

Start-up: the time from spawning ``bridge serve`` (gunicorn, two web workers) to its first 200 on
``/readyz``, and from spawning ``bridge worker`` to its first claim of a job (a job queued beforehand),
on a migrated database; several runs, median and worst. Memory: resident memory of a web worker and a job
worker idle right after start-up here; after load, each other benchmark records it in its own figures
(``resident_memory``), which the README table shows beside these.

    python -m benchmarks.footprint [--database sqlite|postgresql|both] [--quick] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from benchmarks import report
from benchmarks.stacks import DATABASES, database, resident_memory
from bridge.db.jobs import Job, JobState
from bridge.jobs.queue import enqueue
from bridge.payments.sweeper import SWEEP_JOB
from tests.stack import Sidecar, eventually


def _ready(url: str) -> bool:
    try:
        return requests.get(url + "/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _queued_job_claimed(database_url: str, job_id: int) -> bool:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            state = conn.scalar(select(Job.state).where(Job.id == job_id))
    finally:
        engine.dispose()
    return state is not None and state is not JobState.PENDING


def _queue_probe_job(sidecar: Sidecar) -> int:
    """A sweep job due now: the first thing a starting worker claims."""
    engine = create_engine(sidecar.database_url)
    try:
        with Session(bind=engine) as session, session.begin():
            return enqueue(session, SWEEP_JOB, {}, dedupe_key=f"footprint:{time.time_ns()}")
    finally:
        engine.dispose()


def one_start(sidecar: Sidecar) -> dict[str, float]:
    """Stop every process, then start the web one and one worker, timing each to ready."""
    for service in sidecar.services.values():
        service.stop()
    web, worker = sidecar.services["web"], sidecar.workers[0]
    began = time.perf_counter()
    web.start()
    eventually(lambda: (web.check_alive(), _ready(sidecar.url))[1], "/readyz", timeout=60, interval=0.01)
    web_s = time.perf_counter() - began
    job_id = _queue_probe_job(sidecar)
    began = time.perf_counter()
    worker.start()
    eventually(lambda: (worker.check_alive(), _queued_job_claimed(sidecar.database_url, job_id))[1],
               "the worker's first claim", timeout=60, interval=0.01)
    return {"web_to_readyz_s": web_s, "worker_to_first_claim_s": time.perf_counter() - began}


def run(kind: str, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bridge-bench-") as temp, database(kind, Path(temp)) as url:
        sidecar = Sidecar.start(Path(temp), database_url=url, web_workers=2, job_workers=1,
                                env={"BRIDGE_LOG_FORMAT": "json", "BRIDGE_WORKER_POLL_SECONDS": "1"})
        try:
            starts = [one_start(sidecar) for _ in range(runs)]
            time.sleep(1.0)  # both idle: what they hold before any load
            memory = resident_memory(sidecar)
        finally:
            sidecar.stop()
    figures: dict[str, Any] = {"runs": runs}
    for key in ("web_to_readyz_s", "worker_to_first_claim_s"):
        values = [start[key] for start in starts]
        figures[key] = {"median": round(statistics.median(values), 3), "max": round(max(values), 3)}
    figures["idle_memory_mib"] = memory
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.footprint", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=(*DATABASES, "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="two runs instead of seven")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args(argv)
    runs = args.runs or (2 if args.quick else 7)
    kinds = DATABASES if args.database == "both" else (args.database,)
    figures = {kind: run(kind, runs) for kind in kinds}
    print(report.table([[kind, f["web_to_readyz_s"]["median"], f["web_to_readyz_s"]["max"],
                         f["worker_to_first_claim_s"]["median"], f["worker_to_first_claim_s"]["max"],
                         f["idle_memory_mib"].get("web_worker_1_mib"), f["idle_memory_mib"].get("worker_1_mib")]
                        for kind, f in figures.items()],
                       ["database", "serve→/readyz p50 s", "max s", "worker→first claim p50 s", "max s",
                        "web worker MiB", "job worker MiB"]))
    report.write("footprint", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
