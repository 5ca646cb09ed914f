"""Transport: slow clients, body caps and ambiguous framing, on all three servers of the stack."""

import contextlib
import json
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from support.api import PASSWORD, new_username, registered_user
from support.tokens import SigningKey, service_claims

# Where each server takes a JSON body, and its cap (the apps' MAX_CONTENT_LENGTH).
BODY_ROUTES = {"faas": ("/api/todos", 64 * 1024), "todos": ("/todos", 64 * 1024)}
BODY_ROUTES["users"] = ("/users", 16 * 1024)
SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
AMBIGUOUS = {
    "content-length and transfer-encoding": (
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ),
    "duplicate content-length": b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "content-length list": b"Content-Length: 5, 5\r\n\r\nhello",
    "signed content-length": b"Content-Length: +5\r\n\r\nhello",
    "chunked, identity": b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "chunked twice": b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "obs-fold": b"X-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n",
    "bare LF": b"X-Bare: a\nContent-Length: 0\r\n\r\n",
}


def exchange(port: int, data: bytes, timeout: float = 5) -> bytes:
    """Everything the server answers to `data` until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # The server may answer and close before it has read everything.
        with contextlib.suppress(OSError):
            sock.sendall(data)
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            received += chunk
        return received


def chunked(path: str, headers: dict[str, str], body: bytes) -> bytes:
    """A POST of `body` in chunks of 8 KiB, with no Content-Length."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    head += "Transfer-Encoding: chunked\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    pieces = (body[start : start + 8192] for start in range(0, len(body), 8192))
    chunks = b"".join(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for piece in pieces)
    return head.encode() + b"\r\n" + chunks + b"0\r\n\r\n"


@pytest.fixture(scope="module")
def authorizations(pg_stack) -> dict[str, str]:
    """A valid Authorization header for each server's body route."""
    client, _ = registered_user(pg_stack.faas_url, bearer=True)
    user = f"Bearer {client.token}"
    # user-service's POST routes take faas's service tokens only: sign one with faas's key.
    pem = Path(pg_stack.env["JWT_PRIVATE_KEY_FILE"]).read_bytes()
    [jwk] = requests.get(f"{pg_stack.faas_url}/.well-known/jwks.json", timeout=5).json()["keys"]
    key = SigningKey(load_pem_private_key(pem, password=None), kid=jwk["kid"])
    service = key.sign(service_claims("users:create", "user-service"), {"typ": "at+jwt"})
    return {"faas": user, "todos": user, "users": f"Bearer {service}"}


@pytest.mark.parametrize("name", ["faas", "todos", "users"])
def test_request_bodies_over_the_cap_are_refused_with_413_chunked_included(
    pg_stack, authorizations, name
):
    path, cap = BODY_ROUTES[name]
    headers = {"Authorization": authorizations[name], "Content-Type": "application/json"}
    url = pg_stack.url(name) + path
    # Valid JSON, so that only its size is wrong: a todo or a user with padding after it.
    fields = {"title": "chunked"} if name != "users" else {"username": new_username("chunk")}
    small = json.dumps({**fields, "password": PASSWORD} if name == "users" else fields).encode()
    large = small + b" " * (cap + 1 - len(small))

    assert requests.post(url, data=large, headers=headers, timeout=10).status_code == 413
    over = exchange(pg_stack.ports[name], chunked(path, headers, large + b" " * 8192))
    assert over.startswith(b"HTTP/1.1 413 "), over[:300]
    assert b"application/problem+json" in over
    under = exchange(pg_stack.ports[name], chunked(path, headers, small))
    assert under.startswith(b"HTTP/1.1 201 "), under[:300]


@pytest.mark.parametrize("name", ["faas", "todos", "users"])
@pytest.mark.parametrize("framing", sorted(AMBIGUOUS))
def test_ambiguous_framing_is_refused_with_400_and_nothing_behind_it_is_served(
    pg_stack, name, framing
):
    path, _ = BODY_ROUTES[name]
    request = f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode() + AMBIGUOUS[framing] + SMUGGLED

    answer = exchange(pg_stack.ports[name], request)

    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert answer.count(b"HTTP/1.1 ") == 1  # the smuggled request got no answer


def test_clients_trickling_headers_cannot_stop_healthz(pg_stack):
    counts = {"faas": 50, "users": 20, "todos": 20}
    trickling = [
        socket.create_connection(("127.0.0.1", pg_stack.ports[name]), timeout=5)
        for name, count in counts.items()
        for _ in range(count)
    ]
    for sock in trickling:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(1.0):  # one header byte a second on every connection
            for sock in trickling:
                with contextlib.suppress(OSError):
                    sock.send(b"a")

    sender = threading.Thread(target=trickle)
    sender.start()
    try:
        time.sleep(1.5)  # every trickling connection has been given a head byte by byte
        for _ in range(3):
            for name in counts:
                started = time.monotonic()
                response = requests.get(f"{pg_stack.url(name)}/healthz", timeout=5)
                assert response.status_code == 200
                assert time.monotonic() - started < 1.5, name
            time.sleep(0.5)
    finally:
        stop.set()
        sender.join(timeout=5)
        for sock in trickling:
            sock.close()
