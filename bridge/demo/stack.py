"""The demo's services, all in this process on loopback ports: the Hyperswitch and Kill Bill simulators, an
SMTP sink, and the bridge (its web app and a worker) on SQLite in the demo's data directory.

Each service is started by its own method, so a port already in use names the service that could not
start; every started service registers how it stops, and :meth:`DemoStack.stop` stops them in reverse
order (the worker first, since it calls the others): the worker's and the servers' threads are joined and
their ports closed; the simulators' own background threads (Kill Bill's bus and push queue, Hyperswitch's
webhook deliveries) are told to stop and end within their poll interval.
"""

from __future__ import annotations

import errno
import secrets
import socket
import threading
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bridge.app import create_app
from bridge.demo.waiting import StepFailed
from bridge.jobs.catalog import build_worker
from bridge.jobs.worker import Worker
from bridge.runtime import Runtime
from bridge.settings import Settings, load_settings
from bridge.simulators.hyperswitch import SimulatorState
from bridge.simulators.hyperswitch import create_app as hyperswitch_app
from bridge.simulators.hyperswitch.demo import demo_state
from bridge.simulators.killbill import KillBillState
from bridge.simulators.killbill import create_app as killbill_app
from bridge.simulators.server import BackgroundServer
from bridge.simulators.smtp import HOST, SmtpSink, free_port

DATABASE_FILE = "bridge.db"
MASTER_KEY_FILE = ".bridge-master.key"
WORKER_STOP_SECONDS = 30.0


class PortInUse(StepFailed):
    def __init__(self, service: str, port: int) -> None:
        super().__init__(f"{HOST}:{port} is already in use, so the {service} cannot listen there "
                         "(choose another --port-base, or leave it out for free ports)")


@dataclass(frozen=True)
class Ports:
    """Where each service listens; 0 picks a free port."""

    hyperswitch: int = 0
    killbill: int = 0
    bridge: int = 0
    smtp: int = 0

    @classmethod
    def from_base(cls, base: int | None) -> Ports:
        return cls() if base is None else cls(base, base + 1, base + 2, base + 3)


def demo_settings(data_dir: Path, bridge_port: int, smtp: SmtpSink) -> Settings:
    """The bridge's settings in the demo: everything its wiring depends on is set here, whatever the environment
    says (a real deployment's database, keys or SMTP server are never touched); the rest keeps its defaults."""
    return load_settings(
        database_url=f"sqlite:///{data_dir / DATABASE_FILE}", auto_migrate=True,
        host=HOST, port=bridge_port, public_url=f"http://{HOST}:{bridge_port}",
        # A development key in the data directory, so a kept directory can be inspected afterwards.
        master_keys=[], master_key_file=data_dir / MASTER_KEY_FILE,
        admin_token=secrets.token_urlsafe(32), plugin_shared_secret=secrets.token_urlsafe(32),
        smtp_host=smtp.host, smtp_port=smtp.port, smtp_security="none", smtp_username=None, smtp_password=None,
        templates_dir=None,
        # The simulators answer at once: poll and retry in fractions of a second, not production's seconds.
        worker_poll_seconds=0.1, job_backoff_base_seconds=0.2, job_backoff_max_seconds=2.0,
        log_level="INFO", log_format="text",
        # Every tenant URL of the demo is http://127.0.0.1:<port>: a loopback development setup.
        allow_http_loopback=True)


class DemoStack:
    def __init__(self, data_dir: Path, ports: Ports) -> None:
        self.data_dir = data_dir
        self.ports = ports
        self._stops = ExitStack()
        self.hs_state: SimulatorState
        self.hs_server: BackgroundServer
        self.kb_state: KillBillState
        self.kb_server: BackgroundServer
        self.smtp: SmtpSink
        self.runtime: Runtime
        self.bridge_server: BackgroundServer

    @property
    def bridge_url(self) -> str:
        return self.bridge_server.url

    def start_hyperswitch(self) -> None:
        """The simulator seeded with its demo merchant (``bridge.simulators.hyperswitch.DEMO_MERCHANT``)."""
        self.hs_state = demo_state()
        self._stops.callback(self.hs_state.shutdown)
        self.hs_server = self._serve("Hyperswitch simulator", hyperswitch_app(self.hs_state), self.ports.hyperswitch)

    def start_killbill(self) -> None:
        self.kb_state = KillBillState()
        self._stops.callback(self.kb_state.close)
        self.kb_server = self._serve("Kill Bill simulator", killbill_app(self.kb_state), self.ports.killbill)

    def start_smtp(self) -> None:
        sink = SmtpSink(self.ports.smtp or None)
        try:
            sink.start()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse("SMTP sink", sink.port) from None
            raise
        self._stops.callback(sink.stop)
        self.smtp = sink

    def start_bridge(self) -> None:
        """The bridge's web app and one worker thread, on a fresh SQLite database."""
        port = self.ports.bridge or free_port()
        runtime = Runtime.from_settings(demo_settings(self.data_dir, port, self.smtp))
        self._stops.callback(runtime.engine.dispose)
        self._stops.callback(runtime.audit.close)  # flushes the Hyperswitch call trail
        self.runtime = runtime
        self.bridge_server = self._serve("bridge", create_app(runtime=runtime), port)  # migrates the database
        worker = build_worker(runtime)
        thread = threading.Thread(target=worker.run, name="bridge-worker")
        thread.start()
        self._stops.callback(_stop_worker, worker, thread)

    def stop(self) -> None:
        """Stop whatever was started, newest first; safe to call more than once."""
        self._stops.close()

    def _serve(self, service: str, app, port: int) -> BackgroundServer:  # type: ignore[no-untyped-def]
        if port:
            _claimable(service, port)
        try:
            server = BackgroundServer(app, host=HOST, port=port)
        except SystemExit:
            # werkzeug's server prints why it cannot bind and exits; here that ends one step, not the process.
            raise PortInUse(service, port) from None
        server.start()
        self._stops.callback(server.stop)
        return server


def _claimable(service: str, port: int) -> None:
    """Fail clearly, before werkzeug would, when the port is taken (bound as werkzeug binds it)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(service, port) from None
            raise


def _stop_worker(worker: Worker, thread: threading.Thread) -> None:
    """The worker finishes the job it runs, then its loop ends."""
    worker.stopping.set()
    thread.join(timeout=WORKER_STOP_SECONDS)
