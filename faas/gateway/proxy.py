"""The calls this function makes to user-service, with service tokens, and their answers relayed."""

import json
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from flask import current_app, g, request
from werkzeug.wrappers import Response

from service_kit.web.errors import Problem

from .upstream import Answer, Services

log = logging.getLogger(__name__)


def relay(upstream: Answer, headers: Iterable[str] = ()) -> Response:
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


def user_service_answer(
    own: Services,
    method: str,
    path: str,
    scope: str,
    request_id: str,
    client_address: str,
    payload: dict[str, Any] | None = None,
) -> Answer:
    """user-service's answer to a call with a `scope` service token; its failures are 503s."""
    headers = {
        "Authorization": f"Bearer {own.tokens.service_token(scope)}",
        "X-Request-ID": request_id,
        # The caller's address as faas sees it (never a client-sent X-Forwarded-For): user-service
        # limits failed logins and registrations per client address with it.
        "X-Forwarded-For": client_address,
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


def call_user_service(
    method: str, path: str, scope: str, payload: dict[str, Any] | None = None
) -> Answer:
    """user_service_answer() for the Flask request being served."""
    own = current_app.extensions["services"]
    client = request.remote_addr or ""
    return user_service_answer(own, method, path, scope, g.request_id, client, payload)


def session_path(sid: str) -> str:
    return f"/sessions/{quote(sid, safe='')}"


def user_sessions_path(user_id: str) -> str:
    return f"/users/{quote(user_id, safe='')}/sessions"
