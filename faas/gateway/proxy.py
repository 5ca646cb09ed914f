"""The calls this function makes: user-service calls with service tokens, and the todo proxy."""

import json
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import urllib3
from flask import Response, current_app, g, request

from .errors import Problem, json_object
from .upstream import Services

log = logging.getLogger(__name__)

# Request headers the todo proxy passes on; X-Forwarded-* are always set by faas itself.
FORWARDED_REQUEST_HEADERS = ("Content-Type", "If-Match", "If-None-Match", "Idempotency-Key")
# WWW-Authenticate: todo-service may refuse a token of a session just revoked (its 401 carries
# the challenge) while this instance still trusts its own recent session check.
RELAYED_RESPONSE_HEADERS = ("ETag", "Location", "Link", "Retry-After", "WWW-Authenticate")
# Only these carry a body to todo-service: a body on GET or DELETE means nothing there.
BODY_METHODS = frozenset({"POST", "PATCH"})


def services() -> Services:
    return current_app.extensions["services"]


def relay(upstream: urllib3.BaseHTTPResponse, headers: Iterable[str] = ()) -> Response:
    """The service's answer as ours: status, body, Content-Type and the named headers."""
    response = Response(upstream.data, status=upstream.status)
    content_type = upstream.headers.get("Content-Type")
    # An empty body (a 204) has no type, whatever the service's framework added.
    if content_type and upstream.data:
        response.headers["Content-Type"] = content_type
    else:
        del response.headers["Content-Type"]
    for name in headers:
        if name in upstream.headers:
            response.headers[name] = upstream.headers[name]
    return response


def call_user_service(
    method: str, path: str, scope: str, payload: dict[str, Any] | None = None
) -> urllib3.BaseHTTPResponse:
    """user-service's answer to a call with a `scope` service token; its failures are 503s."""
    own = services()
    headers = {
        "Authorization": f"Bearer {own.tokens.service_token(scope)}",
        "X-Request-ID": g.request_id,
        # The caller's address as faas sees it (never a client-sent X-Forwarded-For): user-service
        # limits failed logins and registrations per client address with it.
        "X-Forwarded-For": request.remote_addr or "",
    }
    body = None
    if payload is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(payload).encode()
    response = own.user.request(method, path, body, headers)
    # A refused service token (it carries a WWW-Authenticate challenge) is faas's own failure, not
    # the caller's: it must never reach a client as "wrong password".
    refused = response.status == 403 or (
        response.status == 401 and "WWW-Authenticate" in response.headers
    )
    if refused or response.status >= 500:
        log.error(
            "user-service refused or failed a call",
            extra={"fields": {"scope": scope, "status": response.status}},
        )
        raise Problem(503, "user-service is unavailable", {"Retry-After": "1"})
    return response


def session_path(sid: str) -> str:
    return f"/sessions/{quote(sid, safe='')}"


def user_sessions_path(user_id: str) -> str:
    return f"/users/{quote(user_id, safe='')}/sessions"


def forward_todos(path: str, user_token: str) -> Response:
    """The todo-service answer to this request, re-sent to `path` with the user's token."""
    headers = {
        name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers
    }
    headers.update(
        {
            "Authorization": f"Bearer {user_token}",
            "X-Request-ID": g.request_id,
            "X-Forwarded-For": request.remote_addr or "",
            **services().forwarding,
        }
    )
    query = request.query_string.decode("latin-1")
    target = f"{path}?{query}" if query else path
    body = None
    if request.method in BODY_METHODS:
        json_object()  # malformed or pathological JSON stops here, a hop early
        body = request.get_data()
    upstream = services().todo.request(request.method, target, body, headers)
    return relay(upstream, RELAYED_RESPONSE_HEADERS)
