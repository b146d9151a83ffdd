"""The product as a deployment runs it, in separate processes on loopback: ``bridge serve`` (gunicorn) and
``bridge worker`` processes on SQLite or PostgreSQL, and the two simulators (``bridge simulate hyperswitch``
and ``bridge simulate killbill``), driven through their HTTP control APIs. Any process can be killed with
SIGKILL and started again, as an orchestrator would.

Used by the end-to-end suite against a real Kill Bill (tests/killbill_server), the soak (tests/soak) and the
benchmarks (benchmarks/).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from bridge.simulators.smtp import free_port
from hyperswitch_client import HyperswitchClient
from killbill_client import KillBillClient

T = TypeVar("T")
HTTP_TIMEOUT = 30.0
PLUGIN_NAME = "hyperswitch-bridge"
KB_ADMIN, KB_PASSWORD = "admin", "password"  # Kill Bill's default shiro.ini user, which the simulator keeps


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 90.0, interval: float = 0.5) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` and its last answer."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = probe()
        if last:
            return last  # type: ignore[no-any-return]
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up waiting for {what}; last seen: {last!r}")
        time.sleep(interval)


def bridge_executable() -> Path:
    return Path(sys.executable).with_name("bridge")


# -- PostgreSQL --------------------------------------------------------------------------------------
class PostgresServer:
    """Creates and drops throwaway databases on a server (scripts/test-postgres starts one)."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")

    def create_database(self, prefix: str = "bridge_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# -- one process --------------------------------------------------------------------------------------
@dataclass
class Service:
    """A ``bridge`` subcommand run as its own process, its output appended to ``<log_dir>/<name>.log``."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_dir: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        with (self.log_dir / f"{self.name}.log").open("ab") as log:
            # A session of its own: SIGKILL of the group also takes gunicorn's workers.
            self.process = subprocess.Popen([str(bridge_executable()), *self.args], env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, cwd=self.log_dir, start_new_session=True)
        self.starts += 1

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL, the whole process group, as the OOM killer or a lost host would: nothing runs after it."""
        if self.alive():
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 30.0) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, chars: int = 8000) -> str:
        path = self.log_dir / f"{self.name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def _clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("BRIDGE_")}
    env.update(extra)
    return env


def _answers(url: str, service: Service) -> bool:
    service.check_alive()
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


# -- the simulators -----------------------------------------------------------------------------------
@dataclass
class Simulator:
    """``bridge simulate hyperswitch|killbill`` as its own process; ``control`` calls its ``/__sim`` API."""

    kind: str
    url: str
    service: Service
    http: requests.Session = field(default_factory=requests.Session)

    @classmethod
    def start(cls, kind: str, log_dir: Path, port: int | None = None) -> Simulator:
        port = port or free_port()
        service = Service(f"simulate-{kind}", ["simulate", kind, "--port", str(port)], _clean_env({}), log_dir)
        simulator = cls(kind, f"http://127.0.0.1:{port}", service)
        service.start()
        probe = "/__sim/merchants" if kind == "hyperswitch" else "/__sim/clock"
        eventually(lambda: _answers(simulator.url + probe, service), f"the {kind} simulator", timeout=60,
                   interval=0.1)
        return simulator

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.url}/__sim{path}", timeout=HTTP_TIMEOUT, **kwargs)
        assert response.status_code < 300, (method, path, response.status_code, response.text[:500])
        return response.json() if response.content else None

    def stop(self) -> None:
        self.http.close()
        self.service.stop()


# -- the bridge ---------------------------------------------------------------------------------------
# Peers on loopback answer at once: poll and retry in fractions of a second, not production's seconds.
QUICK_JOBS = {"BRIDGE_WORKER_POLL_SECONDS": "0.2", "BRIDGE_JOB_BACKOFF_BASE_SECONDS": "0.5",
              "BRIDGE_JOB_BACKOFF_MAX_SECONDS": "5"}


