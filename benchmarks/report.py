"""Figures: latency percentiles and throughput of a run, the machine they were taken on, and the JSON file
each benchmark writes under benchmarks/results/."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Summary:
    """Latencies of ``calls`` calls made over ``elapsed`` seconds (wall clock, all callers together)."""

    calls: int
    errors: int
    elapsed: float
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @property
    def per_second(self) -> float:
        return self.calls / self.elapsed if self.elapsed else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "errors": self.errors, "elapsed_s": round(self.elapsed, 3),
                "per_second": round(self.per_second, 1), "p50_ms": round(self.p50_ms, 2),
                "p99_ms": round(self.p99_ms, 2), "mean_ms": round(self.mean_ms, 2)}


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (``fraction`` 0.99 for p99)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-int(fraction * 1000 * len(sorted_values)) // 1000))  # ceil, without float surprises
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize(latencies_s: Sequence[float], elapsed: float, errors: int = 0) -> Summary:
    ordered = sorted(latencies_s)
    mean = sum(ordered) / len(ordered) if ordered else 0.0
    return Summary(len(ordered), errors, elapsed, percentile(ordered, 0.50) * 1000,
                   percentile(ordered, 0.99) * 1000, mean * 1000)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                    if line.startswith("MemTotal:")), 0)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 1024 / 1024, 1),
            "os": _os_name(), "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
            "commit": _git("rev-parse", "--short", "HEAD"), "when": datetime.now(UTC).isoformat(timespec="seconds")}


def write(name: str, figures: Mapping[str, Any]) -> Path:
    """``benchmarks/results/<name>.json``: the figures and the machine; printed too, as the run's record."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {"benchmark": name, "machine": machine(), "figures": figures}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"{name}: {json.dumps(figures, default=str)}\n  → {path.relative_to(ROOT)}", flush=True)
    return path


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A plain text table for the terminal."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _os_name() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return platform.platform()


def _git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip() or "unknown"
