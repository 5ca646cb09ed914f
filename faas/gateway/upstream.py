"""The two services over kept-alive HTTP/1.1 connections, with timeouts on every call.

A small client of our own: the proxied request is most of what faas does, and urllib3 (or
http.client, whose header parsing goes through the email package) cost a third of faas's CPU
per request. This one writes a request in one send and reads exactly the answer's framing
(Content-Length, chunked, or to the end), nothing more.
"""

import json
import logging
import re
import select
import socket
import ssl
import threading
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from service_kit.web.errors import Problem

from .config import TODO_SERVICE, USER_SERVICE, Config
from .tokens import Tokens

log = logging.getLogger(__name__)

# A kept-alive connection serves this many requests, then it is closed and the next one connects
# anew and so looks the service's name up again: with several replicas behind the name (compose
# --scale), the load spreads over all of them instead of sticking to the ones each connection
# first reached.
REQUESTS_PER_CONNECTION = 10
# A connection that fails to open is tried once more; a dropped kept-alive one is retried for
# GET only (sending anything else twice could do it twice); a timeout never is.
CONNECT_ATTEMPTS = 2
# Bounds on what a service may send, far above anything ours send.
MAX_LINE_BYTES = 64 * 1024
MAX_HEADER_FIELDS = 100
# What may never reach the wire inside a request target or a header line (it would split them).
_UNSAFE_TARGET = re.compile(r"[\x00-\x20\x7f]")
_UNSAFE_HEADER = re.compile(r"[\r\n\x00]")
BODY_EXPECTED = frozenset({"POST", "PUT", "PATCH"})


class Timeout(NamedTuple):
    connect: float
    read: float


class CannotConnect(Exception):
    """No connection could be opened: nothing was sent."""


class BadAnswer(Exception):
    """The service's bytes are no HTTP/1.1 answer (or the connection ended within one)."""


class AnswerHeaders(dict):
    """An answer's header fields by name, whatever its case; a field sent more than once holds
    its values joined by ", " (RFC 9110 5.3)."""

    def add(self, name: str, value: str) -> None:
        key = name.lower()
        previous = super().get(key)
        super().__setitem__(key, value if previous is None else f"{previous}, {value}")

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


class Answer(NamedTuple):
    """A service's whole answer."""

    status: int
    headers: AnswerHeaders
    data: bytes

    def json(self) -> Any:
        return json.loads(self.data)


