"""The bridge's Dockerfile, checked without a Docker engine (and by hadolint where it is installed)."""

from __future__ import annotations

import fnmatch
import shlex
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from .stack import DOCKERFILE, DOCKERIGNORE, REPO, Instruction, cli_path, dockerfile_env, parse_dockerfile


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text())


def only(instructions: list[Instruction], keyword: str) -> list[Instruction]:
    return [i for i in instructions if i.keyword == keyword]


def dockerignore_patterns() -> list[str]:
    return [line.strip() for line in DOCKERIGNORE.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def ignored(path: str) -> bool:
    """Whether the build context leaves ``path`` out (the patterns this .dockerignore uses: no negations)."""
    patterns = dockerignore_patterns()
    assert not any(p.startswith("!") for p in patterns)
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    for pattern in patterns:
        pattern = pattern.lstrip("/")
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern) or (
                    pattern.startswith("**/") and fnmatch.fnmatchcase(PurePosixPath(prefix).name, pattern[3:])):
                return True
    return False


def test_the_dockerfile_parses_into_the_expected_instructions(instructions: list[Instruction]) -> None:
    keywords = [i.keyword for i in instructions]
    assert keywords[0] == "FROM" and keywords.count("FROM") == 1
    assert instructions[0].arguments == "python:3.11-slim"
    for keyword in ("ENTRYPOINT", "CMD", "HEALTHCHECK", "USER", "EXPOSE"):
        assert keywords.count(keyword) == 1, f"one {keyword}"
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN"), "install as root, run as not"


def test_the_image_runs_as_an_unprivileged_user(instructions: list[Instruction]) -> None:
    [user] = only(instructions, "USER")
    name = user.arguments.split(":")[0]
    assert name not in ("root", "0")
    [create] = [i for i in only(instructions, "RUN") if "useradd" in i.arguments]
    args = shlex.split(create.arguments)
    assert args[args.index("--uid") + 1] == name, "USER is the uid the image creates"


def test_the_image_starts_real_bridge_commands(instructions: list[Instruction]) -> None:
    [entrypoint] = only(instructions, "ENTRYPOINT")
    [cmd] = only(instructions, "CMD")
    argv = (entrypoint.exec_form() or []) + (cmd.exec_form() or [])
    assert argv[0] == "bridge", "exec form, so signals reach the bridge (gunicorn, the worker) directly"
    assert cli_path(argv[1:]) == ("serve",)
    # The same image's other roles, as docker-compose.yml and the README run them.
    assert cli_path(["worker"]) == ("worker",)
    assert cli_path(["db", "upgrade"]) == ("db", "upgrade")


def test_the_healthcheck_asks_readyz_on_the_port_the_image_serves(instructions: list[Instruction]) -> None:
    env = dockerfile_env(instructions)
    assert env["BRIDGE_HOST"] == "0.0.0.0"
    [expose] = only(instructions, "EXPOSE")
    assert expose.arguments == env["BRIDGE_PORT"]
    [healthcheck] = only(instructions, "HEALTHCHECK")
    options, _, command = healthcheck.arguments.partition(" CMD ")
    assert {"--interval", "--timeout", "--retries"} <= {o.split("=")[0] for o in options.split()}
    argv = Instruction("CMD", command, healthcheck.line).exec_form()  # exec form: no shell needed
    assert argv is not None and argv[:2] == ["python", "-c"]
    assert "/readyz" in argv[2] and "BRIDGE_PORT" in argv[2]


def test_the_image_installs_the_package_itself(instructions: list[Instruction]) -> None:
    """A plain install of the three packages (the wheel carries templates and migrations, see
    tests/deploy/test_packaging.py), not an editable one tied to a source tree."""
    workdir = None
    copied: dict[str, PurePosixPath] = {}
    installed = None
    for instruction in instructions:
        if instruction.keyword == "WORKDIR":
            workdir = PurePosixPath(instruction.arguments)
        elif instruction.keyword == "COPY":
            *sources, target = shlex.split(instruction.arguments)
            for source in sources:
                copied[source] = workdir / target if workdir and not target.startswith("/") else PurePosixPath(target)
        elif instruction.keyword == "RUN" and "pip install" in instruction.arguments:
            args = shlex.split(instruction.arguments.replace("&&", " && "))
            assert "--editable" not in args and "-e" not in args
            installed = PurePosixPath(args[args.index("install") + 1])
    assert installed is not None
    for package in ("bridge", "hyperswitch_client", "killbill_client"):
        assert copied[package] == installed / package
    assert copied["pyproject.toml"] == installed  # COPY pyproject.toml README.md ./


def test_what_the_image_copies_is_in_the_build_context_and_secrets_are_not(instructions: list[Instruction]) -> None:
    for instruction in only(instructions, "COPY"):
        *sources, _ = shlex.split(instruction.arguments)
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: no such file"
            assert not ignored(source), f"COPY {source}: .dockerignore leaves it out of the build context"
    for secret in (".env", ".bridge-master.key", "bridge.db", "bridge.toml", ".venv", ".git"):
        assert ignored(secret), f"{secret} must stay out of the build context"


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], check=False, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
