"""Signing keys (made once, kept private), their JWKS, and the tokens faas issues and accepts."""

import base64
import hashlib
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from .config import TODO_SERVICE, USER_SERVICE, USER_TOKEN_AUDIENCE, Config

ALGORITHM = "EdDSA"
HEADER_TYPE = "at+jwt"  # RFC 9068: an access token, never mistaken for another kind of JWT
# The header parameters faas writes. Any other is refused, above all those naming key material
# (jwk, jku, x5u, x5c): the keys are this function's own and nobody else's.
HEADER_PARAMETERS = frozenset({"alg", "kid", "typ"})
LEEWAY_SECONDS = 30  # clock skew between instances and services; docs/security.md documents it
SERVICE_TOKEN_TTL_SECONDS = 60
# Tokens whose signature and claims were checked in full; a few hundred bytes each.
VERIFIED_TOKENS_KEPT = 4096
USER_TOKEN_CLAIMS = ("iss", "aud", "sub", "exp", "nbf", "iat", "jti", "sid", "username")


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """The key's RFC 7638 JWK thumbprint (SHA-256, base64url): a kid derived from the key itself."""
    jwk = OKPAlgorithm.to_jwk(public_key, as_dict=True)
    required = {name: jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    jwk = OKPAlgorithm.to_jwk(public_key, as_dict=True)
    return {**jwk, "kid": thumbprint(public_key), "use": "sig", "alg": ALGORITHM}


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in a PEM file holding either half of the pair."""
    pem = path.read_bytes()
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        key = serialization.load_pem_private_key(pem, password=None).public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} does not hold an Ed25519 key")
    return key


def _read_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def load_or_create_private_key(path: Path) -> Ed25519PrivateKey:
    """The key in `path`; on first start a new one, written so that concurrent starts agree."""
    try:
        return _read_private_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".jwt-key-")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        # link() publishes a complete file and never replaces one: when several workers start at
        # once, the first key wins and the others read it, so every worker signs with one key.
        os.link(temporary, path)
    except FileExistsError:
        return _read_private_key(path)
    finally:
        os.unlink(temporary)
    return key


class Keys:
    """The current signing key and every public key still accepted (current first)."""

    def __init__(self, private_key: Ed25519PrivateKey, previous: Iterable[Ed25519PublicKey] = ()):
        self.private_key = private_key
        self.kid = thumbprint(private_key.public_key())
        self.public_keys = {self.kid: private_key.public_key()}
        for key in previous:
            self.public_keys.setdefault(thumbprint(key), key)
        # Served on every JWKS request: rendered once.
        self.jwks_json = json.dumps({"keys": [public_jwk(k) for k in self.public_keys.values()]})

    @classmethod
    def from_config(cls, config: Config) -> "Keys":
        previous = [load_public_key(path) for path in config.jwt_previous_public_key_files]
        return cls(load_or_create_private_key(config.jwt_private_key_file), previous)


class Tokens:
    """Issues user and service tokens, and verifies user tokens, with one set of keys."""

    def __init__(self, keys: Keys, issuer: str, function_name: str, ttl_seconds: int):
        self.keys = keys
        self.issuer = issuer
        self.function_name = function_name
        self.ttl_seconds = ttl_seconds
        self._headers = {"kid": keys.kid, "typ": HEADER_TYPE}
        self._service_tokens: dict[str, tuple[str, int]] = {}
        self._verified: dict[str, dict[str, Any]] = {}  # token: its claims

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.keys.private_key, ALGORITHM, headers=self._headers)

    def _claims(self, subject: str, audience: Any, lifetime: int) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": secrets.token_urlsafe(24),
        }

    def user_token(self, user_id: Any, username: str, sid: str, not_after: int) -> tuple[str, int]:
        """A user token and its exp, which never passes the session's absolute end `not_after`."""
        claims = self._claims(str(user_id), list(USER_TOKEN_AUDIENCE), self.ttl_seconds)
        claims.update(sid=sid, username=username, exp=min(claims["exp"], not_after))
        return self._sign(claims), claims["exp"]

    def service_token(self, scope: str) -> str:
        """A short-lived token with `scope` for user-service; reused for half its life."""
        cached = self._service_tokens.get(scope)
        if cached and cached[1] - time.time() > SERVICE_TOKEN_TTL_SECONDS / 2:
            return cached[0]
        claims = self._claims(self.function_name, USER_SERVICE, SERVICE_TOKEN_TTL_SECONDS)
        claims["scope"] = scope
        token = self._sign(claims)
        self._service_tokens[scope] = (token, claims["exp"])
        return token

    def verify_user_token(self, token: str) -> dict[str, Any]:
        """The claims of a user token this function issued; jwt.InvalidTokenError otherwise.

        A client sends the same token on every request: its signature and claims are checked
        in full once (the cache key is the whole token, so no other byte string can hit it),
        its times on every use. The keys never change within one Tokens.
        """
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify_in_full(token)
            if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                self._verified.clear()
            self._verified[token] = claims
        now = time.time()
        if now >= claims["exp"] + LEEWAY_SECONDS:
            raise jwt.ExpiredSignatureError("Signature has expired")
        if now < claims["nbf"] - LEEWAY_SECONDS or now < claims["iat"] - LEEWAY_SECONDS:
            raise jwt.ImmatureSignatureError("The token is not yet valid")
        return dict(claims)

    def _verify_in_full(self, token: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        key = self.keys.public_keys.get(header.get("kid"))  # PyJWT has checked kid is a string
        if (
            header.get("alg") != ALGORITHM
            or header.get("typ") != HEADER_TYPE
            or not header.keys() <= HEADER_PARAMETERS
            or key is None
        ):
            raise jwt.InvalidTokenError("token header not acceptable")
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=TODO_SERVICE,
            issuer=self.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": list(USER_TOKEN_CLAIMS)},
        )
        # PyJWT accepts numeric strings for dates; RFC 7519 says NumericDate is a JSON number.
        for name in ("exp", "nbf", "iat"):
            if isinstance(claims[name], bool) or not isinstance(claims[name], int | float):
                raise jwt.InvalidTokenError(f"claim {name} must be a number")
        for name in ("sub", "jti", "sid", "username"):
            if not isinstance(claims[name], str) or not claims[name]:
                raise jwt.InvalidTokenError(f"claim {name} must be a non-empty string")
        if "scope" in claims:
            raise jwt.InvalidTokenError("a service token is not a user token")
        return claims
