"""docker-compose.yml, checked without a Docker engine: the stack an operator gets is wired right.

Every check reads the files as Docker would (variables resolved as ``docker compose`` does) and compares
them with the code they deploy: the bridge's settings and command line, the Java plugin's name, version
and configuration keys. ``docker compose config`` itself runs when a compose client is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bridge.settings import ENV_PREFIX, Settings, load_settings
from bridge.tenancy.crypto import keyring_from_settings

from .stack import (PLUGIN_SOURCES, COMPOSE_FILE, DOCKERFILE, ENV_EXAMPLE, KILLBILL_START_SCRIPT, REPO, MissingVariable, cli_path,
                    container_ports, dockerfile_env, env_example_names, environment, interpolate, load_compose,
                    parse_dockerfile, plugin_identity, published_ports, referenced_variables, required_variables,
                    sample_secrets)

BRIDGE_IMAGE = "killbill-hyperswitch-bridge:local"
KILLBILL_BUNDLES = "/var/lib/killbill/bundles"
DEPENDENCY_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}

# What each bridge process cannot run without in this stack (beyond the embedded defaults).
NEEDED_SETTINGS = {
    ("serve",): {"database_url", "master_keys", "host", "port", "public_url", "admin_token", "plugin_shared_secret"},
    ("worker",): {"database_url", "master_keys", "public_url", "smtp_host", "smtp_port"},
    ("db", "upgrade"): {"database_url", "master_keys"},
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def image_entrypoint() -> list[str]:
    [entrypoint] = [i.exec_form() for i in parse_dockerfile(DOCKERFILE.read_text()) if i.keyword == "ENTRYPOINT"]
    assert entrypoint is not None
    return entrypoint


def bridge_services(services: dict[str, dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    """Services running the bridge's image → the `bridge` subcommand each runs."""
    entrypoint = image_entrypoint()
    assert entrypoint[0] == "bridge"
    return {name: cli_path(entrypoint[1:] + list(service.get("command") or []))
            for name, service in services.items() if service.get("image") == BRIDGE_IMAGE}


def container_environment(service: dict[str, Any]) -> dict[str, str]:
    """What the process sees: the image's ENV, then the service's environment over it."""
    image_env = dockerfile_env(parse_dockerfile(DOCKERFILE.read_text())) if service.get("image") == BRIDGE_IMAGE else {}
    return {**image_env, **environment(service)}


def bridge_settings(service: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in container_environment(service).items():
        if key.startswith(ENV_PREFIX):
            monkeypatch.setenv(key, value)
    return load_settings()


def service_by_host(services: dict[str, dict[str, Any]], host: str) -> str | None:
    """The service a host name reaches on the stack's network (its name or a network alias)."""
    for name, service in services.items():
        networks = service.get("networks") or {}
        aliases = {alias for net in (networks.values() if isinstance(networks, dict) else [])
                   for alias in ((net or {}).get("aliases") or [])}
        if host == name or host in aliases:
            return name
    return None


def long_running(service: dict[str, Any]) -> bool:
    return service.get("restart") != "no"


# -- the file ---------------------------------------------------------------------------------------
def test_the_stack_has_every_part(services: dict[str, dict[str, Any]]) -> None:
    assert {"killbill-db", "killbill", "kaui", "bridge-db", "bridge-migrate", "bridge-web", "bridge-worker",
            "mailpit"} <= set(services)
    assert re.fullmatch(r"killbill/killbill:0\.24\.\d+", services["killbill"]["image"])
    # Kill Bill's own database images carry its 0.24 DDL (and a `kaui` database).
    assert services["killbill-db"]["image"] in {"killbill/mariadb:0.24", "killbill/postgresql:0.24"}
    assert re.fullmatch(r"killbill/kaui:\d+\.\d+\.\d+", services["kaui"]["image"])
    assert bridge_services(services) == {
        "bridge-migrate": ("db", "upgrade"), "bridge-web": ("serve",), "bridge-worker": ("worker",),
        "hyperswitch-sim": ("simulate", "hyperswitch")}
    assert services["hyperswitch-sim"].get("profiles") == ["sandbox"], "a simulator never starts by default"


def test_every_image_is_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image} to a version"


