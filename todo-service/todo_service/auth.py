"""JWT verification against the JWKS that faas publishes. Mirrored in both microservices: tests/test_shape.py keeps the copies identical."""

import os
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import jwt
from flask import Flask, current_app, g, request
from prometheus_client import Counter

from .errors import Problem
from .health import REGISTRY

ALGORITHM = "EdDSA"  # the one algorithm faas signs with; nothing else is accepted
HEADER_TYPE = "at+jwt"  # RFC 9068: faas types every token it issues as an access token
LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "nbf", "iat", "jti"]
# faas writes only these header parameters. Any other is refused, above all those naming key
# material (jwk, jku, x5u, x5c): keys come from faas's JWKS and nowhere else.
HEADER_PARAMETERS = frozenset({"alg", "kid", "typ"})
# Per connect and per read, for the one background thread that fetches.
JWKS_FETCH_TIMEOUT_SECONDS = 1
# Fetches start at most this often per process, whatever asks for them (an unknown kid, a
# retry): a flood of random kids, or of requests while faas is down, cannot flood faas.
JWKS_MIN_FETCH_INTERVAL_SECONDS = 1
# The most a request waits for a fetch: only a request whose kid is unknown, or that came
# while this process holds no usable keys, ever waits.
JWKS_WAIT_SECONDS = 1.5
# A failed fetch is retried after this, doubling up to the refresh period.
JWKS_RETRY_FIRST_DELAY_SECONDS = 1

JWKS_FETCHES = Counter(
    "jwks_fetches_total", "Fetches of faas's JWKS, by result.", ["result"], registry=REGISTRY
)


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _unavailable() -> Problem:
    return Problem(
        503, "signing keys unavailable", {"Retry-After": str(JWKS_MIN_FETCH_INTERVAL_SECONDS)}
    )


class SigningKeys:
    """faas's public keys by kid, kept fresh by a background thread (one per process).

    The thread loads the JWKS at start, retrying with backoff, and again every
    `refresh_seconds`: a key faas stops publishing is refused within that period. Requests
    read the last good keys and never wait on a refresh; a failed refresh keeps them for up to
    `max_staleness_seconds` after the last good fetch, then requests fail closed (503).
    """

    def __init__(self, jwks_url: str, refresh_seconds: float, max_staleness_seconds: float):
        # PyJWKClient fetches (refusing redirects, which could lead to an attacker's keys) and
        # parses; the caching is ours, to bound the fetches.
        self._client = jwt.PyJWKClient(
            jwks_url, cache_jwk_set=False, timeout=JWKS_FETCH_TIMEOUT_SECONDS
        )
        self.refresh_seconds = refresh_seconds
        self.max_staleness_seconds = max_staleness_seconds
        # (keys by kid, monotonic time they become too stale), replaced whole: readers take
        # no lock.
        self._keys: tuple[dict[str, Any], float] = ({}, float("-inf"))
        self._changed = threading.Condition()
        self._attempts = 0  # fetches finished, good or not: waiters watch it move
        self._fetching = False
        self._last_start = float("-inf")
        self._wanted = False  # a request asks for a fetch as soon as the interval allows
        self._started_in: int | None = None  # the pid whose thread fetches

    def start(self) -> None:
        """Start this process's fetching thread, once (gunicorn's workers call it after fork)."""
        with self._changed:
            if self._started_in == os.getpid():
                return
            self._started_in = os.getpid()
        threading.Thread(target=self._run, name="jwks-refresh", daemon=True).start()

    def get(self, kid: str) -> Any:
        """The public key `kid`; Problem 401 if faas has no such key, 503 if no usable keys."""
        keys, usable_until = self._keys
        if kid in keys and time.monotonic() < usable_until:
            return keys[kid]
        self.start()
        self._await_fetch(usable=time.monotonic() < usable_until)
        keys, usable_until = self._keys
        if time.monotonic() >= usable_until:
            raise _unavailable()
        if kid not in keys:
            raise _unauthorized("unknown signing key")
        return keys[kid]

    def _await_fetch(self, usable: bool) -> None:
        # With usable keys, an unknown kid waits only for a fetch that runs or may start now:
        # one just finished without it, so it is unknown. Without usable keys nothing can be
        # verified, and the request waits for the next fetch, up to the bound.
        with self._changed:
            next_start = self._last_start + JWKS_MIN_FETCH_INTERVAL_SECONDS
            if usable and not self._fetching and time.monotonic() < next_start:
                return
            attempts = self._attempts
            self._wanted = True
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._attempts != attempts, JWKS_WAIT_SECONDS)

    def _run(self) -> None:
        delay = JWKS_RETRY_FIRST_DELAY_SECONDS
        while True:
            with self._changed:
                self._fetching, self._wanted = True, False
                self._last_start = time.monotonic()
            keys = self._fetch()
            with self._changed:
                if keys is not None:
                    self._keys = keys, time.monotonic() + self.max_staleness_seconds
                self._fetching = False
                self._attempts += 1
                self._changed.notify_all()
                if keys is not None:
                    delay = JWKS_RETRY_FIRST_DELAY_SECONDS
                    self._sleep(self.refresh_seconds)
                else:
                    self._sleep(delay)
                    delay = min(delay * 2, self.refresh_seconds)

    def _sleep(self, seconds: float) -> None:
        # Until the next refresh is due, or sooner when a request wants a fetch; never sooner
        # than the interval after the last start. Holds self._changed.
        due = time.monotonic() + seconds
        while True:
            now = time.monotonic()
            earliest = self._last_start + JWKS_MIN_FETCH_INTERVAL_SECONDS
            wake = max(earliest, now) if self._wanted else due
            if now >= min(wake, due):
                return
            self._changed.wait(min(wake, due) - now)

    def _fetch(self) -> dict[str, Any] | None:
        try:
            keys = self._client.get_signing_keys()
        except (jwt.PyJWTError, OSError, ValueError):  # down, hung, redirected, not a JWKS
            JWKS_FETCHES.labels(result="failed").inc()
            return None
        JWKS_FETCHES.labels(result="ok").inc()
        return {key.key_id: key.key for key in keys if key.algorithm_name == ALGORITHM}


