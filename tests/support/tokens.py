"""Real Ed25519 test keys, a JWKS served over real HTTP, tokens signed with PyJWT, and a feed of
revoked sessions over real HTTP, as user-service serves it."""

import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from support.serving import serve_in_background

ISSUER = "todo-faas"


@dataclass
class SigningKey:
    private_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    kid: str = field(default_factory=lambda: secrets.token_hex(8))

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(OKPAlgorithm.to_jwk(self.private_key.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "EdDSA"}

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(
            claims,
            self.private_key,
            algorithm="EdDSA",
            headers={"kid": self.kid, "typ": "at+jwt", **(headers or {})},
        )


def user_claims(sub: str, audience: str, **overrides: Any) -> dict[str, Any]:
    """Claims of a valid user token as faas issues them; overrides replace or (with None) drop."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": sub,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": secrets.token_urlsafe(16),
        "sid": secrets.token_urlsafe(16),
        "username": f"user{sub}",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def service_claims(scope: str, audience: str, **overrides: Any) -> dict[str, Any]:
    """Claims of a service token faas mints for calls that have no user yet."""
    return user_claims("todo-faas", audience, sid=None, username=None, scope=scope, **overrides)


class JwksServer:
    """Serves {"keys": [...]} at /jwks.json on 127.0.0.1; counts fetches.

    `status` other than 200 makes it fail. `release` cleared holds each fetch: the answer's
    head goes out at once and its body a byte at a time, keeping the fetch in progress (each
    read gets a byte in time) until `release` is set again; `holding` is set meanwhile.
    """

    TRICKLE_SECONDS = 0.2

    def __init__(self, keys: list[SigningKey]):
        self.keys = keys
        self.fetches = 0
        self.status = 200
        self.release = threading.Event()
        self.release.set()
        self.holding = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                if server.status != 200:
                    self.send_response(server.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps({"keys": [key.public_jwk for key in server.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                sent = 0
                if not server.release.is_set():
                    server.holding.set()
                    while not server.release.wait(server.TRICKLE_SECONDS) and sent < len(body) - 1:
                        self.wfile.write(body[sent : sent + 1])
                        self.wfile.flush()
                        sent += 1
                    server.holding.clear()
                self.wfile.write(body[sent:])

            def log_message(self, *_args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_port}/jwks.json"
        serve_in_background(self._httpd)

    def close(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()


class RevocationFeed:
    """Serves user-service's feed of revoked sessions (GET /sessions/revoked) on 127.0.0.1; its
    `url` stands for user-service's. `revoke(sid)` lists a session; `status` other than 200 makes
    reads fail; `reads` counts them."""

    def __init__(self) -> None:
        self.revoked: list[str] = []
        self.reads = 0
        self.status = 200
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                feed.reads += 1
                body = json.dumps({"revoked": feed.revoked}).encode()
                found = self.path == "/sessions/revoked"
                self.send_response(feed.status if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_port}"
        serve_in_background(self._httpd)

    def revoke(self, sid: str) -> None:
        self.revoked = [*self.revoked, hashlib.sha256(sid.encode()).hexdigest()]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
