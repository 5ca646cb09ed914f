"""Helpers of the gateway's hardening tests (sessions, CSRF, headers, static files, input):
requests sent byte for byte as written, the problem+json every error must be, and extra faas
instances with settings of their own next to a running stack."""

import http.client
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from support.processes import ServiceProcess, free_port
from support.stack import Stack

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "request_id"}
# What a leaked stack trace or internal error would show.
INTERNALS = ("Traceback", 'File "', "site-packages", "werkzeug", "sqlalchemy", "psycopg", "urllib3")


@dataclass
class Answer:
    """A response read by http.client; the names of a requests.Response, so checks take either."""

    status_code: int
    headers: http.client.HTTPMessage  # case-insensitive; .get_all() for repeated headers
    content: bytes

    def json(self):
        return json.loads(self.content)


def raw(
    base_url: str,
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    chunked: bool = False,
) -> Answer:
    """`target` sent as is (no client normalises `..` or `%2e` away); Host is the URL's unless
    `headers` names another; with `chunked` the body goes as 8 KiB chunks, without a length."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        headers = {"Host": address.netloc, **(headers or {})}
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
        elif body is not None:
            headers["Content-Length"] = str(len(body))
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        if body is not None:
            connection.send(_chunks(body) if chunked else body)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def _chunks(body: bytes, size: int = 8192) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces) + b"0\r\n\r\n"


def assert_problem(response, status: int) -> dict:
    """The response is an RFC 9457 problem of `status` with its request id, and shows nothing
    of the code behind it."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert set(problem) == PROBLEM_MEMBERS, problem
    assert problem["status"] == status
    assert problem["request_id"] and problem["request_id"] == response.headers["X-Request-ID"]
    text = response.content.decode()
    assert not [marker for marker in INTERNALS if marker.lower() in text.lower()], text
    return problem


@contextmanager
def extra_faas(stack: Stack, log_dir: Path, **env: str) -> Iterator[tuple[str, ServiceProcess]]:
    """One more faas (the Procfile's command) with `stack`'s settings and `env`, ready: its URL
    and its process (for its log)."""
    port = free_port()
    # No drain: nothing balances load onto it, so it may stop at once.
    settings = {"METRICS_PORT": str(free_port()), "DRAIN_SECONDS": "0", **env}
    process = stack.launch("faas", port, log_dir / f"faas-{port}.log", settings)
    try:
        process.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.stop()
