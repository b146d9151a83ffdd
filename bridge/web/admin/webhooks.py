"""``/admin/v1/webhooks``: the inbox of Hyperswitch webhooks and Kill Bill push notifications.

``GET /admin/v1/webhooks?source=&state=&tenant=&limit=`` lists the newest events,
``GET /admin/v1/webhooks/<id>`` shows one (raw body, parsed payload, outcome, its job),
``POST /admin/v1/webhooks/<id>/replay`` runs its processing again, and
``POST /admin/v1/webhooks/replay-failed?source=`` replays every failed one (failed, or its job dead).
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import current_app, jsonify, request
from pydantic import Field, create_model

from bridge.db.engine import session_scope
from bridge.db.webhooks import EventSource, EventState
from bridge.errors import BadRequest
from bridge.web.admin import bp
from bridge.webhooks import admin

# Ids are 64-bit; a larger number cannot name an event (and would overflow the database driver): 404.
MAX_EVENT_ID = 2**63 - 1


def _runtime():  # type: ignore[no-untyped-def]
    return current_app.extensions["bridge"]


@bp.get("/webhooks")
def list_webhooks():  # type: ignore[no-untyped-def]
    try:
        limit = int(request.args.get("limit", "50"))
    except ValueError:
        raise BadRequest("limit must be an integer") from None
    with session_scope(_runtime().sessions) as session:
        events = admin.list_events(session, source=request.args.get("source"), state=request.args.get("state"),
                                   kb_tenant_id=request.args.get("tenant"), limit=limit)
        return jsonify({"events": [event.model_dump(mode="json") for event in events]})


@bp.get(f"/webhooks/<int(max={MAX_EVENT_ID}):event_id>")
def show_webhook(event_id: int):  # type: ignore[no-untyped-def]
    with session_scope(_runtime().sessions) as session:
        return jsonify(admin.show_event(session, event_id).model_dump(mode="json"))


@bp.post(f"/webhooks/<int(max={MAX_EVENT_ID}):event_id>/replay")
def replay_webhook(event_id: int):  # type: ignore[no-untyped-def]
    runtime = _runtime()
    with session_scope(runtime.sessions) as session:
        return jsonify(admin.replay_event(session, event_id, runtime.clock()).model_dump(mode="json"))


@bp.post("/webhooks/replay-failed")
def replay_failed_webhooks():  # type: ignore[no-untyped-def]
    runtime = _runtime()
    with session_scope(runtime.sessions) as session:
        return jsonify(admin.replay_failed(session, runtime.clock(), source=request.args.get("source"))
                       .model_dump(mode="json"))


# -- the OpenAPI document ----------------------------------------------------------------------------
def openapi_endpoints() -> list:  # type: ignore[type-arg]
    """This API's entries of the OpenAPI document.

    Registered by ``bridge.webhooks.routes``, not here: ``bridge.web.openapi`` imports this package, so
    this module cannot use it while it loads.
    """
    from bridge.web import openapi

    
    event_list = create_model("EventList", events=(list[admin.EventView], ...))
    event_id = openapi.Param("event_id", "path", Annotated[int, Field(ge=0, le=MAX_EVENT_ID)], "the event's id")
    source = openapi.Param("source", "query", EventSource, "only events from this source")
    errors = openapi._admin_errors  # the admin API's shared error replies
    common: dict[str, Any] = {"tag": "admin", "security": openapi.ADMIN_TOKEN}
    return [
        openapi.Endpoint(
            "GET", "/admin/v1/webhooks", "listWebhooks", summary="List inbound events, newest first",
            parameters=(source, openapi.Param("state", "query", EventState, "only events in this state"),
                        openapi.Param("tenant", "query", str, "only this Kill Bill tenant's events"),
                        openapi.Param("limit", "query", Annotated[int, Field(50, ge=1, le=admin.MAX_LIMIT)],
                                      "at most this many")),
            responses={200: openapi.Reply("The events.", event_list), **errors(400)}, **common),
        openapi.Endpoint(
            "GET", "/admin/v1/webhooks/{event_id}", "showWebhook",
            summary="Show one event: its raw body, outcome, attempts and job", parameters=(event_id,),
            responses={200: openapi.Reply("The event.", admin.EventDetail), **errors(404)}, **common),
        openapi.Endpoint(
            "POST", "/admin/v1/webhooks/{event_id}/replay", "replayWebhook", summary="Process an event again",
            parameters=(event_id,),
            description="An event whose job is dead, or a failed event whose job waits for its next attempt, "
                        "has that job run again now with fresh attempts; any other event gets a new job. 409 "
                        "while the event's job is running or has not run yet.",
            responses={200: openapi.Reply("The event, queued again.", admin.EventView), **errors(404, 409)},
            **common),
        openapi.Endpoint(
            "POST", "/admin/v1/webhooks/replay-failed", "replayFailedWebhooks",
            summary="Process every failed event (failed, or its job dead) again", parameters=(source,),
            responses={200: openapi.Reply("How many events were queued again, and which.", admin.ReplayResult),
                       **errors(400)}, **common),
    ]
