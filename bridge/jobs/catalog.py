"""The registry of every job kind the worker runs, gathered from the capabilities that define them, and the
worker `bridge worker` runs with them."""

from __future__ import annotations

from bridge.invoices import handlers as _invoice_handlers  # noqa: F401  (registers Kill Bill event handlers)
from bridge.invoices import messages
from bridge.jobs.registry import JobRegistry
from bridge.jobs.queue import RetryPolicy
from bridge.jobs.worker import PeriodicJob, Worker, WorkerConfig, WorkerThreads
from bridge.payments import killbill_sync, sweeper
from bridge.runtime import Runtime
from bridge.webhooks import inbox
from bridge.webhooks import killbill as _killbill_processor  # noqa: F401  (registers its processor)
from bridge.webhooks.process import process_inbound_event


PERIODIC_JOBS = (PeriodicJob(sweeper.SWEEP_JOB, sweeper.SWEEP_EVERY_SECONDS),)


def build_registry() -> JobRegistry:
    registry = JobRegistry()
    registry.register(inbox.PROCESS_JOB, process_inbound_event)
    registry.register(killbill_sync.SYNC_JOB, killbill_sync.sync_transaction)
    registry.register(sweeper.SWEEP_JOB, sweeper.sweep)
    registry.register(messages.SEND_JOB, messages.send_message)
    return registry


def _config(runtime: Runtime) -> WorkerConfig:
    settings = runtime.settings
    return WorkerConfig(poll_seconds=settings.worker_poll_seconds, lease_seconds=settings.job_lease_seconds,
                        policy=RetryPolicy(settings.job_max_attempts, settings.job_backoff_base_seconds,
                                           settings.job_backoff_max_seconds), periodic=PERIODIC_JOBS)


def build_worker(runtime: Runtime) -> Worker:
    """A worker for every job kind and the periodic jobs, paced by the runtime's settings."""
    # The runtime's clock: jobs scheduled for later (payment reminders) fall due by the same clock.
    return Worker(runtime.sessions, build_registry(), _config(runtime), services=runtime, clock=runtime.clock)


def build_worker_threads(runtime: Runtime) -> WorkerThreads:
    """`bridge worker`: the ``worker_concurrency`` setting's number of such workers, a thread each."""
    return WorkerThreads(runtime.sessions, build_registry(), _config(runtime),
                         concurrency=runtime.settings.worker_concurrency, services=runtime, clock=runtime.clock)