@dataclass
class Sidecar:
    """``bridge serve`` (gunicorn, ``web_workers``) and ``job_workers`` × ``bridge worker`` on one database."""

    url: str
    env: dict[str, str]
    admin_token: str
    plugin_secret: str
    log_dir: Path
    services: dict[str, Service]
    http: requests.Session = field(default_factory=requests.Session)

    @classmethod
    def start(cls, log_dir: Path, *, database_url: str | None = None, port: int | None = None,
              smtp_port: int | None = None, web_workers: int = 2, job_workers: int = 1,
              env: Mapping[str, str] | None = None) -> Sidecar:
        port = port or free_port()
        url = f"http://127.0.0.1:{port}"
        admin_token, plugin_secret = uuid.uuid4().hex, uuid.uuid4().hex
        settings = {
            "BRIDGE_DATABASE_URL": database_url or f"sqlite:///{log_dir / 'bridge.db'}",
            "BRIDGE_MASTER_KEYS": Fernet.generate_key().decode(), "BRIDGE_ADMIN_TOKEN": admin_token,
            "BRIDGE_PLUGIN_SHARED_SECRET": plugin_secret,
            "BRIDGE_HOST": "127.0.0.1", "BRIDGE_PORT": str(port), "BRIDGE_WEB_WORKERS": str(web_workers),
            # Kill Bill calls back here (push notifications) and payors open links here.
            "BRIDGE_PUBLIC_URL": url,
            # Every peer is on http://127.0.0.1 here.
            "BRIDGE_ALLOW_HTTP_LOOPBACK": "true", "BRIDGE_AUTO_MIGRATE": "false",
            "BRIDGE_LOG_FORMAT": "text", "BRIDGE_LOG_LEVEL": "INFO", **QUICK_JOBS,
        }
        if smtp_port:
            settings.update(BRIDGE_SMTP_HOST="127.0.0.1", BRIDGE_SMTP_PORT=str(smtp_port),
                            BRIDGE_SMTP_SECURITY="none")
        settings.update(env or {})
        full_env = _clean_env(settings)
        services = {"web": Service("web", ["serve"], full_env, log_dir)}
        for number in range(1, job_workers + 1):
            services[f"worker-{number}"] = Service(f"worker-{number}", ["worker"], full_env, log_dir)
        sidecar = cls(url, full_env, admin_token, plugin_secret, log_dir, services)
        migrate = sidecar.cli("db", "upgrade")
        assert migrate.returncode == 0, migrate.stderr
        for service in services.values():
            service.start()
        try:
            sidecar.wait_ready()
        except AssertionError:
            sidecar.stop()
            raise AssertionError(f"the bridge did not become ready:\n{sidecar.logs()}") from None
        return sidecar

    @property
    def database_url(self) -> str:
        return self.env["BRIDGE_DATABASE_URL"]

    @property
    def workers(self) -> list[Service]:
        return [service for name, service in self.services.items() if name.startswith("worker-")]

    def wait_ready(self, timeout: float = 60.0) -> None:
        for service in self.services.values():
            service.check_alive()
        eventually(lambda: _answers(self.url + "/readyz", self.services["web"]), "the bridge's /readyz",
                   timeout=timeout, interval=0.05)

    def restart(self, name: str) -> None:
        """SIGKILL one process and start it again (the web one is ready again before this returns)."""
        service = self.services[name]
        service.kill()
        service.start()
        if name == "web":
            self.wait_ready()

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.url + path, timeout=HTTP_TIMEOUT,
                                     headers={"Authorization": f"Bearer {self.admin_token}"}, **kwargs)
        assert response.status_code < 300, (method, path, response.status_code, response.text[:500])
        return response.json()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(bridge_executable()), *args], env=self.env, capture_output=True, text=True,
                              timeout=300, cwd=self.log_dir)

    def logs(self) -> str:
        return "\n".join(f"== {service.name}\n{service.log_tail()}" for service in self.services.values())

    def stop(self) -> None:
        self.http.close()
        for service in self.services.values():
            service.stop()


# -- a biller on the simulators: a Kill Bill tenant mapped to a Hyperswitch merchant ---------------------
@dataclass
class SimulatedBiller:
    tenant_id: str
    merchant_id: str
    profile_id: str
    kb: KillBillClient
    hs: HyperswitchClient
    hs_api_key: str
    hs_hash_key: str

    def close(self) -> None:
        self.kb.close()
        self.hs.close()


def map_biller(sidecar: Sidecar, hyperswitch: Simulator, killbill: Simulator, *, plugin_timeout: float = 30.0,
               settings: Mapping[str, Any] | None = None) -> SimulatedBiller:
    """What an operator does for a new biller: a Kill Bill tenant whose plugin calls go to the bridge, a
    Hyperswitch merchant whose webhooks go to the bridge, and the mapping made through the admin API (which
    registers the Kill Bill push callback)."""
    suffix = uuid.uuid4().hex[:10]
    api_key, api_secret = f"acme-{suffix}", f"secret-{suffix}"
    with KillBillClient(killbill.url, username=KB_ADMIN, password=KB_PASSWORD) as admin:
        tenant = admin.tenants.create(api_key, api_secret, external_key=f"acme-{suffix}")
    assert tenant.tenant_id is not None
    killbill.control("PUT", f"/tenants/{tenant.tenant_id}/plugins/{PLUGIN_NAME}",
                     json={"url": sidecar.url, "secret": sidecar.plugin_secret, "timeout": plugin_timeout})
    merchant_id, profile_id = f"merchant_{suffix}", f"pro_{suffix}"
    hs_api_key, hash_key = f"snd_{suffix}_api_key", f"hash_{suffix}_" + "k" * 40
    hyperswitch.control("POST", "/merchants", json={
        "merchant_id": merchant_id, "api_key": hs_api_key, "profile_id": profile_id,
        "publishable_key": f"pk_snd_{suffix}", "payment_response_hash_key": hash_key,
        "webhook_url": f"{sidecar.url}/webhooks/hyperswitch"})
    created = sidecar.admin("POST", "/admin/v1/tenants", json={
        "kb_tenant_id": str(tenant.tenant_id), "name": f"Acme {suffix}", "killbill_url": killbill.url,
        "kb_api_key": api_key, "kb_api_secret": api_secret, "kb_username": KB_ADMIN, "kb_password": KB_PASSWORD,
        "hs_base_url": hyperswitch.url, "hs_merchant_id": merchant_id, "hs_profile_id": profile_id,
        "hs_api_key": hs_api_key, "hs_publishable_key": f"pk_snd_{suffix}", "hs_webhook_secret": hash_key,
        "settings": dict(settings or {"email": {"sender": "billing@acme.example", "brand_name": "Acme"}})})
    assert created["callback"]["status"] == "registered", created["callback"]
    kb = KillBillClient(killbill.url, username=KB_ADMIN, password=KB_PASSWORD, api_key=api_key,
                        api_secret=api_secret, created_by="stack-biller")
    hs = HyperswitchClient(hyperswitch.url, hs_api_key, profile_id=profile_id)
    return SimulatedBiller(str(tenant.tenant_id), merchant_id, profile_id, kb, hs, hs_api_key, hash_key)
