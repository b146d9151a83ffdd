"""The soak's counts in pytest's terminal summary (they travel as the test's user properties, so this works with
pytest-xdist too, whose workers' output is not shown)."""

from __future__ import annotations

from typing import Any

SUMMARY_PROPERTY = "soak_summary"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    summaries = [value for reports in terminalreporter.stats.values() for report in reports
                 if getattr(report, "when", None) == "call"
                 for name, value in getattr(report, "user_properties", ()) if name == SUMMARY_PROPERTY]
    if summaries:
        terminalreporter.section("soak")
        for summary in summaries:
            terminalreporter.write_line(summary)
