"""Per-request plumbing shared by every blueprint: request ids, JSON errors, body parsing."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any, TypeVar

from flask import Flask, Response, g, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from bridge.errors import BadRequest, BridgeError
from bridge.logs import request_id_var

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

Model = TypeVar("Model", bound=BaseModel)


def _start_request() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.request_id_token = request_id_var.set(g.request_id)


def _finish_request(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    return response


def _teardown(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id_var.reset(token)


def error_response(status: int, error: str, detail: str) -> tuple[Response, int]:
    return jsonify({"error": error, "detail": detail}), status


def _handle_bridge_error(exc: BridgeError) -> tuple[Response, int]:
    return error_response(exc.status, exc.error, exc.detail)


def _handle_http_error(exc: HTTPException) -> tuple[Response, int]:
    name = (exc.name or "error").lower().replace(" ", "_")
    return error_response(exc.code or 500, name, exc.description or exc.name or "error")


def _handle_unexpected(exc: Exception) -> tuple[Response, int]:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error",
                          f"the bridge failed to handle this request; quote request id {g.get('request_id')}")


def _refuse_nul_in_url() -> None:
    # PostgreSQL text cannot hold NUL: refused at the edge, or a lookup would fail with a 500.
    if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                      for key, value in request.args.items(multi=True)):
        raise BadRequest("the URL contains a NUL character", error="invalid_request")


def install(app: Flask) -> None:
    app.before_request(_start_request)
    app.before_request(_refuse_nul_in_url)
    app.after_request(_finish_request)
    app.teardown_request(_teardown)
    app.register_error_handler(BridgeError, _handle_bridge_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(Exception, _handle_unexpected)


def json_body(model: type[Model]) -> Model:
    """The request's JSON body as ``model``; a clear 400 naming the first wrong field otherwise."""
    try:
        data: Any = request.get_json(silent=True)
    except RecursionError:
        data = None
    if data is None:
        raise BadRequest("the body must be a JSON object (Content-Type: application/json)", error="invalid_json")
    where = nul_location(data)
    if where is not None:
        raise BadRequest(f"{where} contains a NUL character", error="invalid_request")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(describe_validation_error(exc), error="invalid_request") from None


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return "; ".join(parts) + more


def strings_in(data: Any, where: str = "body") -> Iterator[tuple[str, str]]:
    """Every string in parsed JSON, keys included, with where it is (iterative: any depth is safe)."""
    stack: list[tuple[Any, str]] = [(data, where)]
    while stack:
        value, at = stack.pop()
        if isinstance(value, str):
            yield at, value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield f"a key of {at}", str(key)
                stack.append((item, f"{at}.{key}"))
        elif isinstance(value, list):
            stack.extend((item, f"{at}[{index}]") for index, item in enumerate(value))


def nul_location(data: Any, where: str = "body") -> str | None:
    """Where parsed JSON holds a NUL character (which PostgreSQL text cannot store), or None."""
    return next((at for at, text in strings_in(data, where) if "\x00" in text), None)
