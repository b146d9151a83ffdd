"""Storage: the declarative base, column types, engine and session scope, and the models by capability."""

from bridge.db.base import Base, utcnow
from bridge.db.engine import make_engine, make_session_factory, session_scope

__all__ = ["Base", "utcnow", "make_engine", "make_session_factory", "session_scope"]