class Connection:
    """One open connection to a service, and what it has served."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.reader = sock.makefile("rb")
        self.served = 0

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def request_bytes(
    method: str, target: str, host: str, headers: dict[str, str], body: bytes | None
) -> bytes:
    """The request as it goes on the wire; ValueError for a target or header that would split it."""
    if _UNSAFE_TARGET.search(target):
        raise ValueError("the request target holds a control character or space")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if any(_UNSAFE_HEADER.search(line) for line in lines):
        raise ValueError("a header holds a line break or NUL")
    if body is not None or method in BODY_EXPECTED:
        lines.append(f"Content-Length: {len(body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def _line(reader) -> bytes:
    line = reader.readline(MAX_LINE_BYTES + 1)
    if not line.endswith(b"\n"):
        raise BadAnswer("the connection ended within the answer, or a line is too long")
    return line


def _chunked_body(reader) -> bytes:
    parts = []
    while True:
        size = int(_line(reader).split(b";", 1)[0], 16)
        if size == 0:
            while _line(reader) not in (b"\r\n", b"\n"):
                pass  # trailer fields: nothing of ours reads them
            return b"".join(parts)
        parts.append(reader.read(size))
        if len(parts[-1]) < size or _line(reader) not in (b"\r\n", b"\n"):
            raise BadAnswer("a chunk is cut short")


def read_answer(reader, method: str) -> tuple[Answer, bool]:
    """The answer on `reader` to a `method` request, and whether the connection may serve again."""
    while True:
        version, _, rest = _line(reader).partition(b" ")
        status = rest[:3]
        if not version.startswith(b"HTTP/1.") or not status.isdigit():
            raise BadAnswer("no HTTP/1.x status line")
        headers = AnswerHeaders()
        while (line := _line(reader)) not in (b"\r\n", b"\n"):
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon or len(headers) >= MAX_HEADER_FIELDS:
                raise BadAnswer("a malformed or superfluous header field")
            headers.add(name.strip(), value.strip())
        if not 100 <= int(status) < 200:
            break  # an interim answer (1xx) is followed by the real one
    reusable = version == b"HTTP/1.1" and "close" not in headers.get("Connection", "").lower()
    length = headers.get("Content-Length")
    if method == "HEAD" or int(status) in (204, 304):
        data = b""
    elif "chunked" in headers.get("Transfer-Encoding", "").lower():
        data = _chunked_body(reader)
    elif length is not None:
        if not length.isdigit():
            raise BadAnswer("Content-Length is not a number")
        data = reader.read(int(length))
        if len(data) < int(length):
            raise BadAnswer("the body is cut short")
    else:
        data, reusable = reader.read(), False  # its end is the connection's end
    return Answer(int(status), headers, data), reusable


def _dropped(connection: Connection) -> bool:
    """Whether the service has closed this idle kept-alive connection (it is readable: the end
    of the stream, or bytes nobody asked for); sending on it would fail or be answered wrongly."""
    poller = select.poll()
    poller.register(connection.sock, select.POLLIN)
    return bool(poller.poll(0))


class Upstream:
    """One service: kept-alive connections, at most `instance_concurrency` of them idle, with a
    connect and a read timeout on every call."""

    def __init__(self, name: str, base_url: str, config: Config):
        self.name = name
        parts = urlsplit(base_url)
        self._prefix = parts.path.rstrip("/")
        self._address = (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        self._host = parts.netloc  # the Host header
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None
        self.timeout = Timeout(
            config.service_connect_timeout_seconds, config.service_timeout_seconds
        )
        self._most_idle = config.instance_concurrency
        self._idle: list[Connection] = []  # the most recently used last: it is reused first
        self._lock = threading.Lock()
        self.connections_opened = 0

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: Timeout | None = None,
    ) -> Answer:
        """The service's answer, whatever its status; Problem 503 if unreachable, 504 if too slow."""
        timeout = timeout or self.timeout
        sent = request_bytes(method, self._prefix + path, self._host, headers or {}, body)
        attempts = 2 if method == "GET" else 1
        while True:
            attempts -= 1
            try:
                connection = self._connection_for_use(timeout)
            except CannotConnect as error:
                raise self._failure(method, error.__cause__, 503) from error
            try:
                return self._exchange(connection, method, sent)
            except TimeoutError as error:
                connection.close()
                raise self._failure(method, error, 504) from error
            except (OSError, BadAnswer) as error:
                connection.close()
                if attempts:
                    continue  # a connection the service had closed: a read may go again
                raise self._failure(method, error, 503) from error

    def _exchange(self, connection: Connection, method: str, sent: bytes) -> Answer:
        connection.sock.sendall(sent)
        answer, reusable = read_answer(connection.reader, method)
        connection.served += 1
        if reusable and connection.served < REQUESTS_PER_CONNECTION:
            self._put_back(connection)
        else:
            connection.close()
        return answer

    def _connection_for_use(self, timeout: Timeout) -> Connection:
        """An idle kept-alive connection still open, else a new one; CannotConnect if none opens."""
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                break
            if not _dropped(connection):
                connection.sock.settimeout(timeout.read)
                return connection
            connection.close()
        failure = None
        for _ in range(CONNECT_ATTEMPTS):
            try:
                sock = self._open(timeout.connect)
            except OSError as error:
                failure = error
                continue
            self.connections_opened += 1
            sock.settimeout(timeout.read)
            return Connection(sock)
        raise CannotConnect() from failure

    def _open(self, connect_timeout: float) -> socket.socket:
        sock = socket.create_connection(self._address, timeout=connect_timeout)
        try:
            # One send per request: Nagle's algorithm would only hold it back.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self._address[0])
        except OSError:
            sock.close()
            raise
        return sock

    def _put_back(self, connection: Connection) -> None:
        with self._lock:
            if len(self._idle) < self._most_idle:
                self._idle.append(connection)
                return
        connection.close()

    def _failure(self, method: str, reason: BaseException | None, status: int) -> Problem:
        # Not the path: it may hold a session id.
        fields = {"service": self.name, "method": method, "error": type(reason).__name__}
        log.warning("service call failed", extra={"fields": fields})
        if status == 504:
            return Problem(504, f"{self.name} did not answer in time")
        return Problem(503, f"{self.name} is unavailable", {"Retry-After": "1"})

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def forwarding_headers(config: Config) -> dict[str, str]:
    """The X-Forwarded-* headers todo-service builds url, Location and Link from: PUBLIC_URL's
    parts, never the request's own Host or X-Forwarded-* (a client could point them anywhere)."""
    public = urlsplit(config.public_url)
    headers = {
        "X-Forwarded-Proto": public.scheme,
        "X-Forwarded-Host": public.netloc,
        "X-Forwarded-Prefix": f"{public.path}/api",
    }
    # Only an explicit port: ProxyFix appends X-Forwarded-Port to the host, even a default one.
    if public.port:
        headers["X-Forwarded-Port"] = str(public.port)
    return headers


class Services:
    """The two services this function calls, and the tokens it calls user-service with."""

    def __init__(self, config: Config, tokens: Tokens):
        self.user = Upstream(USER_SERVICE, config.user_service_url, config)
        self.todo = Upstream(TODO_SERVICE, config.todo_service_url, config)
        self.tokens = tokens
        self.forwarding = forwarding_headers(config)

    def close(self) -> None:
        self.user.close()
        self.todo.close()
