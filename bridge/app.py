"""``create_app()``: settings, storage, blueprints and error handlers. Wiring only."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from bridge.invoices import pages as pay_pages
from bridge.plugin_api import routes as plugin_routes
from bridge.runtime import Runtime
from bridge.settings import Settings, load_settings
from bridge.web import admin, health, limits, metrics, openapi, payor_pages, requests
from bridge.webhooks import routes as webhook_routes


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    runtime = runtime or Runtime.from_settings(settings or load_settings())
    runtime.migrate_if_configured()

    app = Flask(__name__, root_path=str(Path(__file__).parent))
    app.config["MAX_CONTENT_LENGTH"] = runtime.settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["bridge"] = runtime

    requests.install(app)
    metrics.install(app)
    limits.install(app)
    payor_pages.install(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(plugin_routes.bp)
    app.register_blueprint(webhook_routes.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(pay_pages.bp)
    return app
