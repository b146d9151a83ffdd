"""What the person running `bridge demo` sees: one live line per step, a spinner while a step waits.

The spinner redraws the step's line in place, so it is drawn only on a terminal; piped output (CI, a test
reading the lines) gets each step's final line once, and nothing else.
"""

from __future__ import annotations

import sys
from typing import TextIO

NAME_WIDTH = 22


class Symbols:
    """Check mark, cross and spinner frames; plain ASCII when the output cannot encode them."""

    def __init__(self, encoding: str | None) -> None:
        self.encoding = encoding or "ascii"
        fancy = ("✓", "✗", "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
        try:
            "".join(fancy).encode(self.encoding)
            self.unicode = True
            self.ok, self.failed, self.frames = fancy
        except (LookupError, UnicodeEncodeError):
            self.unicode = False
            self.ok, self.failed, self.frames = "ok", "!!", "|/-\\"

    def printable(self, text: str) -> str:
        """``text`` as the output can show it (an arrow becomes "?" on a Latin-1 terminal, never an error)."""
        if self.unicode:
            return text
        try:
            return text.encode(self.encoding, "replace").decode(self.encoding)
        except LookupError:
            return text.encode("ascii", "replace").decode("ascii")


class Console:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.live = self.out.isatty()
        self.symbols = Symbols(getattr(self.out, "encoding", None))
        self._step: str | None = None
        self._frame = 0

    def _write(self, text: str) -> None:
        self.out.write(self.symbols.printable(text))
        self.out.flush()

    def line(self, text: str = "") -> None:
        self._clear()
        self._write(text + "\n")

    def begin(self, name: str) -> None:
        """A step starts: on a terminal its line shows at once, with the spinner's first frame."""
        self._step, self._frame = name, 0
        self.tick()

    def tick(self, waiting_for: str = "") -> None:
        """Advance the spinner of the current step (called while it waits)."""
        if not self.live or self._step is None:
            return
        frame = self.symbols.frames[self._frame % len(self.symbols.frames)]
        self._frame += 1
        suffix = f"  {waiting_for}" if waiting_for else ""
        self._write(f"\r\033[K  {frame} {self._step.ljust(NAME_WIDTH)}{suffix}")

    def done(self, detail: str) -> None:
        self._finish(self.symbols.ok, detail)

    def failed(self, reason: str) -> None:
        self._finish(self.symbols.failed, reason)

    def detail(self, text: str) -> None:
        """An indented line under the current step (an email's subject and link, an instruction)."""
        self.line(" " * (NAME_WIDTH + 6) + text)

    def _finish(self, mark: str, text: str) -> None:
        name = self._step or ""
        self._clear()  # the spinner's line becomes the step's final line
        self._step = None
        self._write(f"  {mark} {name.ljust(NAME_WIDTH)}  {text}".rstrip() + "\n")

    def _clear(self) -> None:
        if self.live and self._step is not None:
            self._write("\r\033[K")
