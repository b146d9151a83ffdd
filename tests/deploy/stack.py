"""Reading the deployment files the way Docker would, without a Docker engine.

- ``load_compose``: docker-compose.yml with its ``${…}`` variables resolved as ``docker compose`` does.
- ``parse_dockerfile``: the Dockerfile as a list of instructions.
- ``plugin_identity``: the Java plugin's name and jar, from its own sources.
- ``cli_path``: the `bridge` subcommand an argument list runs.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import click
import yaml
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
KILLBILL_START_SCRIPT = REPO / "deploy" / "killbill" / "start-killbill.sh"
PLUGIN_DIR = REPO / "killbill-plugin"
PLUGIN_SOURCES = PLUGIN_DIR / "src" / "main" / "java" / "org" / "killbill" / "billing" / "plugin" / "hyperswitchbridge"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a literal $.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class MissingVariable(LookupError):
    pass


def required_variables(text: str) -> set[str]:
    """Names compose refuses to run without (``${NAME:?…}`` / ``${NAME?…}``)."""
    return {m["name"] for m in _VARIABLE.finditer(text) if m["op"] in (":?", "?")}


def referenced_variables(text: str) -> set[str]:
    return {m["name"] for m in _VARIABLE.finditer(text) if m["name"]}


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Resolve ``${…}`` in every string of a parsed YAML tree, like compose; a bare ``$`` is refused."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "\0"  # restored to "$" below, after the check for stray dollars
        name, op, arg = match["name"], match["op"], match["arg"]
        present = env.get(name)
        if op in (":-", ":?"):
            present = present or None
        if present is not None:
            return present
        if op in (":-", "-"):
            return arg
        if op in (":?", "?"):
            raise MissingVariable(f"{name}: {arg}")
        return ""

    resolved = _VARIABLE.sub(substitute, value)
    if "$" in resolved:
        raise ValueError(f"unsupported variable syntax in {value!r}")
    return resolved.replace("\0", "$")


def env_example_names() -> dict[str, bool]:
    """Variables .env.example declares: name → whether it is set (uncommented) rather than described."""
    names: dict[str, bool] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=", line)
        if match:
            names[match[2]] = names.get(match[2], False) or match[1] is None
    return names


def sample_secrets() -> dict[str, str]:
    """Values an operator would put in .env: a real Fernet key and long random strings."""
    values = {name: secrets.token_hex(32) for name, is_set in env_example_names().items() if is_set}
    values["BRIDGE_MASTER_KEYS"] = Fernet.generate_key().decode()
    return values  # the optional ones keep docker-compose.yml's defaults, which are under test too


def load_compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    return interpolate(raw, sample_secrets() if env is None else env)


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, whichever of the two compose forms it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


@dataclass(frozen=True)
class PublishedPort:
    host_ip: str
    host_port: int
    container_port: int
    protocol: str


def published_ports(service: dict[str, Any]) -> list[PublishedPort]:
    """``ports:`` in short ("[ip:]host:container[/proto]") or long form; ranges are not used here."""
    result = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            result.append(PublishedPort(entry.get("host_ip", "0.0.0.0"), int(entry["published"]),
                                        int(entry["target"]), entry.get("protocol", "tcp")))
            continue
        spec, _, protocol = str(entry).partition("/")
        parts = spec.rsplit(":", 2)
        if len(parts) == 1:
            raise AssertionError(f"{entry!r}: publish to an explicit host port")
        host_ip = parts[0] if len(parts) == 3 else "0.0.0.0"
        result.append(PublishedPort(host_ip, int(parts[-2]), int(parts[-1]), protocol or "tcp"))
    return result


def container_ports(service: dict[str, Any]) -> set[int]:
    """Ports the service's container listens on, as the file declares them (ports and expose)."""
    ports = {p.container_port for p in published_ports(service)}
    ports |= {int(str(item).split("/")[0]) for item in service.get("expose") or []}
    return ports


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON-array form of CMD/ENTRYPOINT/RUN, or None for the shell form."""
        text = self.arguments.strip()
        if not text.startswith("["):
            return None
        value = json.loads(text)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"line {self.line}: not a JSON array of strings: {text}")
        return value


DOCKERFILE_KEYWORDS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
                       "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER"}


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with their continuation lines joined; comments and blank lines dropped."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continued instruction are removed by the builder
        if not pending:
            start = number
        continued = stripped.endswith("\\")
        pending.append(stripped[:-1] if continued else stripped)
        if continued:
            continue
        keyword, _, arguments = " ".join(part.strip() for part in pending).partition(" ")
        if keyword.upper() not in DOCKERFILE_KEYWORDS:
            raise ValueError(f"line {start}: unknown instruction {keyword!r}")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending = []
    if pending:
        raise ValueError(f"line {start}: the file ends inside a continued instruction")
    return instructions


def dockerfile_env(instructions: list[Instruction]) -> dict[str, str]:
    """``ENV key=value …`` pairs (the form the Dockerfile uses)."""
    values: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "ENV":
            for pair in instruction.arguments.split():
                key, sep, value = pair.partition("=")
                if not sep:
                    raise ValueError(f"line {instruction.line}: use ENV key=value")
                values[key] = value
    return values


@dataclass(frozen=True)
class PluginIdentity:
    name: str
    version: str
    artifact_id: str
    property_prefix: str

    @property
    def jar(self) -> str:
        """The file scripts/build-plugin produces in killbill-plugin/target/."""
        return f"{self.artifact_id}-{self.version}.jar"


def plugin_identity() -> PluginIdentity:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    project = ElementTree.parse(PLUGIN_DIR / "pom.xml").getroot()
    version = project.findtext("m:version", namespaces=ns)
    artifact_id = project.findtext("m:artifactId", namespaces=ns)
    activator = (PLUGIN_SOURCES / "HyperswitchBridgeActivator.java").read_text()
    name = re.search(r'PLUGIN_NAME\s*=\s*"([^"]+)"', activator)
    config = (PLUGIN_SOURCES / "config" / "BridgeConfig.java").read_text()
    prefix = re.search(r'PREFIX\s*=\s*"([^"]+)"', config)
    assert version and artifact_id and name and prefix, "the plugin's pom or sources changed shape"
    return PluginIdentity(name[1], version, artifact_id, prefix[1])


def plugin_config_keys() -> dict[str, str]:
    """BridgeConfig's keys: constant name → property (``URL`` → ``org.killbill…hyperswitch-bridge.url``)."""
    config = (PLUGIN_SOURCES / "config" / "BridgeConfig.java").read_text()
    prefix = plugin_identity().property_prefix
    return {m[1]: prefix + m[2] for m in re.finditer(r'String\s+(\w+)\s*=\s*PREFIX\s*\+\s*"([^"]+)"', config)}


def cli_path(args: list[str]) -> tuple[str, ...]:
    """The `bridge` subcommand that ``args`` runs, its options parsed as click would (never invoked)."""
    from bridge.cli import cli

    command: click.Command = cli
    path: list[str] = []
    rest = list(args)
    while isinstance(command, click.Group):
        assert rest, f"`bridge {' '.join(path)}` needs a subcommand"
        sub = command.get_command(click.Context(command), rest[0])
        assert sub is not None, f"`bridge {' '.join(path + rest[:1])}` is no command of the bridge"
        path.append(rest.pop(0))
        command = sub
    command.make_context(" ".join(["bridge", *path]), rest)  # raises on an unknown option or argument
    return tuple(path)
