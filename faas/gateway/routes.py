"""The public API (docs/architecture.md, "The public API"): accounts, login sessions, the todo proxy, keys, the app."""

import time
from datetime import UTC, datetime
from typing import Any

import jwt
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request, send_from_directory
from werkzeug.routing import PathConverter

from service_kit.web.errors import Problem, json_object

from .auth import API_TOKEN, COOKIE_LOGIN, active_session, request_token, require_user, tokens
from .proxy import call_user_service, relay, session_path, user_sessions_path
from .security import settings
from .todo_proxy import ROUTE_METHODS
from .upstream import Answer

bp = Blueprint("gateway", __name__)

CREDENTIALS = frozenset({"username", "password"})


class AssetConverter(PathConverter):
    """A file path under the static folder, decided by routing before any file is looked at:
    no segment is empty or starts with a dot (no `..`, no dotfiles such as .env or .git), none
    holds a NUL, and nothing under api/ (whose unknown paths are the API's 404s and 405s)."""

    regex = r"(?!api/)[^/.\x00][^/\x00]*(?:/[^/.\x00][^/\x00]*)*"


def _timestamp(epoch: int) -> str:
    # The services' form: ISO 8601 in UTC with a "Z", to the millisecond.
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _credentials() -> dict[str, Any]:
    """{username, password} from the body; 422 for any other member (a typo is not ignored)."""
    body = json_object()
    if set(body) - CREDENTIALS:
        raise Problem(422, "the body may hold only username and password")
    return body


def _authenticate_user(kind: str) -> Answer:
    """user-service's answer to the credentials; on success, a new session of `kind`."""
    credentials = {**_credentials(), "kind": kind}
    return call_user_service("POST", "/users/authenticate", "users:authenticate", credentials)


def _issue_user_token(authenticated: dict[str, Any]) -> tuple[str, int]:
    """A user token for a new session from user-service's {user, session}; and its exp."""
    user, session = authenticated["user"], authenticated["session"]
    started = active_session(session)
    current_app.extensions["sessions"].remember(session["id"], started)
    return tokens().user_token(user["id"], user["username"], session["id"], int(started.end))


@bp.post("/api/register")
def register_user() -> Response:
    """201 the new user; 409 if the username is taken; 422 if invalid (user-service decides);
    429 with Retry-After when this client has registered too often."""
    return relay(
        call_user_service("POST", "/users", "users:create", _credentials()), ("Retry-After",)
    )


@bp.post("/api/login")
def login() -> Response:
    """200 {user, expires_at} and the session cookie (the token is never in the body).

    401 for bad credentials (one answer for unknown users and wrong passwords), 429 with
    Retry-After while this client is throttled, 503 when user-service is down (never 401).
    """
    authenticated = _authenticate_user(COOKIE_LOGIN)
    if authenticated.status != 200:
        return relay(authenticated, ("Retry-After",))
    answer = authenticated.json()
    token, exp = _issue_user_token(answer)
    g.cookie = (token, exp)
    return jsonify(user=answer["user"], expires_at=_timestamp(exp))


@bp.post("/api/token")
def issue_token() -> Response:
    """200 {access_token, token_type, expires_in} for API clients; no cookie. Errors as login."""
    authenticated = _authenticate_user(API_TOKEN)
    if authenticated.status != 200:
        return relay(authenticated, ("Retry-After",))
    token, exp = _issue_user_token(authenticated.json())
    return jsonify(
        {"access_token": token, "token_type": "Bearer", "expires_in": exp - int(time.time())}
    )


@bp.post("/api/logout")
def logout() -> Response:
    """204: the token's session is revoked at user-service and the cookie cleared; 503 if the
    session cannot be revoked (the token would still work)."""
    found = request_token(request, settings())
    g.cookie = None
    if found is not None:
        try:
            sid = tokens().verify_user_token(found[0])["sid"]
        except jwt.InvalidTokenError:
            sid = None  # nothing this token could still open
        if sid is not None:
            call_user_service("DELETE", session_path(sid), "sessions:revoke")
            current_app.extensions["sessions"].remember(sid, None)
    return _no_content()


@bp.delete("/api/sessions")
@require_user
def end_all_sessions() -> Response:
    """204: every session of the caller, this one included, is revoked at user-service and the
    cookie cleared; 401 when not logged in or the session has ended; 503 if the sessions
    cannot be revoked (their tokens would still work)."""
    ended = call_user_service("DELETE", user_sessions_path(g.claims["sub"]), "sessions:revoke-all")
    if ended.status != 204:
        raise Problem(503, "the sessions cannot be ended", {"Retry-After": "1"})
    current_app.extensions["sessions"].remember(g.claims["sid"], None)
    g.cookie = None
    return _no_content()


def _no_content() -> Response:
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


@bp.get("/api/me")
@require_user
def get_current_user() -> Response:
    """200 {id, username} of the caller; 401 when not logged in or the session has ended."""
    subject = g.claims["sub"]
    user_id = int(subject) if subject.isdecimal() else subject
    return jsonify(id=user_id, username=g.claims["username"])


@bp.get("/.well-known/jwks.json")
def get_jwks() -> Response:
    """The public keys tokens are signed with: the current one and those still accepted."""
    response = Response(tokens().keys.jwks_json, mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/")
def get_app() -> Response:
    """The browser app."""
    return send_from_directory(settings().static_dir, "index.html")


@bp.get("/<asset:filename>")
def get_asset(filename: str) -> Response:
    """A file of the browser app; 404 (problem+json) for anything else. send_from_directory
    refuses paths that leave the folder (absolute ones too) on its own as well."""
    return send_from_directory(settings().static_dir, filename)


def init_app(app: Flask) -> None:
    app.url_map.converters["asset"] = AssetConverter
    app.register_blueprint(bp)
    # Answered by todo_proxy.TodoProxy before Flask sees them; declared here, without a view, so
    # that Flask's routing answers OPTIONS and 405 (with Allow) for them as for every route.
    for rule, methods in ROUTE_METHODS.items():
        app.add_url_rule(rule, endpoint=rule, methods=sorted(methods))
