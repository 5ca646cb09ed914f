"""Who is calling: a user token from the cookie or a Bearer header, its session, renewal."""

import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import NamedTuple

import jwt
from flask import Flask, Response, current_app, g, request

from .errors import Problem
from .proxy import call_user_service, session_path
from .security import settings
from .tokens import Tokens


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

    def __init__(self, ttl_seconds: float):
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, ActiveSession | None]] = {}
        self._lock = threading.Lock()

    def active(self, sid: str) -> ActiveSession | None:
        """The session `sid` while it is active; None when it has ended."""
        cached = self._entries.get(sid)
        if cached and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        response = call_user_service("GET", session_path(sid), "sessions:check")
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


def _unauthorized(detail: str, via_cookie: bool) -> Problem:
    if via_cookie:
        g.cookie = None  # a cookie that no longer works is cleared
    return Problem(401, detail, {"WWW-Authenticate": "Bearer"})


def request_token() -> tuple[str, bool] | None:
    """(token, came from the cookie) for this request; a Bearer header wins over the cookie.
    Problem 401 when two session cookies come without one."""
    if "Authorization" in request.headers:
        scheme, _, token = request.headers["Authorization"].partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("the Authorization header must be a Bearer token", False)
        return token.strip(), False
    cookies = request.cookies.getlist(settings().cookie_name)
    if len(cookies) > 1:
        # Another host of the site can add a cookie of the same name (cookie tossing): taking
        # either one might act as someone else. Neither is cleared, or the other one would win.
        raise Problem(401, "more than one session cookie was sent", {"WWW-Authenticate": "Bearer"})
    return (cookies[0], True) if cookies and cookies[0] else None


def _verified_claims(token: str, via_cookie: bool) -> dict:
    try:
        return tokens().verify_user_token(token)
    except jwt.InvalidTokenError as error:
        raise _unauthorized("the token is invalid or has expired", via_cookie) from error


def authenticate() -> None:
    """Put the caller's claims on g.claims and the token to forward on g.user_token, or 401."""
    found = request_token()
    if found is None:
        raise Problem(401, "not logged in", {"WWW-Authenticate": "Bearer"})
    token, via_cookie = found
    claims = _verified_claims(token, via_cookie)
    session = current_app.extensions["sessions"].active(claims["sid"])
    # A cached answer may predate the session's absolute end: that end is final, renewals or not.
    if session is None or session.end <= time.time():
        raise _unauthorized("the session has ended", via_cookie)
    g.claims, g.user_token = claims, token
    # Only a cookie login is renewed: an API token sent as the cookie is never stretched.
    if via_cookie and session.kind == COOKIE_LOGIN:
        _renew_if_half_used(claims, session.end)


def _renew_if_half_used(claims: dict, session_end: float) -> None:
    now = time.time()
    if now - claims["iat"] <= (claims["exp"] - claims["iat"]) / 2:
        return
    not_after = int(session_end)
    if min(now + tokens().ttl_seconds, not_after) <= claims["exp"]:
        return  # the session's absolute end caps the token already: a new one would not last longer
    token, exp = tokens().user_token(claims["sub"], claims["username"], claims["sid"], not_after)
    g.cookie, g.user_token = (token, exp), token


def require_user(view: Callable) -> Callable:
    """Only a caller with a valid user token whose session is active (see authenticate)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        authenticate()
        return view(*args, **kwargs)

    return wrapper


def _write_cookie(response: Response) -> Response:
    """Set (login, renewal) or clear (logout, dead token) the session cookie, as g.cookie says."""
    if "cookie" not in g:
        return response
    config = settings()
    attributes = {"path": "/", "secure": config.cookie_secure, "httponly": True, "samesite": "Lax"}
    if g.cookie is None:
        response.delete_cookie(config.cookie_name, **attributes)
    else:
        token, exp = g.cookie
        max_age = max(0, exp - int(time.time()))
        response.set_cookie(config.cookie_name, token, max_age=max_age, **attributes)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_write_cookie)
