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
JWKS_FETCH_TIMEOUT_SECONDS = 2
JWKS_CACHE_SECONDS = 300
# An unknown kid refetches the JWKS at most this often, so random kids cannot flood faas.
JWKS_REFRESH_INTERVAL_SECONDS = 10


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


class TokenVerifier:
    def __init__(self, jwks_url: str, issuer: str, audience: str):
        self.issuer = issuer
        self.audience = audience
        self._jwks = jwt.PyJWKClient(
            jwks_url,
            cache_jwk_set=True,
            lifespan=JWKS_CACHE_SECONDS,
            cache_keys=False,
            timeout=JWKS_FETCH_TIMEOUT_SECONDS,
        )
        self._refresh_lock = threading.Lock()
        self._last_refresh = float("-inf")

    def _key_for(self, kid: str) -> Any:
        try:
            keys = {key.key_id: key for key in self._jwks.get_signing_keys()}
            if kid not in keys:
                with self._refresh_lock:
                    if time.monotonic() - self._last_refresh >= JWKS_REFRESH_INTERVAL_SECONDS:
                        self._last_refresh = time.monotonic()
                        keys = {
                            key.key_id: key for key in self._jwks.get_signing_keys(refresh=True)
                        }
        except jwt.PyJWKClientConnectionError as error:
            raise Problem(503, "signing keys unavailable", {"Retry-After": "1"}) from error
        except jwt.PyJWKClientError as error:
            raise _unauthorized("no usable signing keys") from error
        if kid not in keys:
            raise _unauthorized("unknown signing key")
        return keys[kid].key

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or Problem 401 (503 when the keys cannot be fetched)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise _unauthorized("malformed token") from error
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str) or not 0 < len(kid) <= 128:
            raise _unauthorized("token header not acceptable")
        key = self._key_for(kid)
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
