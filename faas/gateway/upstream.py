"""The two services over pooled keep-alive connections, with timeouts on every call."""

import logging
from urllib.parse import urlsplit

import urllib3
from urllib3.connectionpool import port_by_scheme
from urllib3.exceptions import HTTPError, MaxRetryError, ProtocolError, ReadTimeoutError
from urllib3.util import Retry, Timeout

from .config import TODO_SERVICE, USER_SERVICE, Config
from .errors import Problem
from .tokens import Tokens

log = logging.getLogger(__name__)

# urllib3 retries only a connection that failed before anything was sent (once); a dropped
# kept-alive connection is retried in Upstream.request for GET only; a timeout never is.
NO_UNSAFE_RETRIES = Retry(total=None, connect=1, read=0, other=0, status=0, redirect=0)
# A kept-alive connection serves this many requests, then the next one connects anew and so looks
# the service's name up again: with several replicas behind the name (compose --scale), the load
# spreads over all of them instead of sticking to the ones each connection first reached.
REQUESTS_PER_CONNECTION = 10


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


class SpreadingPool(urllib3.HTTPConnectionPool):
    """A keep-alive pool whose connections each serve at most REQUESTS_PER_CONNECTION requests."""

    scheme = "http"

    def _get_conn(self, timeout: float | None = None):
        conn = super()._get_conn(timeout)
        served = getattr(conn, "served", 0)
        if served >= REQUESTS_PER_CONNECTION:
            conn.close()  # as urllib3 does with a dropped one: it connects again when used
            served = 0
        conn.served = served + 1
        return conn


class SpreadingHTTPSPool(SpreadingPool, urllib3.HTTPSConnectionPool):
    scheme = "https"


class Upstream:
    """One service: a keep-alive connection pool with connect and read timeouts on every call."""

    def __init__(self, name: str, base_url: str, config: Config):
        self.name = name
        parts = urlsplit(base_url)
        self._prefix = parts.path.rstrip("/")
        pool = SpreadingHTTPSPool if parts.scheme == "https" else SpreadingPool
        self.pool = pool(
            parts.hostname,
            parts.port or port_by_scheme[pool.scheme],
            maxsize=config.instance_concurrency,
            block=False,
            retries=NO_UNSAFE_RETRIES,
            timeout=Timeout(
                connect=config.service_connect_timeout_seconds,
                read=config.service_timeout_seconds,
            ),
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: Timeout | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """The service's answer, whatever its status; Problem 503 if unreachable, 504 if too slow."""
        attempts = 2 if method == "GET" else 1
        while True:
            attempts -= 1
            try:
                return self.pool.urlopen(
                    method,
                    self._prefix + path,
                    body=body,
                    headers=headers,
                    redirect=False,
                    **({"timeout": timeout} if timeout else {}),
                )
            except HTTPError as error:
                reason = error.reason if isinstance(error, MaxRetryError) else error
                if attempts and isinstance(reason, ProtocolError):
                    continue  # a kept-alive connection the service had closed: a read may go again
                raise self._failure(method, reason) from error

    def _failure(self, method: str, reason: Exception) -> Problem:
        # Not the path: it may hold a session id.
        fields = {"service": self.name, "method": method, "error": type(reason).__name__}
        log.warning("service call failed", extra={"fields": fields})
        if isinstance(reason, ReadTimeoutError):
            return Problem(504, f"{self.name} did not answer in time")
        return Problem(503, f"{self.name} is unavailable", {"Retry-After": "1"})

    def close(self) -> None:
        self.pool.close()


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
