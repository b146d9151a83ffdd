"""Prometheus metrics: requests and latency per route, plus jobs by state and queue lag read at scrape;
the edges: inbound requests refused by a rate limit, pacing waits and circuit breakers toward Hyperswitch.

Under gunicorn every worker process writes to ``PROMETHEUS_MULTIPROC_DIR`` and a scrape merges them
(a breaker's state gauge shows the worst state among live processes).
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.orm import Session, sessionmaker

from bridge.db.engine import session_scope
from bridge.jobs import queue

HTTP_REQUESTS = Counter("bridge_http_requests_total", "HTTP requests answered",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("bridge_http_request_duration_seconds", "HTTP request latency", ["method", "route"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25))
HTTP_RATE_LIMITED = Counter("bridge_http_rate_limited_total", "Requests refused with 429 by an inbound rate limit",
                            ["limit"])
HS_PACING_WAIT = Histogram("bridge_hyperswitch_pacing_wait_seconds",
                           "How long calls waited for a request slot toward Hyperswitch",
                           buckets=(0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20))
HS_CIRCUIT_STATE = Gauge("bridge_hyperswitch_circuit_state",
                         "Circuit breaker per Hyperswitch base URL: 0 closed, 1 half-open, 2 open", ["base_url"],
                         multiprocess_mode="livemax")
HS_CIRCUIT_TRANSITIONS = Counter("bridge_hyperswitch_circuit_transitions_total",
                                 "Circuit breaker state changes per Hyperswitch base URL",
                                 ["base_url", "from_state", "to_state"])
HS_CIRCUIT_REJECTIONS = Counter("bridge_hyperswitch_circuit_rejections_total",
                                "Calls refused unsent because the Hyperswitch circuit was not closed",
                                ["base_url", "state"])


class JobsCollector:
    """Reads the jobs table at scrape time (gauges must not be per-process)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self):  # type: ignore[no-untyped-def]
        with session_scope(self.sessions) as session:
            current = queue.stats(session)
        jobs = GaugeMetricFamily("bridge_jobs", "Jobs by state", labels=["state"])
        for state, count in current.by_state.items():
            jobs.add_metric([state], count)
        yield jobs
        yield GaugeMetricFamily("bridge_job_queue_lag_seconds",
                                "How long the most overdue pending job has waited", value=current.oldest_due_seconds)


def _route() -> str:
    return request.url_rule.rule if request.url_rule is not None else "<unmatched>"


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        route = _route()
        HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
    return response


def install(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)


def exposition(sessions: sessionmaker[Session]) -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    jobs_registry = CollectorRegistry()
    jobs_registry.register(JobsCollector(sessions))
    body = generate_latest(process_registry) + generate_latest(jobs_registry)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
