"""Configuration: environment over TOML, validated, one clear line per mistake."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bridge.errors import ConfigError
from bridge.settings import load_settings
from bridge.tenancy.crypto import Keyring, keyring_from_settings


def test_defaults_need_no_setup() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///bridge.db"
    assert settings.is_sqlite and settings.migrate_on_start
    assert settings.base_url == "http://127.0.0.1:8787"
    assert settings.web_timeout_seconds < 30  # Kill Bill's plugin timeout


def test_environment_overrides_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bridge.toml").write_text('port = 9100\nhost = "0.0.0.0"\nlog_level = "debug"\n')
    monkeypatch.setenv("BRIDGE_PORT", "9200")
    settings = load_settings()
    assert settings.port == 9200  # environment wins
    assert settings.host == "0.0.0.0"  # from the file
    assert settings.log_level == "DEBUG"


def test_explicit_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text('database_url = "postgresql://bridge@db/bridge"\n')
    monkeypatch.setenv("BRIDGE_CONFIG", str(path))
    settings = load_settings()
    assert settings.database_url == "postgresql+psycopg://bridge@db/bridge"
    assert not settings.migrate_on_start  # production databases are migrated explicitly


@pytest.mark.parametrize(("env", "value", "expected"), [
    ("BRIDGE_PORT", "eighty", "BRIDGE_PORT: Input should be a valid integer"),
    ("BRIDGE_PORT", "70000", "BRIDGE_PORT: Input should be less than or equal to 65535"),
    ("BRIDGE_DATABASE_URL", "mysql://x", "BRIDGE_DATABASE_URL: must be a sqlite:// or postgresql:// URL"),
    ("BRIDGE_PUBLIC_URL", "not a url", "BRIDGE_PUBLIC_URL: "),
    ("BRIDGE_WEB_TIMEOUT_SECONDS", "45", "BRIDGE_WEB_TIMEOUT_SECONDS: Input should be less than or equal to 28"),
    ("BRIDGE_SMTP_SECURITY", "ssl3", "BRIDGE_SMTP_SECURITY: Input should be 'none', 'starttls' or 'tls'"),
])
def test_wrong_values_name_the_setting(monkeypatch: pytest.MonkeyPatch, env: str, value: str, expected: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    message = str(excinfo.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_unknown_key_in_toml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bridge.toml").write_text("prot = 80\n")
    with pytest.raises(ConfigError, match="BRIDGE_PROT: Extra inputs are not permitted"):
        load_settings()


def test_a_misspelt_variable_stops_with_the_setting_it_resembles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_PUBLIC_ULR", "https://billing.example.com")
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    assert str(excinfo.value) == "BRIDGE_PUBLIC_ULR: no such setting; did you mean BRIDGE_PUBLIC_URL?"


def test_an_unknown_variable_like_no_setting_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_FROBNICATE", "1")
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    assert str(excinfo.value) == "BRIDGE_FROBNICATE: no such setting"


def test_the_projects_other_variables_and_any_case_of_a_setting_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BRIDGE_DB_PASSWORD", "BRIDGE_M2_REPO", "BRIDGE_KB_KEEP", "BRIDGE_PG_PORT", "BRIDGE_AUDIT_REQUIRED",
                 "BRIDGE_TENANT_KB_PASSWORD", "BRIDGE_TENANT_HS_API_KEY", "BRIDGE_TEST_WORKERS"):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("bridge_port", "9300")  # settings ignore case
    assert load_settings().port == 9300


def test_missing_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BRIDGE_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="BRIDGE_CONFIG: no such file"):
        load_settings()


def test_master_keys_are_comma_separated_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("BRIDGE_MASTER_KEYS", f"{new}, {old}")
    settings = load_settings()
    assert [k.get_secret_value() for k in settings.master_keys] == [new, old]
    token = Keyring([old]).encrypt("s3cret-value")
    ring = Keyring([k.get_secret_value() for k in settings.master_keys])
    assert ring.decrypt(token) == "s3cret-value"
    assert Keyring([new]).decrypt(ring.encrypt("x" * 8)) == "x" * 8  # encrypts with the newest


def test_invalid_master_key_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="BRIDGE_MASTER_KEYS: key #2 is not a valid Fernet key"):
        Keyring([Fernet.generate_key().decode(), "short"])


def test_development_key_file_is_private_and_stable(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "dev.key"
    first = keyring_from_settings([], path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "DEVELOPMENT MASTER KEY" in caplog.text
    second = keyring_from_settings([], path)
    assert second.decrypt(first.encrypt("same-key-please")) == "same-key-please"


def test_cli_reports_bad_configuration_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env["BRIDGE_PORT"] = "eighty"
    result = subprocess.run([sys.executable, "-m", "bridge.cli", "db", "upgrade"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: BRIDGE_PORT: Input should be a valid integer, unable to parse string as an integer"]
    assert "Traceback" not in result.stderr


def test_cli_names_a_misspelt_variable_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env["BRIDGE_ADMIN_TOKN"] = "an-admin-token-of-some-length"
    result = subprocess.run([sys.executable, "-m", "bridge.cli", "db", "upgrade"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: BRIDGE_ADMIN_TOKN: no such setting; did you mean BRIDGE_ADMIN_TOKEN?"]
    assert "an-admin-token" not in result.stderr + result.stdout  # the value is never echoed


def test_example_file_documents_every_setting_and_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    from bridge.settings import Settings

    example = Path(__file__).resolve().parents[2] / "config" / "bridge.example.toml"
    text = example.read_text()
    for name in Settings.model_fields:
        assert f"{name} =" in text, f"config/bridge.example.toml does not document {name}"
    monkeypatch.setenv("BRIDGE_CONFIG", str(example))
    assert load_settings().port == 8787
