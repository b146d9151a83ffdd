"""`bridge demo` as a person runs it: the console script in a process of its own, its output read line by
line as it comes, and what it leaves behind checked after it exits (processes, listening ports, files)."""

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
from collections.abc import Sequence
from pathlib import Path

# Generous: the machine is shared with other test processes (a guard against a hang, not a speed claim).
RUN_SECONDS = 180.0
# The console script beside the interpreter running the tests (the virtualenv's), else the module.
_SCRIPT = Path(sys.executable).with_name("bridge")
BRIDGE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bridge.cli"]
HOST = "127.0.0.1"

SETUP_STEPS = ("Hyperswitch simulator", "Kill Bill simulator", "SMTP sink", "bridge and worker")
STORY_STEPS = ("tenant mapping", "payors", "automatic payment", "declined payment", "asynchronous payment",
               "refund", "pay-by-link email", "paid by link", "all reconciled")
PAY_LINK = re.compile(r"^\s+Link:\s+(http://127\.0\.0\.1:\d+/pay/\S+)$")


def free_port_run(count: int) -> int:
    """The first of ``count`` consecutive ports that nobody listens on right now."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            base = probe.getsockname()[1]
        if base + count < 65536 and all(port_is_free(base + offset) for offset in range(count)):
            return base
    raise AssertionError(f"found no {count} consecutive free ports")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def nobody_listens(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((HOST, port)) != 0


def ports_in(lines: Sequence[str]) -> list[int]:
    """Every loopback port a line of the demo names (its services announce where they listen)."""
    return sorted({int(port) for line in lines for port in re.findall(r"127\.0\.0\.1:(\d+)", line)})


def process_group(pgid: int) -> list[int]:
    """Live processes of a process group (a child the demo left running would still be in its group)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


class DemoProcess:
    """``bridge demo`` in a new session (so its process group can be checked afterwards), output piped."""

    def __init__(self, args: Sequence[str], tmp_path: Path) -> None:
        self.temp_dir = tmp_path / "tmp"
        self.temp_dir.mkdir(exist_ok=True)
        env = {name: value for name, value in os.environ.items() if not name.startswith("BRIDGE_")}
        # The demo writes ✓ and ✗: decode its output as UTF-8 whatever the locale of the test run.
        env.update(PYTHONIOENCODING="utf-8", TMPDIR=str(self.temp_dir))
        self.process = subprocess.Popen([*BRIDGE, "demo", *args], cwd=tmp_path, env=env, text=True,
                                        encoding="utf-8", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        start_new_session=True)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._errors: list[str] = []
        self._readers = [threading.Thread(target=self._read_output, daemon=True),
                         threading.Thread(target=self._read_errors, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        self._errors.extend(self.process.stderr)

    @property
    def stderr(self) -> str:
        return "".join(self._errors)

    def wait_for_line(self, pattern: re.Pattern[str], timeout: float = RUN_SECONDS) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no line like {pattern.pattern!r} in {timeout:g} s:\n"
                                     + "\n".join(self.lines)) from None
            if line is None:
                self.finish()
                raise AssertionError(f"the demo ended (exit {self.process.returncode}) before a line like "
                                     f"{pattern.pattern!r}:\n" + "\n".join(self.lines) + "\n" + self.stderr)
            self.lines.append(line)
            found = pattern.search(line)
            if found:
                return found

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def finish(self, timeout: float = RUN_SECONDS) -> int:
        """Wait for the exit; every line of output is then in ``lines``, stderr in ``stderr``."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise AssertionError("the demo did not end in time:\n" + self.output) from None
        for reader in self._readers:
            reader.join(timeout=10)
        while (line := self._queue.get_nowait() if not self._queue.empty() else None) is not None:
            self.lines.append(line)
        return self.process.returncode

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def run_demo(args: Sequence[str], tmp_path: Path) -> DemoProcess:
    demo = DemoProcess(args, tmp_path)
    demo.finish()
    return demo


def assert_nothing_left(demo: DemoProcess) -> None:
    """No process of the demo's group runs any more, and no port it announced is still listening."""
    assert demo.process.returncode is not None
    assert process_group(demo.process.pid) == []
    ports = ports_in(demo.lines)
    assert ports, demo.output
    assert [port for port in ports if not nobody_listens(port)] == []


def step_line(name: str, mark: str = "✓") -> re.Pattern[str]:
    return re.compile(rf"^  {re.escape(mark)} {re.escape(name)}\s{{2,}}\S")
