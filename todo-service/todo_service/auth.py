"""JWT verification against the JWKS that faas publishes. Mirrored in both microservices: tests/test_shape.py keeps the copies identical."""

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import jwt
from flask import Flask, current_app, g, request

from .errors import Problem

ALGORITHM = "EdDSA"  # the one algorithm faas signs with; nothing else is accepted
LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "nbf", "iat", "jti"]
# faas writes only these header parameters. Any other is refused, above all those naming key
# material (jwk, jku, x5u, x5c): keys come from faas's JWKS and nowhere else.
HEADER_PARAMETERS = frozenset({"alg", "kid", "typ"})
# Per connect and per read: a JWKS that is down or hangs fails a request in about 1 s, 2 s at most.
JWKS_FETCH_TIMEOUT_SECONDS = 1
# As long as faas's Cache-Control allows: a key withdrawn from the JWKS is refused within a minute.
JWKS_CACHE_SECONDS = 60
# Fetches (for an unknown kid, or again after a failure) start at most this often per process,
# so a flood of random kids, or of requests while faas is down, cannot flood faas.
JWKS_MIN_FETCH_INTERVAL_SECONDS = 2


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _unavailable() -> Problem:
    return Problem(
        503, "signing keys unavailable", {"Retry-After": str(JWKS_MIN_FETCH_INTERVAL_SECONDS)}
    )


class SigningKeys:
    """faas's public keys by kid, from its JWKS, cached here with the limits above."""

    def __init__(self, jwks_url: str):
        # PyJWKClient fetches (refusing redirects, which could lead to an attacker's keys) and
        # parses; the caching is ours, to bound the fetches.
        self._client = jwt.PyJWKClient(
            jwks_url, cache_jwk_set=False, timeout=JWKS_FETCH_TIMEOUT_SECONDS
        )
        self._lock = threading.Lock()
        # (keys by kid, monotonic time they expire), replaced whole so readers need no lock.
        self._cached: tuple[dict[str, Any], float] = ({}, float("-inf"))
        self._next_fetch = float("-inf")

    def get(self, kid: str) -> Any:
        """The public key `kid`; Problem 401 if faas has no such key, 503 if its JWKS is unusable."""
        keys, expires = self._cached
        if kid not in keys or time.monotonic() >= expires:
            with self._lock:  # one fetch at a time: the threads waiting on it use its result
                keys, expires = self._cached
                now = time.monotonic()
                if (kid not in keys or now >= expires) and now >= self._next_fetch:
                    self._next_fetch = now + JWKS_MIN_FETCH_INTERVAL_SECONDS
                    self._cached = keys, expires = self._fetch(), now + JWKS_CACHE_SECONDS
        if time.monotonic() >= expires:
            raise _unavailable()
        if kid not in keys:
            raise _unauthorized("unknown signing key")
        return keys[kid]

    def _fetch(self) -> dict[str, Any]:
        try:
            keys = self._client.get_signing_keys()
        except (jwt.PyJWTError, OSError, ValueError) as error:  # down, hung, redirected, not a JWKS
            raise _unavailable() from error
        return {key.key_id: key.key for key in keys if key.algorithm_name == ALGORITHM}


class TokenVerifier:
    def __init__(self, jwks_url: str, issuer: str, audience: str):
        self.issuer = issuer
        self.audience = audience
        self.keys = SigningKeys(jwks_url)

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or Problem 401 (503 when the keys cannot be fetched)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise _unauthorized("malformed token") from error
        kid = header.get("kid")
        if (
            header.get("alg") != ALGORITHM
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


def _has_scope(claims: dict[str, Any], scope: str) -> bool:
    scopes = claims.get("scope")
    return "sid" not in claims and isinstance(scopes, str) and scope in scopes.split()


def require_user(view: Callable) -> Callable:
    """Only a user token; its claims go on g.claims and its subject on g.user_id."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        claims = _claims_from_request()
        if not _is_user_token(claims):
            raise Problem(403, "a user token is required")
        g.claims, g.user_id = claims, claims["sub"]
        return view(*args, **kwargs)

    return wrapper


def require_service(scope: str, allow_user: bool = False) -> Callable:
    """A service token with `scope`; with allow_user, a user token too (g.user_id is then set)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            claims = _claims_from_request()
            g.claims, g.user_id = claims, None
            if allow_user and _is_user_token(claims):
                g.user_id = claims["sub"]
            elif not _has_scope(claims, scope):
                raise Problem(403, f"a service token with scope {scope!r} is required")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def init_app(app: Flask, jwks_url: str, issuer: str, audience: str) -> None:
    app.extensions["token_verifier"] = TokenVerifier(jwks_url, issuer, audience)
