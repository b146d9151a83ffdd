"""`bridge demo`: run as a person runs it (the console script, its own process), it reaches every step's
expected state, exits 0 only then, and leaves no process, listening port or temporary file behind; a step
that cannot reach its state ends it non-zero, naming the step; Ctrl-C and SIGTERM stop it cleanly."""

from __future__ import annotations

import io
import re
import signal
import socket
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.demo.console import Console
from bridge.demo.scenario import Scenario
from bridge.demo.stack import DemoStack, Ports
from bridge.demo.waiting import StepFailed
from tests.demo.support import (HOST, PAY_LINK, SETUP_STEPS, STORY_STEPS, DemoProcess, assert_nothing_left,
                                free_port_run, nobody_listens, run_demo, step_line)


def test_non_interactive_demo_reaches_every_step_and_leaves_nothing_behind(tmp_path: Path) -> None:
    demo = run_demo(["--non-interactive"], tmp_path)

    assert demo.process.returncode == 0, demo.output + demo.stderr
    for name in SETUP_STEPS + STORY_STEPS:
        assert any(step_line(name).search(line) for line in demo.lines), (name, demo.output)
    assert "✗" not in demo.output
    # The pay-by-link email as the payor got it, then the summary: four invoices, what Kill Bill and
    # Hyperswitch say about each, the emails sent.
    assert any(re.search(r"Subject: Acme Cloud: invoice \d+ for \$75\.00", line) for line in demo.lines)
    assert any(PAY_LINK.search(line) for line in demo.lines)
    header = next(line for line in demo.lines if line.startswith("INVOICE"))
    assert header.split() == ["INVOICE", "PAYOR", "AMOUNT", "BALANCE", "KILL", "BILL", "HYPERSWITCH", "EMAILS"]
    rows = [line for line in demo.lines if re.match(r"^\d+\s+(Ada Lovelace|Grace Hopper)\s", line)]
    assert [row.split()[3:5] for row in rows] == [["49.90", "USD"], ["20.00", "USD"], ["30.00", "USD"],
                                                  ["75.00", "USD"]]
    assert [row.split()[5:7] for row in rows] == [["0.00", "USD"], ["20.00", "USD"], ["0.00", "USD"],
                                                  ["0.00", "USD"]]
    assert "PURCHASE PAYMENT_FAILURE" in rows[1] and "failed" in rows[1]
    assert "REFUND SUCCESS" in demo.output and re.search(r"kbr_\w{26} succeeded", demo.output)
    assert re.search(r"pay_link to grace@example\.com", demo.output)
    assert demo.lines[-1].startswith("every step reached its expected state")
    # Piped output: no spinner frames, no cursor movement.
    assert "\r" not in demo.output and "\x1b[" not in demo.output
    assert_nothing_left(demo)
    assert list(demo.temp_dir.iterdir()) == []  # its temporary data directory is gone


def test_a_step_that_cannot_run_fails_the_demo_and_names_it(tmp_path: Path) -> None:
    base = free_port_run(4)
    with socket.socket() as squatter:  # someone else already listens where the bridge should
        squatter.bind((HOST, base + 2))
        squatter.listen()
        demo = run_demo(["--non-interactive", "--port-base", str(base)], tmp_path)

    assert demo.process.returncode == 1, demo.output + demo.stderr
    for name in ("Hyperswitch simulator", "Kill Bill simulator", "SMTP sink"):
        assert any(step_line(name).search(line) for line in demo.lines), demo.output
    assert any(step_line("bridge and worker", "✗").search(line) for line in demo.lines), demo.output
    assert f"the demo failed at bridge and worker: {HOST}:{base + 2} is already in use" in demo.stderr
    assert not any(step_line(name).search(line) for name in STORY_STEPS for line in demo.lines)
    # The services started before the failure are stopped again; the data directory stays for its log.
    assert all(nobody_listens(port) for port in (base, base + 1, base + 3))
    assert_nothing_left(demo)
    [kept] = demo.temp_dir.iterdir()
    assert (kept / "demo.log").is_file()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_while_waiting_for_the_payor_stops_everything(tmp_path: Path, signum: int) -> None:
    demo = DemoProcess([], tmp_path)  # interactive: it waits for someone to pay the emailed link
    demo.wait_for_line(PAY_LINK)

    demo.send(signum)

    assert demo.finish() == 128 + signum, demo.output + demo.stderr
    assert f"stopped by {signal.Signals(signum).name}" in demo.stderr
    assert not any(step_line("paid by link").search(line) for line in demo.lines)
    assert_nothing_left(demo)
    assert list(demo.temp_dir.iterdir()) == []


