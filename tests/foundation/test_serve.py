"""`bridge serve` and `bridge worker` as real processes, on the embedded default (no setup at all)."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import requests

BRIDGE = str(Path(sys.executable).with_name("bridge"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "PROMETHEUS_"))}


def _wait_ready(url: str, process: subprocess.Popen, seconds: float = 30) -> requests.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else "exited"
        try:
            response = requests.get(url, timeout=1)
            if response.status_code == 200:
                return response
        except (requests.ConnectionError, requests.Timeout):  # workers still booting
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never became ready")


def test_serve_on_the_embedded_default_answers_readyz(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen([BRIDGE, "serve", "--port", str(port), "--workers", "2"], cwd=tmp_path,
                               env=_clean_env(), stderr=subprocess.PIPE, text=True)
    try:
        ready = _wait_ready(f"http://127.0.0.1:{port}/readyz", process)
        assert ready.json()["status"] == "ready"
        assert (tmp_path / "bridge.db").exists()  # SQLite in the working directory, migrated on start
        key_file = tmp_path / ".bridge-master.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        for _ in range(3):
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        # Counted across gunicorn's worker processes.
        assert 'bridge_http_requests_total{method="GET",route="/healthz",status="200"} 3.0' in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "DEVELOPMENT MASTER KEY" in stderr


def test_worker_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen([BRIDGE, "worker"], cwd=tmp_path, env=_clean_env(), stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 30
    while not (tmp_path / "bridge.db").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # past migration, into the polling loop
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "started" in stderr and "finishing the current job, then stopping" in stderr
    assert stderr.rstrip().endswith("stopped\"}") or "stopped" in stderr.splitlines()[-1]
