"""Durable jobs: outbox enqueue, retries with backoff, dead-parking and replay, leases, several workers."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bridge.cli import cli
from bridge.db.base import utcnow
from bridge.db.engine import session_scope
from bridge.db.jobs import Job, JobState
from bridge.jobs import JobRegistry, PermanentFailure, RetryLater, enqueue, queue
from bridge.jobs.worker import PeriodicJob, Worker, WorkerConfig, WorkerThreads, default_worker_id
from bridge.logs import redact


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


POLICY = queue.RetryPolicy(max_attempts=4, base_seconds=10, max_seconds=60)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry() -> JobRegistry:
    return JobRegistry()


def make_worker(runtime, registry, clock, name="w1", lease=30.0) -> Worker:  # type: ignore[no-untyped-def]
    return Worker(runtime.sessions, registry, WorkerConfig(poll_seconds=0.01, lease_seconds=lease, policy=POLICY),
                  worker_id=name, clock=clock)


def add_job(runtime, kind, payload=None, clock=None, **kwargs) -> int:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return enqueue(session, kind, payload, run_at=clock() if clock else None,
                       max_attempts=kwargs.pop("max_attempts", POLICY.max_attempts), **kwargs)


def job(runtime, job_id: int) -> Job:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return session.get(Job, job_id)


def test_a_job_runs_once_and_is_done(runtime, registry, clock) -> None:
    seen = []
    registry.register("greet", lambda ctx, payload: seen.append((ctx.job_id, ctx.attempt, payload["name"])))
    job_id = add_job(runtime, "greet", {"name": "ada"}, clock)
    worker = make_worker(runtime, registry, clock)
    assert worker.run_until_idle() == 1
    assert seen == [(job_id, 1, "ada")]
    done = job(runtime, job_id)
    assert done.state == JobState.DONE and done.finished_at == clock.now and done.lease_token is None
    assert worker.run_until_idle() == 0


def test_enqueue_belongs_to_the_callers_transaction(runtime) -> None:
    with pytest.raises(RuntimeError):
        with session_scope(runtime.sessions) as session:
            enqueue(session, "greet", {"n": 1})
            raise RuntimeError("the change that caused the job failed")
    with session_scope(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_dedupe_key_yields_one_job(runtime) -> None:
    first = add_job(runtime, "email", {"n": 1}, dedupe_key="invoice-1:reminder:1")
    second = add_job(runtime, "email", {"n": 2}, dedupe_key="invoice-1:reminder:1")
    assert first == second
    assert job(runtime, first).payload == {"n": 1}
    with session_scope(runtime.sessions) as session:  # and inside one transaction too
        assert enqueue(session, "email", {}, dedupe_key="k2") == enqueue(session, "email", {}, dedupe_key="k2")


def test_failures_back_off_exponentially_then_succeed(runtime, registry, clock) -> None:
    attempts = []

    def flaky(ctx, payload) -> None:  # type: ignore[no-untyped-def]
        attempts.append(ctx.attempt)
        if ctx.attempt < 3:
            raise ConnectionError(f"peer down (attempt {ctx.attempt})")

    registry.register("flaky", flaky)
    job_id = add_job(runtime, "flaky", clock=clock)
    worker = make_worker(runtime, registry, clock)

    delays = []
    for expected_attempt in (1, 2):
        assert worker.run_until_idle() == 1
        failed = job(runtime, job_id)
        assert failed.state == JobState.PENDING and failed.attempts == expected_attempt
        assert failed.last_error == f"ConnectionError: peer down (attempt {expected_attempt})"
        assert "Traceback" in failed.last_traceback
        delays.append((failed.run_at - clock.now).total_seconds())
        assert worker.run_until_idle() == 0  # not due yet
        clock.advance(delays[-1])
    # Equal jitter: between half and all of base × 2^(n-1).
    assert 5 <= delays[0] <= 10 and 10 <= delays[1] <= 20
    assert worker.run_until_idle() == 1
    assert attempts == [1, 2, 3]
    finished = job(runtime, job_id)
    assert finished.state == JobState.DONE and finished.last_error is None


def test_backoff_is_capped() -> None:
    assert all(30 <= POLICY.delay(n) <= 60 for n in range(4, 20))


def test_out_of_attempts_the_job_is_dead_and_retry_replays_it(runtime, registry, clock, cli_env) -> None:
    fail = {"on": True}

    def handler(ctx, payload) -> None:  # type: ignore[no-untyped-def]
        if fail["on"]:
            raise ValueError("bad gateway answer")

    registry.register("sync", handler)
    job_id = add_job(runtime, "sync", clock=clock)
    worker = make_worker(runtime, registry, clock)
    for _ in range(POLICY.max_attempts):
        worker.run_until_idle()
        clock.advance(POLICY.max_seconds)
    dead = job(runtime, job_id)
    assert dead.state == JobState.DEAD and dead.attempts == POLICY.max_attempts
    assert worker.run_until_idle() == 0

    runner = CliRunner()
    listed = runner.invoke(cli, ["jobs", "list", "--state", "dead", "--json"], env=cli_env)
    assert [j["id"] for j in json.loads(listed.stdout)] == [job_id]
    shown = runner.invoke(cli, ["jobs", "show", str(job_id)], env=cli_env)
    assert "ValueError: bad gateway answer" in shown.stdout and "Traceback" in shown.stdout
    retried = runner.invoke(cli, ["jobs", "retry", str(job_id)], env=cli_env)
    assert retried.exit_code == 0 and f"job {job_id} (sync) queued again" in retried.stdout

    replay = job(runtime, job_id)
    assert replay.state == JobState.PENDING and replay.attempts == 0
    fail["on"] = False
    clock.now = max(clock.now, replay.run_at)
    assert worker.run_until_idle() == 1
    assert job(runtime, job_id).state == JobState.DONE

    again = runner.invoke(cli, ["jobs", "retry", str(job_id)], env=cli_env)
    assert again.exit_code == 1 and again.output.strip() == f"error: job {job_id} is done; only dead or pending jobs can be retried"


def test_permanent_failures_and_unknown_kinds_go_dead_at_once(runtime, registry, clock) -> None:
    def refuse(ctx, payload):  # type: ignore[no-untyped-def]
        raise PermanentFailure("payload names no invoice")

    registry.register("refuse", refuse)
    refused = add_job(runtime, "refuse", clock=clock)
    unknown = add_job(runtime, "no-such-kind", clock=clock)
    make_worker(runtime, registry, clock).run_until_idle()
    assert job(runtime, refused).state == JobState.DEAD and job(runtime, refused).attempts == 1
    assert job(runtime, unknown).state == JobState.DEAD
    assert job(runtime, unknown).last_error == "PermanentFailure: no handler for job kind 'no-such-kind'"


def test_retry_later_uses_the_asked_delay(runtime, registry, clock) -> None:
    def not_yet(ctx, payload):  # type: ignore[no-untyped-def]
        raise RetryLater("payment not known yet", delay_seconds=2)

    registry.register("wait", not_yet)
    job_id = add_job(runtime, "wait", clock=clock)
    make_worker(runtime, registry, clock).run_until_idle()
    waiting = job(runtime, job_id)
    assert waiting.run_at == clock.now + timedelta(seconds=2)
    assert waiting.last_traceback is None


def test_a_failed_handler_leaves_no_database_work_behind(runtime, registry, clock) -> None:
    def half_done(ctx, payload):  # type: ignore[no-untyped-def]
        enqueue(ctx.session, "follow-up", {"from": ctx.job_id})
        raise RuntimeError("crashed after writing")

    registry.register("half", half_done)
    add_job(runtime, "half", clock=clock)
    make_worker(runtime, registry, clock).run_until_idle()
    with session_scope(runtime.sessions) as session:
        assert session.scalars(select(Job.kind)).all() == ["half"]


def test_an_expired_lease_is_taken_again_and_the_old_owner_cannot_finish(runtime, registry, clock) -> None:
    runs = []
    registry.register("charge-sync", lambda ctx, payload: runs.append(ctx.attempt))
    job_id = add_job(runtime, "charge-sync", clock=clock)

    with session_scope(runtime.sessions) as session:  # worker "a" claims, then dies
        stale = queue.claim(session, "a", lease_seconds=30, now=clock.now)
    assert stale is not None
    worker_b = make_worker(runtime, registry, clock, name="b")
    assert worker_b.run_until_idle() == 0  # still leased to "a"
    clock.advance(31)
    assert worker_b.run_until_idle() == 1
    assert runs == [2]  # the dead worker's attempt counted
    with session_scope(runtime.sessions) as session:
        assert queue.complete(session, stale, clock.now) is False
    assert job(runtime, job_id).state == JobState.DONE


def test_the_heartbeat_keeps_a_long_job_leased_job_after_job(runtime, registry) -> None:
    """Jobs that outlast their lease (0.3 s) are not taken by another worker while they run, one after another."""
    others: list[int] = []
    other = Worker(runtime.sessions, registry, WorkerConfig(poll_seconds=0.01, lease_seconds=0.3, policy=POLICY),
                   worker_id="other")

    def slow(ctx, payload):  # type: ignore[no-untyped-def]
        for _ in range(4):
            time.sleep(0.25)
            others.append(other.run_until_idle(max_jobs=1))

    registry.register("slow", slow)
    worker = Worker(runtime.sessions, registry, WorkerConfig(poll_seconds=0.01, lease_seconds=0.3, policy=POLICY),
                    worker_id="busy")
    for _ in range(2):
        job_id = add_job(runtime, "slow")
        assert worker.run_once()
        done = job(runtime, job_id)
        assert done.state == JobState.DONE and done.attempts == 1
    assert others == [0] * 8


def test_release_gives_the_job_back_without_using_an_attempt(runtime, clock) -> None:
    job_id = add_job(runtime, "x", clock=clock)
    with session_scope(runtime.sessions) as session:
        claim = queue.claim(session, "a", 30, clock.now)
    with session_scope(runtime.sessions) as session:
        assert queue.release(session, claim, clock.now)
    released = job(runtime, job_id)
    assert released.state == JobState.PENDING and released.attempts == 0


def test_several_workers_never_run_the_same_job(runtime, registry) -> None:
    """Four workers on four connections drain 200 jobs; each job runs exactly once."""
    ran: Counter[int] = Counter()
    lock = threading.Lock()

    def record(ctx, payload):  # type: ignore[no-untyped-def]
        time.sleep(0.001)
        with lock:
            ran[payload["n"]] += 1

    registry.register("count", record)
    with session_scope(runtime.sessions) as session:
        for n in range(200):
            enqueue(session, "count", {"n": n})
    workers = [Worker(runtime.sessions, registry, WorkerConfig(poll_seconds=0.01, lease_seconds=60, policy=POLICY),
                      worker_id=f"w{i}") for i in range(4)]
    threads = [threading.Thread(target=w.run_until_idle) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(ran) == list(range(200))
    assert set(ran.values()) == {1}
    with session_scope(runtime.sessions) as session:
        assert session.scalar(select(func.count()).where(Job.state == JobState.DONE)) == 200


def sigterm_while_running(worker: Worker | WorkerThreads, *, under_way: Callable[[], bool],
                          release: threading.Event) -> None:
    """Run ``worker`` in a thread under its signal handlers; once ``under_way()``, send SIGTERM, let the running
    jobs finish (``release``) and check that the worker's loop ended."""
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    worker.install_signal_handlers()
    try:
        runner = threading.Thread(target=worker.run)
        runner.start()
        assert under_way()
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler runs in the main thread
        release.set()
        runner.join(10)
        assert not runner.is_alive()
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def test_sigterm_finishes_the_current_job_then_stops(runtime, registry) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(ctx, payload):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(10)

    registry.register("slow", slow)
    add_job(runtime, "slow")
    add_job(runtime, "slow")
    worker = Worker(runtime.sessions, registry, WorkerConfig(poll_seconds=0.01, lease_seconds=60, policy=POLICY))
    sigterm_while_running(worker, under_way=lambda: started.wait(10), release=release)
    with session_scope(runtime.sessions) as session:
        states = sorted(s.value for s in session.scalars(select(Job.state)))
    assert states == ["done", "pending"]  # the running job finished; the next was left for later