def test_a_step_whose_state_is_not_reached_fails_with_what_kill_bill_shows(tmp_path: Path) -> None:
    """In-process: the processor declines what the automatic payment step expects to succeed."""
    out = io.StringIO()
    console = Console(out)
    stack = DemoStack(tmp_path, Ports())
    scenario = Scenario(stack, console, interactive=False, step_timeout=30)
    try:
        steps = iter(scenario.steps())
        for name, action in steps:
            scenario.run_step(name, action)
            if name == "payors":
                break
        stack.hs_state.set_mandate_behaviour(scenario.ada.mandate_id, "decline")  # type: ignore[arg-type]
        name, action = next(steps)
        with pytest.raises(StepFailed) as failed:
            scenario.run_step(name, action)
    finally:
        scenario.close()
        stack.stop()

    assert name == "automatic payment"
    assert str(failed.value).startswith("automatic payment: Kill Bill's purchase is PAYMENT_FAILURE, expected "
                                        "SUCCESS (card_declined:")
    failed_line = rf"^  {re.escape(console.symbols.failed)} automatic payment\s+Kill Bill's purchase is PAYMENT_FAILURE"
    assert re.search(failed_line, out.getvalue(), re.MULTILINE), out.getvalue()
    assert scenario.invoices[0].amount == Decimal("49.90")


class Terminal(io.StringIO):
    """What a terminal shows of the demo's console: carriage returns and erase-line applied."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return True

    def screen(self) -> list[str]:
        rows, row = [], ""
        for token in re.split(r"(\r|\n|\x1b\[K)", self.getvalue()):
            if token == "\n":
                rows.append(row)
                row = ""
            elif token in ("\r", "\x1b[K"):
                row = ""  # the console always erases from the line's start
            else:
                row += token
        return rows + ([row] if row else [])


def test_on_a_terminal_a_waiting_step_spins_and_its_line_becomes_the_result() -> None:
    terminal = Terminal()
    console = Console(terminal)
    console.begin("automatic payment")
    console.tick("waiting for Kill Bill's auto-pay")
    console.tick("waiting for Kill Bill's auto-pay")
    console.done("invoice 1: paid")
    console.begin("pay-by-link email")
    console.done("emailed")
    console.detail("Link:    http://127.0.0.1:1/pay/x")
    console.begin("paid by link")
    console.tick("waiting for Grace Hopper's payment")

    raw = terminal.getvalue()
    assert "⠙ automatic payment" in raw and "waiting for Kill Bill's auto-pay" in raw
    assert terminal.screen() == [
        "  ✓ automatic payment       invoice 1: paid",
        "  ✓ pay-by-link email       emailed",
        " " * 28 + "Link:    http://127.0.0.1:1/pay/x",
        "  ⠙ paid by link            waiting for Grace Hopper's payment"]


def test_piped_output_has_only_the_final_lines_and_no_unencodable_characters() -> None:
    piped = io.StringIO()  # no terminal, and no encoding known: plain ASCII
    console = Console(piped)
    console.begin("asynchronous payment")
    console.tick("waiting for the webhook")
    console.done("PENDING → SUCCESS")

    assert piped.getvalue() == "  ok asynchronous payment    PENDING ? SUCCESS\n"
