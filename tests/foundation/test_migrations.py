"""Migrations from empty, on the backend under test (SQLite, or PostgreSQL in the second CI run)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

import bridge.db.models  # noqa: F401
from bridge.db import migrate
from bridge.db.base import Base


def test_upgrade_from_empty_reaches_head_and_matches_the_models(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    try:
        assert migrate.current_revision(engine) is None
        assert not migrate.is_current(engine)
        migrate.upgrade(engine)
        assert migrate.is_current(engine)
        assert {"tenants", "jobs", "alembic_version"} <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            drift = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert drift == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    try:
        migrate.upgrade(engine)
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(engine)
        assert migrate.is_current(engine)
    finally:
        engine.dispose()
