"""A microservice's JWT checks against the JWKS that faas publishes: the verifier, and the
decorators its views wear (require_user, require_service)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

import jwt
from flask import Flask, current_app, g, request

from ..web.errors import Problem
from .keys import ALGORITHM, SigningKeys

HEADER_TYPE = "at+jwt"  # RFC 9068: faas types every token it issues as an access token
LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "nbf", "iat", "jti"]
# faas writes only these header parameters. Any other is refused, above all those naming key
# material (jwk, jku, x5u, x5c): keys come from faas's JWKS and nowhere else.
HEADER_PARAMETERS = frozenset({"alg", "kid", "typ"})


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


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
        if key is None:
            raise _unauthorized("unknown signing key")
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
    """Verify tokens for `audience` (the service's name) with the keys at settings.jwks_url. The
    keys' thread starts with the first token, or earlier by start_fetching() (in each worker:
    serving/gunicorn_settings.py)."""
    keys = SigningKeys(
        settings.jwks_url, settings.jwks_refresh_seconds, settings.jwks_max_staleness_seconds
    )
    app.extensions["token_verifier"] = TokenVerifier(keys, settings.jwt_issuer, audience)


def start_fetching(app: Flask) -> None:
    """Load the keys and the revoked sessions (revocations.py) in the background now, so that
    the first token finds them ready."""
    app.extensions["token_verifier"].keys.start()
    app.extensions["revoked_sessions"].start()