def make_threads(runtime, registry, concurrency: int) -> WorkerThreads:  # type: ignore[no-untyped-def]
    config = WorkerConfig(poll_seconds=0.01, lease_seconds=60, policy=POLICY, periodic=(PeriodicJob("tick", 60),))
    return WorkerThreads(runtime.sessions, registry, config, concurrency=concurrency)


def test_worker_threads_run_jobs_side_by_side_each_under_its_own_id(runtime, registry) -> None:
    together = threading.Barrier(3, timeout=10)  # broken unless three jobs run at once
    registry.register("wait", lambda ctx, payload: together.wait())
    registry.register("tick", lambda ctx, payload: None)
    ids = [add_job(runtime, "wait") for _ in range(3)]
    threads = make_threads(runtime, registry, concurrency=3)
    runner = threading.Thread(target=threads.run)
    runner.start()
    try:
        eventually_done = time.monotonic() + 15
        while time.monotonic() < eventually_done and any(job(runtime, i).state != JobState.DONE for i in ids):
            time.sleep(0.05)
    finally:
        threads.stopping.set()
        runner.join(10)
    assert not runner.is_alive()
    assert [job(runtime, i).state for i in ids] == [JobState.DONE] * 3
    assert len({job(runtime, i).locked_by for i in ids}) == 3
    with session_scope(runtime.sessions) as session:  # the periodic job: scheduled by the first loop alone
        assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == "tick")) == 1


