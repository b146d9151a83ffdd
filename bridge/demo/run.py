"""Running the demo: its data directory and log, the services, the story, and a clean stop however it ends.

Ctrl-C (SIGINT) and SIGTERM end the demo at any point: every service it started is stopped (see
``stack``: ports closed, threads ended) before the process exits with 128 + the signal's number. A further
signal while it stops is ignored, so the stop itself is never cut short.
"""

from __future__ import annotations

import logging
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from bridge.demo.console import Console
from bridge.demo.scenario import Scenario
from bridge.demo.stack import DATABASE_FILE, MASTER_KEY_FILE, DemoStack, Ports
from bridge.demo.waiting import StepFailed
from bridge.errors import ConfigError
from bridge.logs import configure_logging

LOG_FILE = "demo.log"

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DemoOptions:
    step_timeout: float  # how long a step may wait for its expected state (the CLI's --step-timeout)
    interactive: bool = True
    port_base: int | None = None
    data_dir: Path | None = None  # None: a temporary directory, removed afterwards unless a step failed


@dataclass(frozen=True)
class DemoResult:
    exit_code: int
    message: str
    summary: tuple[tuple[str, ...], list[tuple[str, ...]]] | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class Interrupted(BaseException):
    """SIGINT or SIGTERM: not an error of a step (BaseException, so no step mistakes it for one)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def run_demo(options: DemoOptions, console: Console | None = None) -> DemoResult:
    console = console or Console()
    data_dir, temporary = _data_dir(options.data_dir)
    keep = not temporary
    try:
        with _signals() as stopping, _logging_to(data_dir / LOG_FILE):
            result = _run(options, console, data_dir, stopping)
            keep = keep or not result.ok
            return result
    except Interrupted as exc:
        return DemoResult(128 + exc.signum, f"stopped by {exc}; everything the demo started is stopped")
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def _run(options: DemoOptions, console: Console, data_dir: Path, stopping: threading.Event) -> DemoResult:
    started = time.monotonic()
    stack = DemoStack(data_dir, Ports.from_base(options.port_base))
    scenario = Scenario(stack, console, interactive=options.interactive, step_timeout=options.step_timeout)
    console.line("bridge demo: the Hyperswitch and Kill Bill simulators, the bridge and its worker, on loopback")
    try:
        try:
            scenario.run()
        except StepFailed as exc:
            return DemoResult(1, f"the demo failed at {exc}\nthe bridge's log: {data_dir / LOG_FILE}",
                              _summary_or_none(scenario))
        elapsed = time.monotonic() - started
        try:
            summary = scenario.summary()
        except Exception as exc:  # noqa: BLE001 - reported as the demo's failure, with the log to read
            log.exception("could not read the summary")
            return DemoResult(1, f"the demo could not read its summary: {type(exc).__name__}: {exc}\n"
                                 f"the bridge's log: {data_dir / LOG_FILE}")
        return DemoResult(0, f"every step reached its expected state ({elapsed:.1f} s)"
                          + _kept_hint(options, data_dir), summary)
    finally:
        stopping.set()  # from here on, a signal waits for the stop to finish
        scenario.close()
        stack.stop()


def _summary_or_none(scenario: Scenario) -> tuple[tuple[str, ...], list[tuple[str, ...]]] | None:
    """What the invoices of a failed run look like, if Kill Bill and Hyperswitch can still tell."""
    if not scenario.invoices:
        return None
    try:
        return scenario.summary()
    except Exception:  # noqa: BLE001 - the failure is already reported; the summary is a bonus
        log.warning("could not read the summary after the failure", exc_info=True)
        return None


def _kept_hint(options: DemoOptions, data_dir: Path) -> str:
    if options.data_dir is None:
        return ""
    return (f"\nkept in {data_dir}: inspect it with BRIDGE_DATABASE_URL=sqlite:///{data_dir / DATABASE_FILE} "
            f"BRIDGE_MASTER_KEY_FILE={data_dir / MASTER_KEY_FILE} bridge webhooks list (or jobs list, tenants list)")


def _data_dir(given: Path | None) -> tuple[Path, bool]:
    """The directory of the demo's database and log, and whether it is a temporary one."""
    if given is None:
        return Path(tempfile.mkdtemp(prefix="bridge-demo-")), True
    given = given.resolve()
    if given.exists() and not given.is_dir():
        raise ConfigError(f"--data-dir: {given} is not a directory")
    if (given / DATABASE_FILE).exists():
        raise ConfigError(f"--data-dir: {given} already holds a {DATABASE_FILE}; give an empty directory")
    given.mkdir(parents=True, exist_ok=True)
    return given, False


@contextmanager
def _logging_to(path: Path) -> Iterator[None]:
    """Every log line of the bridge and the simulators goes to the demo's log file, not between the steps."""
    access = logging.getLogger("werkzeug")
    access_level = access.level
    with path.open("a", encoding="utf-8") as stream:
        configure_logging("INFO", "text", stream=stream)
        # Not the servers' access lines: their paths carry bearer tokens (/pay/<token>, the push callback's).
        access.setLevel(logging.WARNING)
        try:
            yield
        finally:
            access.setLevel(access_level)
            root = logging.getLogger()
            for handler in [h for h in root.handlers if getattr(h, "_bridge_handler", False)]:
                root.removeHandler(handler)
                handler.close()


@contextmanager
def _signals() -> Iterator[threading.Event]:
    """SIGINT and SIGTERM raise :class:`Interrupted` until the returned event is set, then are ignored.

    Signal handlers belong to the main thread; elsewhere (an embedding program) the defaults stay.
    """
    stopping = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stopping
        return

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            raise Interrupted(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
