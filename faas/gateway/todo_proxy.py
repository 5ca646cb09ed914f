"""/api/todos and /api/todos/<id>, answered before Flask: the system's hot path.

Each request passes exactly the checks the Flask routes pass, with the same functions (the body
cap, CSRF for cookie writes and JSON bodies from security.py; the token, its session and the
cookie's renewal from auth.py), is forwarded to todo-service with the allowed headers over a
kept-alive connection, and its answer is relayed with the headers every answer of faas gets
(security.add_security_headers) and logged as every request is (logs.log_request). What it
leaves out is Flask's request machinery: its context, URL matching, hooks and response
conversion, which cost more CPU than all the rest of the hop together. Other paths, and methods
these routes do not serve (OPTIONS, 405), go on to the Flask app.
"""

import json
import logging
import time
from collections.abc import Callable, Iterable
from urllib.parse import quote

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from service_kit.web.errors import (
    PROBLEM_JSON,
    UNEXPECTED_DETAIL,
    Problem,
    json_object,
    problem_document,
)
from service_kit.web.logs import REQUEST_ID_HEADER, log_request, request_id_from

from .auth import KEEP_COOKIE, Unauthorized, authenticate, write_cookie
from .proxy import relay
from .security import (
    MAX_CONTENT_LENGTH,
    add_security_headers,
    cap_body,
    check_csrf,
    require_json_body,
)

log = logging.getLogger(__name__)

COLLECTION_RULE, ITEM_RULE = "/api/todos", "/api/todos/<todo_id>"
ITEM_PREFIX = "/api/todos/"
# The methods each route serves (HEAD as GET); the rules are declared to Flask too (routes.py),
# so that its routing answers OPTIONS and 405 for them as for every other route.
ROUTE_METHODS = {
    COLLECTION_RULE: frozenset({"GET", "HEAD", "POST", "DELETE"}),
    ITEM_RULE: frozenset({"GET", "HEAD", "PATCH", "DELETE"}),
}
# Request headers passed on; X-Forwarded-* are always set by faas itself.
FORWARDED_REQUEST_HEADERS = ("Content-Type", "If-Match", "If-None-Match", "Idempotency-Key")
# WWW-Authenticate: todo-service may refuse a token of a session just revoked (its 401 carries
# the challenge) while this instance still trusts its own recent session check.
RELAYED_RESPONSE_HEADERS = ("ETag", "Location", "Link", "Retry-After", "WWW-Authenticate")
# Only these carry a body to todo-service: a body on GET or DELETE means nothing there.
BODY_METHODS = frozenset({"POST", "PATCH"})


class GatewayRequest(Request):
    # As Flask's app config says for its requests: json_object() and get_data() read it.
    max_content_length = MAX_CONTENT_LENGTH


def todo_rule(path: str) -> str | None:
    """The todo route `path` (PATH_INFO, decoded) belongs to, or None; as Flask would match it."""
    if path == COLLECTION_RULE:
        return COLLECTION_RULE
    if path.startswith(ITEM_PREFIX) and len(path) > len(ITEM_PREFIX):
        return ITEM_RULE if "/" not in path[len(ITEM_PREFIX) :] else None
    return None


def _problem(failed: Problem, request_id: str) -> Response:
    body = json.dumps(problem_document(failed.status, failed.detail, request_id))
    return Response(body, failed.status, failed.headers, mimetype=PROBLEM_JSON)


class TodoProxy:
    """WSGI middleware of the gateway app: the todo routes here, anything else to `flask_app`."""

    def __init__(self, app: Flask, flask_app: Callable):
        self._flask_app = flask_app
        self._config = app.config["SETTINGS"]
        self._tokens = app.extensions["tokens"]
        self._sessions = app.extensions["sessions"]
        self._services = app.extensions["services"]

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        rule = todo_rule(environ.get("PATH_INFO", ""))
        if rule is None or environ.get("REQUEST_METHOD") not in ROUTE_METHODS[rule]:
            return self._flask_app(environ, start_response)
        return self.answer(GatewayRequest(environ), rule)(environ, start_response)

    def answer(self, request: Request, rule: str) -> Response:
        """The answer to a request of a todo route: todo-service's, or ours when refused."""
        started = time.perf_counter()
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER, ""))
        cookie = KEEP_COOKIE
        try:
            cap_body(request, MAX_CONTENT_LENGTH)
            check_csrf(request, self._config)
            require_json_body(request)
            caller = authenticate(request, self._config, self._tokens, self._sessions, request_id)
            if caller.renewed:
                cookie = caller.renewed
            response = self._forward(request, rule, caller.token, request_id)
        except Unauthorized as refused:
            if refused.clears_cookie:
                cookie = None
            response = _problem(refused, request_id)
        except Problem as failed:
            response = _problem(failed, request_id)
        except HTTPException as error:  # werkzeug's 413 for a body over the cap
            response = _problem(Problem(error.code or 500, error.description or ""), request_id)
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            response = _problem(Problem(500, UNEXPECTED_DETAIL), request_id)
        write_cookie(response, cookie, self._config)
        add_security_headers(response, request, self._config)
        return log_request(response, request.method, rule, request_id, started)

    def _forward(self, request: Request, rule: str, user_token: str, request_id: str) -> Response:
        """todo-service's answer to this request, re-sent with the user's token."""
        path = "/todos"
        if rule == ITEM_RULE:
            path = f"/todos/{quote(request.path[len(ITEM_PREFIX) :], safe='')}"
        query = request.query_string.decode("latin-1")
        headers = {
            name: request.headers[name]
            for name in FORWARDED_REQUEST_HEADERS
            if name in request.headers
        }
        headers.update(
            {
                "Authorization": f"Bearer {user_token}",
                "X-Request-ID": request_id,
                "X-Forwarded-For": request.remote_addr or "",
                **self._services.forwarding,
            }
        )
        body = None
        if request.method in BODY_METHODS:
            json_object(request)  # malformed or pathological JSON stops here, a hop early
            body = request.get_data()
        upstream = self._services.todo.request(
            request.method, f"{path}?{query}" if query else path, body, headers
        )
        return relay(upstream, RELAYED_RESPONSE_HEADERS)