class TokenVerifier:
    def __init__(self, keys: SigningKeys, issuer: str, audience: str):
        self.issuer = issuer
        self.audience = audience
        self.keys = keys

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or Problem 401 (503 when the keys cannot be fetched)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise _unauthorized("malformed token") from error
        kid = header.get("kid")
        if (
            header.get("alg") != ALGORITHM
            or header.get("typ") != HEADER_TYPE
            or not header.keys() <= HEADER_PARAMETERS
            or not isinstance(kid, str)
            or not 0 < len(kid) <= 128
        ):
            raise _unauthorized("token header not acceptable")
        key = self.keys.get(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as error:
            raise _unauthorized(f"invalid token: {error}") from error
        _check_claim_types(claims)
        return claims


def _check_claim_types(claims: dict[str, Any]) -> None:
    # PyJWT accepts numeric strings for dates; RFC 7519 says NumericDate is a JSON number.
    for name in ("exp", "nbf", "iat"):
        if isinstance(claims[name], bool) or not isinstance(claims[name], int | float):
            raise _unauthorized(f"claim {name} must be a number")
    for name in ("sub", "jti"):
        if not isinstance(claims[name], str) or not claims[name]:
            raise _unauthorized(f"claim {name} must be a non-empty string")


def _claims_from_request() -> dict[str, Any]:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(401, "a Bearer token is required", {"WWW-Authenticate": "Bearer"})
    return current_app.extensions["token_verifier"].verify(token.strip())


def _is_user_token(claims: dict[str, Any]) -> bool:
    # User tokens carry a session id and no scope; service tokens the reverse.
    return "sid" in claims and "scope" not in claims


def _refuse_if_revoked(claims: dict[str, Any]) -> None:
    # A user token is good only while its session is: user-service may have revoked it since.
    sid = claims["sid"]
    if not isinstance(sid, str) or not sid:
        raise _unauthorized("claim sid must be a non-empty string")
    current_app.extensions["revoked_sessions"].refuse_if_revoked(sid)


def _has_scope(claims: dict[str, Any], scope: str) -> bool:
    scopes = claims.get("scope")
    return "sid" not in claims and isinstance(scopes, str) and scope in scopes.split()


def require_user(view: Callable) -> Callable:
    """Only a user token of a session not revoked; its claims go on g.claims and its subject on
    g.user_id."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        claims = _claims_from_request()
        if not _is_user_token(claims):
            raise Problem(403, "a user token is required")
        _refuse_if_revoked(claims)
        g.claims, g.user_id = claims, claims["sub"]
        return view(*args, **kwargs)

    return wrapper


def require_service(scope: str, allow_user: bool = False) -> Callable:
    """A service token with `scope`; with allow_user, a user token of a session not revoked too
    (g.user_id is then set)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            claims = _claims_from_request()
            g.claims, g.user_id = claims, None
            if allow_user and _is_user_token(claims):
                _refuse_if_revoked(claims)
                g.user_id = claims["sub"]
            elif not _has_scope(claims, scope):
                raise Problem(403, f"a service token with scope {scope!r} is required")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def init_app(app: Flask, settings: Any, audience: str) -> None:
    """Verify tokens for `audience` with the keys at settings.jwks_url. The keys' thread starts
    with the first token, or earlier by start_fetching() (gunicorn.conf.py, in each worker)."""
    keys = SigningKeys(
        settings.jwks_url, settings.jwks_refresh_seconds, settings.jwks_max_staleness_seconds
    )
    app.extensions["token_verifier"] = TokenVerifier(keys, settings.jwt_issuer, audience)


def start_fetching(app: Flask) -> None:
    """Load the keys and the revoked sessions (revocations.py) in the background now, so that
    the first token finds them ready."""
    app.extensions["token_verifier"].keys.start()
    app.extensions["revoked_sessions"].start()