def test_sigterm_stops_every_worker_thread_after_its_current_job(runtime, registry) -> None:
    running, release = threading.Semaphore(0), threading.Event()

    def slow(ctx, payload):  # type: ignore[no-untyped-def]
        running.release()
        release.wait(10)

    registry.register("slow", slow)
    for _ in range(3):
        add_job(runtime, "slow")
    threads = make_threads(runtime, registry, concurrency=2)
    sigterm_while_running(threads, under_way=lambda: running.acquire(timeout=10) and running.acquire(timeout=10),
                          release=release)
    with session_scope(runtime.sessions) as session:
        states = sorted(s.value for s in session.scalars(select(Job.state).where(Job.kind == "slow")))
    assert states == ["done", "done", "pending"]  # both running jobs finished; the third was left for later


def test_queue_stats_report_lag(runtime) -> None:
    now = utcnow()
    with session_scope(runtime.sessions) as session:
        enqueue(session, "late", run_at=now - timedelta(seconds=90))
        enqueue(session, "future", run_at=now + timedelta(seconds=90))
    with session_scope(runtime.sessions) as session:
        stats = queue.stats(session, now)
    assert stats.by_state["pending"] == 2 and stats.by_state["dead"] == 0
    assert 89 <= stats.oldest_due_seconds <= 91


def test_worker_ids_survive_log_redaction() -> None:
    """A worker id names the worker in every log line: it must never look like a card number to the redaction."""
    ids: list[str] = []
    together = threading.Barrier(50)  # alive at once, so no thread reuses another's id

    def record() -> None:
        ids.append(default_worker_id())
        together.wait()

    threads = [threading.Thread(target=record) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 50
    for worker_id in ids:
        assert redact(f"worker {worker_id} started") == f"worker {worker_id} started"
