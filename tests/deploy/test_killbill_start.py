"""deploy/killbill/start-killbill.sh: the plugin's defaults land in Kill Bill's configuration, then Kill Bill starts.

Run against a stand-in of the image's layout ($KILLBILL_INSTALL_DIR with killbill.properties and the
image's own killbill.sh), so what the script leaves behind, and what it starts, can be read back.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from .stack import KILLBILL_START_SCRIPT, plugin_config_keys

# The image's own start script, stood in for: it proves it was exec'd by printing the configuration.
IMAGE_START = """#!/bin/bash
echo "killbill.sh started by pid $$"
cat "$KILLBILL_INSTALL_DIR/killbill.properties"
"""


@pytest.fixture()
def install_dir(tmp_path: Path) -> Path:
    start = tmp_path / "killbill.sh"
    start.write_text(IMAGE_START)
    start.chmod(0o755)
    return tmp_path


def run_start(install_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the script; ``args`` of the result is the pid it ran as."""
    environ = {"PATH": os.environ["PATH"], "KILLBILL_INSTALL_DIR": str(install_dir), **env}
    with subprocess.Popen(["bash", str(KILLBILL_START_SCRIPT)], env=environ, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        stdout, stderr = process.communicate(timeout=30)
    return subprocess.CompletedProcess(process.pid, process.returncode, stdout, stderr)


def read_properties(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def test_it_writes_the_plugins_url_and_secret_under_the_plugins_own_keys(install_dir: Path) -> None:
    keys = plugin_config_keys()
    result = run_start(install_dir, HYPERSWITCH_BRIDGE_URL="http://bridge-web:8787",
                       HYPERSWITCH_BRIDGE_SECRET="0f3a9c")
    assert result.returncode == 0, result.stderr
    properties = read_properties(install_dir / "killbill.properties")
    assert properties == {keys["URL"]: "http://bridge-web:8787", keys["SECRET"]: "0f3a9c"}
    # The secret is readable by Kill Bill's user only.
    assert stat.S_IMODE((install_dir / "killbill.properties").stat().st_mode) == 0o600
    # Then the image's own start replaces the script (exec: same pid, signals reach Kill Bill), reading
    # the file just written.
    assert result.stdout.startswith(f"killbill.sh started by pid {result.args}\n")
    assert f"{keys['URL']}=http://bridge-web:8787" in result.stdout


def test_it_keeps_the_rest_of_the_configuration_and_replaces_its_own_lines(install_dir: Path) -> None:
    keys = plugin_config_keys()
    (install_dir / "killbill.properties").write_text(
        "# Placeholder\n"
        "org.killbill.server.test.mode=false\n"
        f"{keys['URL']}=http://old-bridge:8000\n"
        f"{keys['SECRET']}=old\n"
        f"{keys['READ_TIMEOUT_MS']}=20000\n")
    result = run_start(install_dir, HYPERSWITCH_BRIDGE_URL="http://bridge-web:8787", HYPERSWITCH_BRIDGE_SECRET="new")
    assert result.returncode == 0, result.stderr
    text = (install_dir / "killbill.properties").read_text()
    assert text.startswith("# Placeholder\norg.killbill.server.test.mode=false\n")
    assert read_properties(install_dir / "killbill.properties") == {
        "org.killbill.server.test.mode": "false", keys["URL"]: "http://bridge-web:8787", keys["SECRET"]: "new"}
    # Restarting the container changes nothing more.
    again = run_start(install_dir, HYPERSWITCH_BRIDGE_URL="http://bridge-web:8787", HYPERSWITCH_BRIDGE_SECRET="new")
    assert again.returncode == 0 and (install_dir / "killbill.properties").read_text() == text
    assert [p.name for p in install_dir.iterdir() if p.name.startswith(".killbill.properties")] == []


@pytest.mark.parametrize("missing", ["HYPERSWITCH_BRIDGE_URL", "HYPERSWITCH_BRIDGE_SECRET"])
def test_without_the_bridges_address_or_secret_kill_bill_does_not_start(install_dir: Path, missing: str) -> None:
    env = {"HYPERSWITCH_BRIDGE_URL": "http://bridge-web:8787", "HYPERSWITCH_BRIDGE_SECRET": "s"}
    env[missing] = ""
    result = run_start(install_dir, **env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "killbill.sh started" not in result.stdout
    assert not (install_dir / "killbill.properties").exists()