def test_secrets_come_from_the_env_file_only() -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    example = env_example_names()
    for name in required_variables(COMPOSE_FILE.read_text()):
        assert example.get(name) is True, f"{name} is required by docker-compose.yml but not listed in .env.example"
    assert referenced_variables(COMPOSE_FILE.read_text()) <= set(example), "document every variable in .env.example"
    secret_like = re.compile(r"PASSWORD|SECRET|TOKEN|MASTER_KEYS")
    for name, service in raw["services"].items():
        for key, value in environment(service).items():
            if secret_like.search(key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]+\}", value), f"{name}.{key} must come from .env"
    # The filled-in .env never reaches git or an image.
    assert "/.env" in (REPO / ".gitignore").read_text().splitlines()
    assert ".env" in (REPO / ".dockerignore").read_text().splitlines()
    assert all(not value for value in _env_example_values().values()), ".env.example holds no values"


def _env_example_values() -> dict[str, str]:
    return dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
                if line and not line.startswith("#"))


def test_a_missing_secret_stops_compose_with_its_name() -> None:
    values = sample_secrets()
    del values["BRIDGE_MASTER_KEYS"]
    with pytest.raises(MissingVariable, match="BRIDGE_MASTER_KEYS"):
        interpolate(yaml.safe_load(COMPOSE_FILE.read_text()), values)
    with pytest.raises(MissingVariable, match="BRIDGE_MASTER_KEYS"):
        interpolate(yaml.safe_load(COMPOSE_FILE.read_text()), {**values, "BRIDGE_MASTER_KEYS": ""})


