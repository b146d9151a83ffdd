"""`bridge worker`: claim due jobs, run their handlers, record the outcome.

A handler's database work and the job's completion commit in one transaction, so a job's effects in
the database happen exactly once even if the worker dies mid-way (the lease expires, another worker
runs it again from the start). While a handler runs, a heartbeat extends the lease.

SIGTERM/SIGINT: finish the current job, then stop (a second signal stops at once and the job's
lease expires as after a crash).

`bridge worker` runs ``worker_concurrency`` such loops in one process (:class:`WorkerThreads`), a thread
each: most of a job's time is spent waiting on Kill Bill, Hyperswitch or an SMTP server, and a loop
waiting holds up nobody else.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bridge.db.base import utcnow
from bridge.db.engine import session_scope
from bridge.db.jobs import JobState
from bridge.jobs import queue
from bridge.jobs.registry import JobContext, JobRegistry, PermanentFailure, RetryLater
from bridge.logs import job_id_var

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """A job enqueued once per period across every worker (the period's slot is its dedupe key)."""

    kind: str
    every_seconds: int


@dataclass(frozen=True)
class WorkerConfig:
    poll_seconds: float = 1.0
    lease_seconds: float = 300.0
    policy: queue.RetryPolicy = queue.RetryPolicy()
    periodic: tuple[PeriodicJob, ...] = ()


def default_worker_id(loop: int | None = None) -> str:
    if loop is not None:
        return f"{socket.gethostname()}:{os.getpid()}:{loop}"
    # The kernel's thread id, not threading.get_ident(): that is a 15-digit address, which passes the log
    # redaction's Luhn check one time in ten and came out of the logs as "[card redacted]".
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_native_id()}"


class Worker:
    def __init__(self, sessions: sessionmaker[Session], registry: JobRegistry, config: WorkerConfig, *,
                 worker_id: str | None = None, services: object = None,
                 clock: Callable[[], datetime] = utcnow, stopping: threading.Event | None = None) -> None:
        self.sessions = sessions
        self.registry = registry
        self.config = config
        self.worker_id = worker_id or default_worker_id()
        self.services = services
        self.clock = clock
        self.stopping = stopping or threading.Event()
        self._slots: dict[str, int] = {}
        self._heartbeat = _Heartbeat(self)

    # -- lifecycle --------------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        def on_signal(signum: int, _frame: object) -> None:
            if self.stopping.is_set():
                log.warning("second signal: stopping now")
                raise SystemExit(1)
            log.info("signal %s: finishing the current job, then stopping", signal.Signals(signum).name)
            self.stopping.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run(self) -> None:
        log.info("worker %s started", self.worker_id)
        while not self.stopping.is_set():
            if not self.run_once():
                self.stopping.wait(self.config.poll_seconds)
        log.info("worker %s stopped", self.worker_id)

    def run_until_idle(self, max_jobs: int = 10_000) -> int:
        """Run due jobs until none is left (tests, one-shot operation); returns how many ran."""
        ran = 0
        while ran < max_jobs and self.run_once():
            ran += 1
        return ran

    # -- one job ----------------------------------------------------------------------------------
    def schedule_periodic(self) -> None:
        """Make sure this period's job of each periodic kind exists (once per slot, whoever is first)."""
        now = self.clock()
        for job in self.config.periodic:
            slot = int(now.timestamp()) // job.every_seconds
            if self._slots.get(job.kind) == slot:
                continue
            with session_scope(self.sessions) as session:
                queue.enqueue(session, job.kind, {"slot": slot}, dedupe_key=f"periodic:{job.kind}:{slot}",
                              run_at=now, max_attempts=1)
            self._slots[job.kind] = slot

    def run_once(self) -> bool:
        """Claim and run one due job; False when none was due."""
        self.schedule_periodic()
        with session_scope(self.sessions) as session:
            claim = queue.claim(session, self.worker_id, self.config.lease_seconds, self.clock())
        if claim is None:
            return False
        token = job_id_var.set(claim.job_id)
        try:
            self._run(claim)
        finally:
            job_id_var.reset(token)
        return True

    def _run(self, claim: queue.Claim) -> None:
        self._heartbeat.hold(claim)
        try:
            with session_scope(self.sessions) as session:
                handler = self.registry.get(claim.kind)
                handler(JobContext(claim.job_id, claim.kind, claim.kb_tenant_id, claim.attempt, session,
                                   self.clock(), self.services), claim.payload)
                if not queue.complete(session, claim, self.clock()):
                    # Our lease expired and someone else owns the job: undo our work.
                    raise _LeaseLost()
            log.info("job %s (%s) done", claim.job_id, claim.kind)
        except (KeyboardInterrupt, SystemExit):
            self._release(claim)
            raise
        except _LeaseLost:
            log.warning("job %s (%s): lease lost, work rolled back", claim.job_id, claim.kind)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job row
            self._record_failure(claim, exc)
        finally:
            self._heartbeat.drop(claim)

    def _release(self, claim: queue.Claim) -> None:
        with session_scope(self.sessions) as session:
            queue.release(session, claim, self.clock())
        log.warning("job %s (%s) released unfinished for another run", claim.job_id, claim.kind)

    def _record_failure(self, claim: queue.Claim, exc: Exception) -> None:
        permanent = isinstance(exc, PermanentFailure)
        delay = exc.delay_seconds if isinstance(exc, RetryLater) else None
        error = f"{type(exc).__name__}: {exc}"
        trace = None if isinstance(exc, RetryLater) else traceback.format_exc()
        with session_scope(self.sessions) as session:
            state = queue.fail(session, claim, error, trace, policy=self.config.policy, permanent=permanent,
                               delay_seconds=delay, now=self.clock())
        level = logging.ERROR if state == JobState.DEAD else logging.WARNING
        log.log(level, "job %s (%s) attempt %s/%s failed (%s): %s", claim.job_id, claim.kind, claim.attempt,
                claim.max_attempts, state.value if state else "lease lost", error)


