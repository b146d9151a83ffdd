"""`bridge serve`: the app under gunicorn, with defaults that suit a Kill Bill plugin sidecar."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication

from bridge.settings import Settings


def default_workers() -> int:
    return multiprocessing.cpu_count() * 2 + 1


def _child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        from bridge.app import create_app

        return create_app(self.settings)


def gunicorn_options(settings: Settings, host: str, port: int, workers: int | None) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers or settings.web_workers or default_workers(),
        "worker_class": "gthread",
        "threads": settings.web_threads,
        # Kill Bill gives a plugin call 30 s; a stuck worker is recycled well before that.
        "timeout": settings.web_timeout_seconds,
        "graceful_timeout": settings.web_timeout_seconds,
        "keepalive": 5,
        "limit_request_line": 8190,
        "accesslog": None,  # requests are logged and counted by the app itself
        "child_exit": _child_exit,
        "preload_app": False,
    }


def run(settings: Settings, host: str, port: int, workers: int | None = None) -> None:
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    owned_dir = None
    if not metrics_dir:
        owned_dir = tempfile.mkdtemp(prefix="bridge-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = owned_dir
    try:
        _Gunicorn(settings, gunicorn_options(settings, host, port, workers)).run()
    finally:
        if owned_dir:
            shutil.rmtree(owned_dir, ignore_errors=True)