# -- the bridge's settings --------------------------------------------------------------------------
@pytest.mark.parametrize("service_name", ["bridge-web", "bridge-worker", "bridge-migrate"])
def test_bridge_settings_are_real_and_valid(service_name: str, services: dict[str, dict[str, Any]],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    service = services[service_name]
    env = container_environment(service)
    fields = set(Settings.model_fields)
    for key in env:
        if key.startswith(ENV_PREFIX):
            # The bridge ignores unknown BRIDGE_* variables, so a misspelt one would silently not apply.
            assert key.removeprefix(ENV_PREFIX).lower() in fields, f"{service_name}: {key} is no bridge setting"
    settings = bridge_settings(service, monkeypatch)
    needed = NEEDED_SETTINGS[bridge_services(services)[service_name]]
    given = {key.removeprefix(ENV_PREFIX).lower() for key in env if key.startswith(ENV_PREFIX)}
    assert needed <= given, f"{service_name} lacks {sorted(needed - given)}"
    assert not settings.is_sqlite and not settings.migrate_on_start, "PostgreSQL, migrated by bridge-migrate"
    keyring_from_settings([key.get_secret_value() for key in settings.master_keys], settings.master_key_file)


def test_every_bridge_process_shares_one_database_and_one_set_of_keys(services: dict[str, dict[str, Any]]) -> None:
    seen = set()
    for name in ("bridge-migrate", "bridge-web", "bridge-worker"):
        env = container_environment(services[name])
        seen.add((env["BRIDGE_DATABASE_URL"], env["BRIDGE_MASTER_KEYS"], env["BRIDGE_PUBLIC_URL"]))
    assert len(seen) == 1


def test_the_bridge_reaches_its_database_and_the_mail_catcher(services: dict[str, dict[str, Any]],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    settings = bridge_settings(services["bridge-worker"], monkeypatch)
    database = urlsplit(settings.database_url)
    assert service_by_host(services, database.hostname or "") == "bridge-db"
    assert database.port in container_ports(services["bridge-db"])
    assert (database.username, database.path.lstrip("/")) == (
        environment(services["bridge-db"])["POSTGRES_USER"], environment(services["bridge-db"])["POSTGRES_DB"])
    assert database.password == environment(services["bridge-db"])["POSTGRES_PASSWORD"]
    assert service_by_host(services, settings.smtp_host) == "mailpit"
    assert settings.smtp_port in container_ports(services["mailpit"])


# -- addresses and ports ----------------------------------------------------------------------------
def test_kill_bill_calls_the_bridge_web_port(services: dict[str, dict[str, Any]],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin's URL (written into Kill Bill's config by the start script) is bridge-web's port."""
    web = bridge_settings(services["bridge-web"], monkeypatch)
    plugin_url = urlsplit(environment(services["killbill"])["HYPERSWITCH_BRIDGE_URL"])
    assert plugin_url.scheme == "http"
    assert service_by_host(services, plugin_url.hostname or "") == "bridge-web"
    assert plugin_url.port == web.port
    assert web.port in container_ports(services["bridge-web"])
    assert environment(services["killbill"])["HYPERSWITCH_BRIDGE_SECRET"] == \
        web.plugin_shared_secret.get_secret_value()  # type: ignore[union-attr]


def test_the_public_url_reaches_bridge_web_from_kill_bill_and_from_this_machine(
        services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    web = bridge_settings(services["bridge-web"], monkeypatch)
    public = urlsplit(web.base_url)
    # Kill Bill posts push notifications to <public URL>/webhooks/killbill/<token>: a name on the network…
    assert service_by_host(services, public.hostname or "") == "bridge-web"
    # …and a browser here resolves *.localhost to the loopback, where bridge-web's port is published.
    assert (public.hostname or "").endswith(".localhost")
    assert any(p.host_port == public.port and p.container_port == web.port and p.host_ip == "127.0.0.1"
               for p in published_ports(services["bridge-web"]))


def test_every_service_address_names_a_real_service_and_port(services: dict[str, dict[str, Any]]) -> None:
    address = re.compile(r"(?:[a-z][a-z0-9+.-]*:)+//(?:[^@/\s]*@)?(?P<host>[A-Za-z0-9.-]+):(?P<port>\d+)")
    found = 0
    for name, service in services.items():
        for key, value in environment(service).items():
            for match in address.finditer(value):
                target = service_by_host(services, match["host"])
                if target is None:
                    continue  # outside the stack (e.g. a public URL an operator sets)
                found += 1
                assert int(match["port"]) in container_ports(services[target]), \
                    f"{name}.{key}: {target} does not listen on {match['port']}"
    assert found >= 6  # Kill Bill's two databases, Kaui's database and Kill Bill, the bridge's DB and web


def test_published_ports_do_not_clash_and_stay_on_this_machine(services: dict[str, dict[str, Any]]) -> None:
    taken: dict[tuple[int, str], str] = {}
    for name, service in services.items():
        for port in published_ports(service):
            assert port.host_ip == "127.0.0.1", f"{name}: publish on 127.0.0.1 (put a proxy in front for more)"
            key = (port.host_port, port.protocol)
            assert key not in taken, f"{name} and {taken.get(key)} both publish {port.host_port}"
            taken[key] = name
    for database in ("killbill-db", "bridge-db"):
        assert not published_ports(services[database]), f"{database} is reachable by the stack only"
    assert {taken[(8080, "tcp")], taken[(8787, "tcp")]} == {"killbill", "bridge-web"}


# -- health and start order -------------------------------------------------------------------------
def test_every_long_running_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        if not long_running(service):
            continue
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        test = check["test"]
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name}: {test}"
        assert check.get("start_period"), f"{name}: give it a start_period"


def test_bridge_healthchecks_ask_the_bridge(services: dict[str, dict[str, Any]],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    web = bridge_settings(services["bridge-web"], monkeypatch)
    web_check = " ".join(services["bridge-web"]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{web.port}/readyz" in web_check
    worker_check = services["bridge-worker"]["healthcheck"]["test"]
    assert worker_check[1] == "bridge" and cli_path(worker_check[2:]) == ("db", "current")


def test_depends_on_names_real_services_with_conditions_they_can_meet(services: dict[str, dict[str, Any]]) -> None:
    edges: dict[str, set[str]] = {}
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: give depends_on conditions"
        edges[name] = set(depends)
        for target, spec in depends.items():
            assert target in services, f"{name} depends on {target}, which is no service"
            condition = spec.get("condition")
            assert condition in DEPENDENCY_CONDITIONS, f"{name} → {target}: {condition}"
            if condition == "service_healthy":
                assert long_running(services[target]) and services[target].get("healthcheck", {}).get("test")
            if condition == "service_completed_successfully":
                assert not long_running(services[target]), f"{target} never completes"
            assert not services[target].get("profiles"), f"{name} must not need the optional {target}"
    _assert_acyclic(edges)
    assert services["bridge-web"]["depends_on"]["bridge-migrate"]["condition"] == "service_completed_successfully"
    assert services["bridge-worker"]["depends_on"]["bridge-migrate"]["condition"] == "service_completed_successfully"
    assert services["killbill"]["depends_on"]["killbill-db"]["condition"] == "service_healthy"


def _assert_acyclic(edges: dict[str, set[str]]) -> None:
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, f"depends_on cycle: {' → '.join(path + (node,))}"
        if node not in done:
            for target in edges.get(node, ()):
                visit(target, path + (node,))
            done.add(node)

    for node in edges:
        visit(node, ())


# -- Kill Bill and the plugin -----------------------------------------------------------------------
def test_the_plugin_jar_is_mounted_where_kill_bill_looks_for_it(services: dict[str, dict[str, Any]]) -> None:
    plugin = plugin_identity()
    assert plugin.name == "hyperswitch-bridge"
    expected_target = f"{KILLBILL_BUNDLES}/plugins/java/{plugin.name}/{plugin.version}/{plugin.jar}"
    mounts = [v for v in services["killbill"]["volumes"] if isinstance(v, dict) and v["target"] == expected_target]
    assert mounts, f"mount the plugin at {expected_target} (version from killbill-plugin/pom.xml)"
    [mount] = mounts
    assert mount["type"] == "bind" and mount.get("read_only") is True
    # Maven's <artifactId>-<version>.jar, the file scripts/build-plugin prints.
    assert (REPO / mount["source"]).resolve() == (REPO / "killbill-plugin" / "target" / plugin.jar).resolve()


def test_kill_bill_starts_through_the_plugin_defaults_script(services: dict[str, dict[str, Any]]) -> None:
    killbill = services["killbill"]
    script_mounts = [v for v in killbill["volumes"] if isinstance(v, dict)
                     and (REPO / v["source"]).resolve() == KILLBILL_START_SCRIPT.resolve()]
    assert len(script_mounts) == 1 and script_mounts[0]["read_only"] is True
    assert killbill["command"] == ["bash", script_mounts[0]["target"]]
    needed = set(re.findall(r'\$\{(\w+):\?', KILLBILL_START_SCRIPT.read_text()))
    assert needed and needed <= set(environment(killbill))


def test_kill_bill_variables_survive_its_shell(services: dict[str, dict[str, Any]]) -> None:
    """The image starts Tomcat through /bin/sh (dash), which drops variables whose names are not identifiers."""
    for name in ("killbill", "kaui"):
        for key in environment(services[name]):
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key), f"{name}: {key} would not reach the JVM"


# -- the real compose client, where there is one ----------------------------------------------------
def _compose_client() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], check=False, capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def _run_compose(client: list[str], env_values: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env_file = tmp_path / "empty.env"  # never a developer's own .env
    env_file.write_text("")
    environ = {key: value for key, value in os.environ.items()
               if key not in env_example_names() and not key.startswith("COMPOSE_")}
    return subprocess.run([*client, "--project-directory", str(REPO), "--env-file", str(env_file),
                           "-f", str(COMPOSE_FILE), "config", "--quiet"],
                          env={**environ, **env_values}, check=False, capture_output=True, text=True, timeout=120)


def test_the_compose_client_accepts_the_file(tmp_path: Path) -> None:
    client = _compose_client()
    if client is None:
        pytest.skip("no docker compose client (docker compose / docker-compose) installed")
    accepted = _run_compose(client, sample_secrets(), tmp_path)
    assert accepted.returncode == 0, accepted.stderr
    values = sample_secrets()
    del values["BRIDGE_PLUGIN_SHARED_SECRET"]
    refused = _run_compose(client, values, tmp_path)
    assert refused.returncode != 0 and "BRIDGE_PLUGIN_SHARED_SECRET" in refused.stderr


def test_tenant_urls_inside_the_stack_pass_the_bridges_url_policy(services: dict[str, dict[str, Any]],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """README's `bridge tenants add --killbill-url http://killbill:8080 …` is accepted in this stack."""
    from bridge.edges.urls import UrlPolicy

    killbill_url = environment(services["kaui"])["KAUI_KILLBILL_URL"]  # Kill Bill as the stack reaches it
    [sim_port] = container_ports(services["hyperswitch-sim"])
    for name in ("bridge-web", "bridge-worker"):
        policy = UrlPolicy.from_settings(bridge_settings(services[name], monkeypatch))
        policy.check(killbill_url, what="killbill_url")
        policy.check(f"http://hyperswitch-sim:{sim_port}", what="hs_base_url")


def test_the_plugins_built_in_url_is_the_bridges_default_address() -> None:
    """A Kill Bill with the plugin and no configuration at all reaches a bridge started with its defaults."""
    config = (PLUGIN_SOURCES / "config" / "BridgeConfig.java").read_text()
    built_in = re.search(r'BUILT_IN\s*=\s*new BridgeConfig\("([^"]+)"', config)
    assert built_in, "BridgeConfig's built-in default changed shape"
    defaults = Settings.model_fields
    assert urlsplit(built_in[1]).port == defaults["port"].default
    assert urlsplit(built_in[1]).hostname == defaults["host"].default
