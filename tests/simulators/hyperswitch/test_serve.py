"""``serve()``: runs in the foreground, seeds the demo merchant and prints its keys."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

from bridge.simulators.hyperswitch import DEMO_MERCHANT, create_app
from bridge.simulators.server import BackgroundServer

from .contract import HyperswitchHttp
from .helpers import pay

ROOT = Path(__file__).resolve().parents[3]


def test_serve_seeds_and_prints_the_demo_merchant() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "from bridge.simulators.hyperswitch import serve; serve(port=0)"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        printed = []
        for line in process.stdout:
            printed.append(line)
            if "listening on" in line:
                break
        url = re.search(r"listening on (http://\S+)", printed[-1]).group(1)

        client = HyperswitchHttp(url, DEMO_MERCHANT["api_key"])
        payment = pay(client)
        profile = client.get(f"/account/{DEMO_MERCHANT['merchant_id']}/business_profile/"
                             f"{DEMO_MERCHANT['profile_id']}").json()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)

    text = "".join(printed)
    assert all(value in text for value in DEMO_MERCHANT.values())
    assert payment["merchant_id"] == DEMO_MERCHANT["merchant_id"] and payment["status"] == "succeeded"
    assert profile["payment_response_hash_key"] == DEMO_MERCHANT["payment_response_hash_key"]
    assert process.returncode == 0


def test_create_app_without_state_serves_the_demo_merchant() -> None:
    with BackgroundServer(create_app()) as server:
        listed = HyperswitchHttp(server.url, DEMO_MERCHANT["api_key"]).get("/payments/list")

    assert listed.status_code == 200 and listed.json() == {"size": 0, "data": []}