class WorkerThreads:
    """Several job loops in one process, a thread each, sharing one stop: each claims, runs and completes its
    own jobs, as separate processes would. Only the first schedules the periodic jobs."""

    def __init__(self, sessions: sessionmaker[Session], registry: JobRegistry, config: WorkerConfig, *,
                 concurrency: int, services: object = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.stopping = threading.Event()
        self.loops: Sequence[Worker] = [
            Worker(sessions, registry, config if number == 1 else replace(config, periodic=()),
                   worker_id=default_worker_id(number), services=services, clock=clock, stopping=self.stopping)
            for number in range(1, concurrency + 1)]

    def install_signal_handlers(self) -> None:
        self.loops[0].install_signal_handlers()  # it sets the stop every loop shares

    def run(self) -> None:
        """Until a signal: the first loop in this thread (signals reach only it), the others beside it. A second
        signal ends the process at once, and the other loops' jobs with it (daemon threads)."""
        threads = [threading.Thread(target=loop.run, name=f"job-loop-{number}", daemon=True)
                   for number, loop in enumerate(self.loops[1:], start=2)]
        for thread in threads:
            thread.start()
        try:
            self.loops[0].run()
        finally:
            self.stopping.set()  # the first loop ended: so do the others, after their current jobs
            for thread in threads:
                thread.join()

    def run_until_idle(self, max_jobs: int = 10_000) -> int:
        """One loop, one job at a time (``bridge worker --once``: an operator's step, in order)."""
        return self.loops[0].run_until_idle(max_jobs)


class _LeaseLost(Exception):
    pass


class _Heartbeat:
    """Extends the lease of the job being run, every third of the lease's length.

    One thread serves the worker's jobs one after another: it starts with a job, keeps beating while jobs follow
    each other and ends at a beat that finds none, so a busy worker does not start a thread per job. Every job is
    extended within a third of its lease after its claim, then every third.
    """

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._lock = threading.Lock()
        self._claim: queue.Claim | None = None
        self._thread: threading.Thread | None = None

    def hold(self, claim: queue.Claim) -> None:
        with self._lock:
            self._claim = claim
            if self._thread is None:
                self._thread = threading.Thread(target=self._beat, daemon=True,
                                                name=f"heartbeat:{self.worker.worker_id}")
                self._thread.start()

    def drop(self, claim: queue.Claim) -> None:
        with self._lock:
            if self._claim is claim:
                self._claim = None

    def _beat(self) -> None:
        interval = self.worker.config.lease_seconds / 3
        while True:
            time.sleep(interval)
            with self._lock:
                claim = self._claim
                if claim is None:
                    self._thread = None
                    return
            try:
                with session_scope(self.worker.sessions) as session:
                    queue.extend_lease(session, claim, self.worker.config.lease_seconds, self.worker.clock())
            except Exception:  # noqa: BLE001 - a missed beat only shortens the lease
                log.warning("job %s: could not extend the lease", claim.job_id, exc_info=True)
