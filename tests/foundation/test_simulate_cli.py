"""`bridge simulate hyperswitch|killbill --port N` as real processes of the installed console script.

Each answers on its port (an authenticated call: the demo merchant key the Hyperswitch simulator prints;
tenant creation with admin/password on Kill Bill) and stops cleanly, exit status 0, on SIGINT and SIGTERM.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

import hyperswitch_client as hs
from hyperswitch_client.payments import (
    CardDetails,
    PaymentCreateParams,
    PaymentMethodData,
)
from killbill_client import KillBillClient, UnauthorizedError

BRIDGE = Path(sys.executable).parent / "bridge"
STARTUP_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Simulator:
    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_reading(self) -> None:
        def pump() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self._queue.put(line)
            self._queue.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def wait_for_line(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            for line in self.lines:
                match = re.search(pattern, line)
                if match:
                    return match
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; got {self.lines}") from None
            if line is None:
                raise AssertionError(f"exited with {self.process.wait()} before printing {pattern!r}: {self.lines}")
            self.lines.append(line)

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=10)


@pytest.fixture
def simulate(tmp_path: Path) -> Iterator:
    started: list[Simulator] = []

    def start(which: str) -> Simulator:
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("BRIDGE_")}
        env["PYTHONUNBUFFERED"] = "1"
        process = subprocess.Popen([str(BRIDGE), "simulate", which, "--port", str(port)], cwd=tmp_path, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        simulator = Simulator(process, port)
        simulator.start_reading()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:  # a failed test must not leave a server behind
        if simulator.process.poll() is None:
            simulator.process.kill()
            simulator.process.wait(timeout=10)


def test_the_console_script_is_installed() -> None:
    assert BRIDGE.is_file() and os.access(BRIDGE, os.X_OK)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_simulate_hyperswitch_answers_and_stops_cleanly(simulate, signum: int) -> None:
    simulator = simulate("hyperswitch")
    listening = simulator.wait_for_line(r"listening on (http://\S+)")
    assert listening.group(1) == simulator.url
    printed = "".join(simulator.lines)
    demo = {name: re.search(rf"^\s+{name}: (\S+)$", printed, re.MULTILINE).group(1)
            for name in ("merchant_id", "api_key", "profile_id", "payment_response_hash_key")}

    with hs.HyperswitchClient(simulator.url, demo["api_key"], profile_id=demo["profile_id"]) as client:
        profile = client.profiles.retrieve(demo["merchant_id"])
        payment = client.payments.create(PaymentCreateParams(
            amount=1999, currency="USD", confirm=True, payment_method="card",
            payment_method_data=PaymentMethodData(card=CardDetails(
                card_number="4242424242424242", card_exp_month="12", card_exp_year="35",
                card_holder_name="Ada Lovelace", card_cvc="123"))))
    with hs.HyperswitchClient(simulator.url, "snd_not_the_demo_key") as stranger, \
            pytest.raises(hs.AuthenticationError):
        stranger.payments.list()

    assert profile.payment_response_hash_key == demo["payment_response_hash_key"]
    assert payment.status == "succeeded" and payment.merchant_id == demo["merchant_id"]

    assert simulator.stop(signum) == 0, "".join(simulator.lines)
    assert not port_open(simulator.port)
    assert "Traceback" not in "".join(simulator.lines)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_simulate_killbill_answers_and_stops_cleanly(simulate, signum: int) -> None:
    simulator = simulate("killbill")
    listening = simulator.wait_for_line(r"listening on (http://\S+)")
    assert listening.group(1) == simulator.url

    key = f"sim-cli-{uuid.uuid4().hex[:8]}"
    with KillBillClient(simulator.url, username="admin", password="password", timeout=(2.0, 5.0)) as admin:
        tenant = admin.tenants.create(key, "sim-cli-secret")
        assert admin.tenants.get_by_api_key(key).tenant_id == tenant.tenant_id
    with KillBillClient(simulator.url, username="admin", password="not-the-password",
                        timeout=(2.0, 5.0)) as intruder, pytest.raises(UnauthorizedError):
        intruder.tenants.get_by_api_key(key)
    assert requests.get(f"{simulator.url}/1.0/kb/tenants", params={"apiKey": key}, timeout=5).status_code == 401

    assert simulator.stop(signum) == 0, "".join(simulator.lines)
    assert not port_open(simulator.port)
    assert "Traceback" not in "".join(simulator.lines)
