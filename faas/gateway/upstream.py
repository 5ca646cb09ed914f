"""The two services over kept-alive HTTP/1.1 connections (http.client), with timeouts on every call.

A small pool of our own rather than urllib3's: the proxied request spends a third of faas's time
in the HTTP client, and http.client on a kept-alive socket does the same work for half of it.
"""

import http.client
import json
import logging
import select
import threading
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from .config import TODO_SERVICE, USER_SERVICE, Config
from .errors import Problem
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


class Timeout(NamedTuple):
    connect: float
    read: float


class Answer(NamedTuple):
    """A service's whole answer."""

    status: int
    headers: http.client.HTTPMessage  # case-insensitive: headers["etag"] is headers["ETag"]
    data: bytes

    def json(self) -> Any:
        return json.loads(self.data)


class Connection(http.client.HTTPConnection):
    served = 0  # requests answered on this connection


class HTTPSConnection(http.client.HTTPSConnection):
    served = 0


class CannotConnect(Exception):
    """No connection could be opened: nothing was sent."""


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
        self._connection = HTTPSConnection if parts.scheme == "https" else Connection
        self._host = parts.hostname
        self._port = parts.port or self._connection.default_port
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
        attempts = 2 if method == "GET" else 1
        while True:
            attempts -= 1
            try:
                connection = self._connection_for_use(timeout)
            except CannotConnect as error:
                raise self._failure(method, error.__cause__, 503) from error
            try:
                return self._exchange(connection, method, path, body, headers or {})
            except TimeoutError as error:
                connection.close()
                raise self._failure(method, error, 504) from error
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                if attempts:
                    continue  # a connection the service had closed: a read may go again
                raise self._failure(method, error, 503) from error

    def _exchange(
        self, connection: Connection, method: str, path: str, body: bytes | None, headers: dict
    ) -> Answer:
        connection.request(method, self._prefix + path, body, headers)
        response = connection.getresponse()
        data = response.read()
        connection.served += 1
        if response.will_close or connection.served >= REQUESTS_PER_CONNECTION:
            connection.close()
        else:
            self._put_back(connection)
        return Answer(response.status, response.headers, data)

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
            connection = self._connection(self._host, self._port, timeout=timeout.connect)
            try:
                connection.connect()
            except OSError as error:
                connection.close()
                failure = error
                continue
            self.connections_opened += 1
            connection.sock.settimeout(timeout.read)
            return connection
        raise CannotConnect() from failure

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
