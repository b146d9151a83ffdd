"""Shared fixtures: a migrated database on the backend under test, settings, the app and the CLI.

The backend comes from ``BRIDGE_TEST_DATABASE``: ``sqlite`` (default) or a PostgreSQL server URL
(``postgresql://user@host:port/postgres``); `.ci/run` runs the whole suite once on each.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, text

from bridge.db import migrate
from bridge.db.base import Base
from bridge.runtime import Runtime
from bridge.settings import Settings
from tests.stack import PostgresServer

ADMIN_TOKEN = "test-admin-token-5f0c9a7e"
ALLOW_HTTP_LOOPBACK = "BRIDGE_ALLOW_HTTP_LOOPBACK"
MASTER_KEY = Fernet.generate_key().decode()


def postgres_server_url() -> str | None:
    value = os.environ.get("BRIDGE_TEST_DATABASE", "sqlite")
    return None if value == "sqlite" else value


def on_postgres() -> bool:
    return postgres_server_url() is not None


requires_postgres = pytest.mark.skipif(not on_postgres(), reason="needs BRIDGE_TEST_DATABASE=postgresql://…")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | None]:
    url = postgres_server_url()
    if url is None:
        yield None
        return
    server = PostgresServer(url)
    yield server
    server.admin.dispose()


@pytest.fixture
def empty_database_url(tmp_path: Path, postgres_server: PostgresServer | None) -> Iterator[str]:
    """A database with nothing in it, on the backend under test."""
    if postgres_server is None:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory,
                       postgres_server: PostgresServer | None) -> Iterator[str]:
    """One migrated database per test process; tests get it emptied (PostgreSQL) or copied (SQLite)."""
    if postgres_server is None:
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = create_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        engine.dispose()
        yield str(path)
        return
    url = postgres_server.create_database()
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def database_url(_migrated_template: str, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database on the backend under test."""
    if not _migrated_template.startswith("postgresql"):
        target = tmp_path / "bridge.db"
        target.write_bytes(Path(_migrated_template).read_bytes())
        yield f"sqlite:///{target}"
        return
    yield _migrated_template
    _truncate_all(_migrated_template)


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No BRIDGE_* from the developer's shell, and no bridge.toml from the working directory.

    The simulators listen on http://127.0.0.1: tenant URLs there need the development flag
    (tests/edges and tests/security switch it off where they test the refusals)."""
    for name in list(os.environ):
        if name.startswith("BRIDGE_") and name != "BRIDGE_TEST_DATABASE":
            monkeypatch.delenv(name)
    monkeypatch.setenv(ALLOW_HTTP_LOOPBACK, "true")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, master_keys=[MASTER_KEY], admin_token=ADMIN_TOKEN,
                    master_key_file=tmp_path / "unused.key", log_format="text")


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime.from_settings(settings)
    yield rt
    rt.engine.dispose()


@pytest.fixture
def engine(runtime: Runtime) -> Engine:
    return runtime.engine


@pytest.fixture
def app(runtime: Runtime):  # type: ignore[no-untyped-def]
    from bridge.app import create_app

    application = create_app(runtime=runtime)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for invoking `bridge` against the test database."""
    return {"BRIDGE_DATABASE_URL": database_url, "BRIDGE_MASTER_KEYS": MASTER_KEY,
            "BRIDGE_LOG_FORMAT": "text", "BRIDGE_MASTER_KEY_FILE": str(tmp_path / "unused.key"),
            ALLOW_HTTP_LOOPBACK: "true"}


_DATABASE_FIXTURES = {"database_url", "empty_database_url", "postgres_server"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL run, keep only the tests that touch a database: the rest ran on the SQLite run.

    Browser tests use a database but test pages, not the backend: they run on the SQLite run only."""
    if not on_postgres():
        return
    keep, drop = [], []
    for item in items:
        database = _DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        (keep if database and item.get_closest_marker("browser") is None else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
