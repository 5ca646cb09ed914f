"""Who is calling: a user token from the cookie or a Bearer header, its session, renewal.

authenticate() takes the request and what it needs explicitly, so that the todo proxy
(todo_proxy.py), which answers before Flask, authenticates exactly as the Flask views do.
"""

import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import NamedTuple

import jwt
from flask import Flask, current_app, g, request
from werkzeug.wrappers import Request, Response

from service_kit.web.errors import Problem

from .config import Config
from .proxy import session_path, user_service_answer
from .security import settings
from .tokens import Tokens
from .upstream import Services


def tokens() -> Tokens:
    return current_app.extensions["tokens"]


# How a session began (user-service records it): a browser's cookie login, renewed as a cookie
# while in use, or an API client's token from /api/token, never renewed.
COOKIE_LOGIN, API_TOKEN = "cookie", "bearer"


class ActiveSession(NamedTuple):
    end: float  # the absolute end, epoch seconds: no token of the session outlives it
    kind: str  # COOKIE_LOGIN or API_TOKEN


def active_session(session: dict) -> ActiveSession:
    """An active session as user-service describes it."""
    return ActiveSession(datetime.fromisoformat(session["expires_at"]).timestamp(), session["kind"])


class Sessions:
    """Session checks with user-service (which owns the sessions), cached per instance briefly,
    so that a logout anywhere is seen by every instance within `ttl_seconds`."""

    MAX_ENTRIES = 10_000

    def __init__(self, services: Services, ttl_seconds: float):
        self._services = services
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, ActiveSession | None]] = {}
        self._lock = threading.Lock()

    def active(self, sid: str, request_id: str, client_address: str) -> ActiveSession | None:
        """The session `sid` while it is active; None when it has ended."""
        cached = self._entries.get(sid)
        if cached and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        response = user_service_answer(
            self._services, "GET", session_path(sid), "sessions:check", request_id, client_address
        )
        session = None
        if response.status == 200:
            session = active_session(response.json())
        elif response.status != 404:
            raise Problem(503, "sessions cannot be checked", {"Retry-After": "1"})
        self.remember(sid, session)
        return session

    def remember(self, sid: str, session: ActiveSession | None) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries = {
                    key: entry for key, entry in self._entries.items() if now - entry[0] < self._ttl
                }
            self._entries[sid] = (now, session)


class Unauthorized(Problem):
    """401 for a token that does not open anything; a cookie that no longer works is cleared."""

    def __init__(self, detail: str, clears_cookie: bool):
        super().__init__(401, detail, {"WWW-Authenticate": "Bearer"})
        self.clears_cookie = clears_cookie


class Caller(NamedTuple):
    claims: dict
    token: str  # the token to forward: the renewed one, if renewed
    renewed: tuple[str, int] | None  # (token, exp) of a renewed cookie to set


def request_token(request: Request, config: Config) -> tuple[str, bool] | None:
    """(token, came from the cookie) for this request; a Bearer header wins over the cookie.
    Problem 401 when two session cookies come without one."""
    if "Authorization" in request.headers:
        scheme, _, token = request.headers["Authorization"].partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("the Authorization header must be a Bearer token", False)
        return token.strip(), False
    cookies = request.cookies.getlist(config.cookie_name)
    if len(cookies) > 1:
        # Another host of the site can add a cookie of the same name (cookie tossing): taking
        # either one might act as someone else. Neither is cleared, or the other one would win.
        raise Unauthorized("more than one session cookie was sent", False)
    return (cookies[0], True) if cookies and cookies[0] else None


def authenticate(
    request: Request, config: Config, issuer: Tokens, sessions: Sessions, request_id: str
) -> Caller:
    """The caller: a valid user token whose session is active; Unauthorized (401) otherwise."""
    found = request_token(request, config)
    if found is None:
        raise Unauthorized("not logged in", False)
    token, via_cookie = found
    try:
        claims = issuer.verify_user_token(token)
    except jwt.InvalidTokenError as error:
        raise Unauthorized("the token is invalid or has expired", via_cookie) from error
    session = sessions.active(claims["sid"], request_id, request.remote_addr or "")
    # A cached answer may predate the session's absolute end: that end is final, renewals or not.
    if session is None or session.end <= time.time():
        raise Unauthorized("the session has ended", via_cookie)
    # Only a cookie login is renewed: an API token sent as the cookie is never stretched.
    renewed = None
    if via_cookie and session.kind == COOKIE_LOGIN:
        renewed = _renewal_if_half_used(issuer, claims, session.end)
    return Caller(claims, renewed[0] if renewed else token, renewed)


def _renewal_if_half_used(issuer: Tokens, claims: dict, session_end: float) -> tuple | None:
    now = time.time()
    if now - claims["iat"] <= (claims["exp"] - claims["iat"]) / 2:
        return None
    not_after = int(session_end)
    if min(now + issuer.ttl_seconds, not_after) <= claims["exp"]:
        return None  # the session's absolute end caps the token already: it would not last longer
    return issuer.user_token(claims["sub"], claims["username"], claims["sid"], not_after)


def require_user(view: Callable) -> Callable:
    """Only a caller with a valid user token whose session is active (see authenticate); the
    view finds the claims on g.claims and the token to forward on g.user_token."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        sessions = current_app.extensions["sessions"]
        try:
            caller = authenticate(request, settings(), tokens(), sessions, g.request_id)
        except Unauthorized as refused:
            if refused.clears_cookie:
                g.cookie = None
            raise
        g.claims, g.user_token = caller.claims, caller.token
        if caller.renewed:
            g.cookie = caller.renewed
        return view(*args, **kwargs)

    return wrapper


# write_cookie's `cookie` when the response leaves the session cookie as it is.
KEEP_COOKIE = object()


def write_cookie(response: Response, cookie: object, config: Config) -> Response:
    """Set (login, renewal: `cookie` is (token, exp)) or clear (logout, dead token: None) the
    session cookie; KEEP_COOKIE leaves it alone."""
    if cookie is KEEP_COOKIE:
        return response
    attributes = {"path": "/", "secure": config.cookie_secure, "httponly": True, "samesite": "Lax"}
    if cookie is None:
        response.delete_cookie(config.cookie_name, **attributes)
    else:
        token, exp = cookie
        max_age = max(0, exp - int(time.time()))
        response.set_cookie(config.cookie_name, token, max_age=max_age, **attributes)
    return response


def init_app(app: Flask) -> None:
    app.after_request(
        lambda response: write_cookie(response, g.get("cookie", KEEP_COOKIE), settings())
    )
