"""Calls to the services over pooled keep-alive connections: user-service calls and the todo proxy."""

import json
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3
from flask import Response, current_app, g, request
from urllib3.exceptions import HTTPError, MaxRetryError, ProtocolError, ReadTimeoutError
from urllib3.util import Retry, Timeout

from .config import TODO_SERVICE, USER_SERVICE, Config
from .errors import Problem
from .tokens import Tokens

log = logging.getLogger(__name__)

# urllib3 retries only a connection that failed before anything was sent (once); a dropped
# kept-alive connection is retried in Upstream.request for GET only; a timeout never is.
NO_UNSAFE_RETRIES = Retry(total=None, connect=1, read=0, other=0, status=0, redirect=0)
# Request headers the todo proxy passes on; X-Forwarded-* are always set by faas itself.
FORWARDED_REQUEST_HEADERS = ("Content-Type", "If-Match", "If-None-Match", "Idempotency-Key")
RELAYED_RESPONSE_HEADERS = ("ETag", "Location", "Link", "Retry-After")


class Upstream:
    """One service: a keep-alive connection pool with connect and read timeouts on every call."""

    def __init__(self, name: str, base_url: str, config: Config):
        self.name = name
        self._prefix = urlsplit(base_url).path.rstrip("/")
        self.pool = urllib3.connection_from_url(
            base_url,
            maxsize=config.instance_concurrency,
            block=False,
            retries=NO_UNSAFE_RETRIES,
            timeout=Timeout(
                connect=config.service_connect_timeout_seconds,
                read=config.service_timeout_seconds,
            ),
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: Timeout | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """The service's answer, whatever its status; Problem 503 if unreachable, 504 if too slow."""
        attempts = 2 if method == "GET" else 1
        while True:
            attempts -= 1
            try:
                return self.pool.urlopen(
                    method,
                    self._prefix + path,
                    body=body,
                    headers=headers,
                    redirect=False,
                    **({"timeout": timeout} if timeout else {}),
                )
            except HTTPError as error:
                reason = error.reason if isinstance(error, MaxRetryError) else error
                if attempts and isinstance(reason, ProtocolError):
                    continue  # a kept-alive connection the service had closed: a read may go again
                raise self._failure(method, reason) from error

    def _failure(self, method: str, reason: Exception) -> Problem:
        # Not the path: it may hold a session id.
        fields = {"service": self.name, "method": method, "error": type(reason).__name__}
        log.warning("service call failed", extra={"fields": fields})
        if isinstance(reason, ReadTimeoutError):
            return Problem(504, f"{self.name} did not answer in time")
        return Problem(503, f"{self.name} is unavailable", {"Retry-After": "1"})

    def close(self) -> None:
        self.pool.close()


class Services:
    """The two services this function calls, and the tokens it calls user-service with."""

    def __init__(self, config: Config, tokens: Tokens):
        self.user = Upstream(USER_SERVICE, config.user_service_url, config)
        self.todo = Upstream(TODO_SERVICE, config.todo_service_url, config)
        self.tokens = tokens

    def close(self) -> None:
        self.user.close()
        self.todo.close()


def services() -> Services:
    return current_app.extensions["services"]


def public_scheme() -> str:
    """The scheme clients reach faas with. A Secure cookie is only ever sent over https, so with
    COOKIE_SECURE faas is behind TLS even when the hop from the TLS proxy is plain http."""
    return "https" if current_app.config["SETTINGS"].cookie_secure else request.scheme


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
            "X-Forwarded-Proto": public_scheme(),
            "X-Forwarded-Host": request.host,
            "X-Forwarded-Prefix": "/api",
        }
    )
    query = request.query_string.decode("latin-1")
    target = f"{path}?{query}" if query else path
    body = request.get_data() or None
    upstream = services().todo.request(request.method, target, body, headers)
    return relay(upstream, RELAYED_RESPONSE_HEADERS)
