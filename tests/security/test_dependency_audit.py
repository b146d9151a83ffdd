"""scripts/audit-dependencies: pip-audit over the installed environment fails on a known vulnerability, and
says so when no vulnerability service can audit from here. An OSV endpoint on loopback stands in for the
real one (the network here reaches package registries only)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit-dependencies"
ADVISORY = {"id": "GHSA-test-0001", "summary": "a known hole", "affected": [], "schema_version": "1.6.0",
            "aliases": ["CVE-2099-0001"], "modified": "2026-11-01T00:00:00Z"}


def osv(vulnerable: set[str]) -> Iterator[str]:
    """An OSV query endpoint knowing one advisory for each package in ``vulnerable``."""

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            name = query["package"]["name"]
            advisory = {**ADVISORY, "affected": [{"package": {"name": name, "ecosystem": "PyPI"},
                                                  "versions": [query["version"]]}]}
            body = json.dumps({"vulns": [advisory]} if name in vulnerable else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1/query"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def clean_osv() -> Iterator[str]:
    yield from osv(set())


@pytest.fixture
def osv_knowing_a_hole_in_jinja2() -> Iterator[str]:
    yield from osv({"jinja2"})


def audit(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), **env}  # no answers from earlier runs
    return subprocess.run([str(SCRIPT)], capture_output=True, text=True, env=environment, timeout=300)


def test_a_known_vulnerability_fails_the_audit(osv_knowing_a_hole_in_jinja2: str, tmp_path: Path) -> None:
    result = audit(tmp_path, BRIDGE_AUDIT_OSV_URL=osv_knowing_a_hole_in_jinja2)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "pip-audit against osv" in result.stdout
    assert "jinja2" in result.stdout and "CVE-2099-0001" in result.stdout  # pip-audit shows the CVE alias


def test_an_environment_without_known_vulnerabilities_passes(clean_osv: str, tmp_path: Path) -> None:
    result = audit(tmp_path, BRIDGE_AUDIT_OSV_URL=clean_osv)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No known vulnerabilities found" in result.stdout + result.stderr


def test_no_service_is_said_and_fails_where_an_audit_is_required(tmp_path: Path) -> None:
    unreachable = {"BRIDGE_AUDIT_OSV_URL": "http://127.0.0.1:9/v1/query"}  # nothing listens on port 9
    if audit(tmp_path, **unreachable).stdout.startswith("dependency audit: pip-audit against pypi"):
        pytest.skip("PyPI's per-version API answers from this machine: the audit runs there instead")
    said = audit(tmp_path, **unreachable)
    assert said.returncode == 0 and "dependency audit: NOT RUN" in said.stdout
    required = audit(tmp_path, **unreachable, BRIDGE_AUDIT_REQUIRED="true")
    assert required.returncode == 1 and "NOT RUN" in required.stdout
