"""Liveness, readiness and metrics for infrastructure; no authentication."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from bridge.db import migrate
from bridge.web.metrics import exposition

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    runtime = current_app.extensions["bridge"]
    checks: dict[str, str] = {}
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        current, head = migrate.current_revision(runtime.engine), migrate.head_revision()
        checks["migrations"] = "ok" if current == head else f"at {current}, expected {head}: run `bridge db upgrade`"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        log.warning("readiness: database unreachable: %s", exc)
        checks["database"] = f"unreachable: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values()) and "migrations" in checks
    return jsonify({"status": "ready" if ready else "not_ready", "checks": checks}), 200 if ready else 503


@bp.get("/metrics")
def metrics():  # type: ignore[no-untyped-def]
    return exposition(current_app.extensions["bridge"].sessions)
