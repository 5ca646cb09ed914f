"""The sessions user-service has revoked, as each worker sees them: a set of digests of session
ids, refreshed in the background, against which user tokens are checked. user-service reads
them from its own database, todo-service from user-service's feed (feed())."""

import hashlib
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from prometheus_client import Counter

from ..metrics import REGISTRY
from ..web.errors import Problem
from .background import PerProcessThread

FEED_PATH = "/sessions/revoked"
# Per connect and per read, for the one background thread that reads.
FEED_TIMEOUT_SECONDS = 1
# Only a request that comes before its worker's first good read waits for it, at most this long.
FIRST_READ_WAIT_SECONDS = 1.5
# A failed read is retried after this, doubling up to the maximum (or the refresh period): a
# worker that starts with user-service is ready soon after it, without a 503 meanwhile.
RETRY_FIRST_DELAY_SECONDS = 0.1
RETRY_MAX_DELAY_SECONDS = 1

REVOCATION_READS = Counter(
    "revocation_reads_total",
    "Reads of the revoked sessions, by result.",
    ["result"],
    registry=REGISTRY,
)


def session_digest(session_id: str) -> str:
    """How the feed names a session: the SHA-256 of its id, in hex. Whoever holds a token can
    compute it; nobody can turn it back into a session id."""
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # a redirect is a failed read, never followed


def feed(user_service_url: str) -> Callable[[], list[str]]:
    """A reader of user-service's feed of revoked sessions, over HTTP."""
    url = user_service_url.rstrip("/") + FEED_PATH
    opener = urllib.request.build_opener(_NoRedirects)

    def read() -> list[str]:
        with opener.open(url, timeout=FEED_TIMEOUT_SECONDS) as response:
            revoked = json.load(response)["revoked"]
        if not isinstance(revoked, list) or not all(isinstance(d, str) for d in revoked):
            raise ValueError("not a list of session digests")
        return revoked

    return read


class RevokedSessions:
    """The digests of revoked sessions, read again every `refresh_seconds` by a background thread
    (one per process): a session revoked at user-service is refused here within that period,
    and no request waits on a read or calls user-service itself.

    A failed read keeps the last good set for up to `max_staleness_seconds` after the last good
    read; after that, user tokens are refused with 503 (fail closed), since a session revoked
    meanwhile would go unseen. Until a worker's first good read, its requests wait for it (up
    to FIRST_READ_WAIT_SECONDS), then get 503 as well.
    """

    def __init__(
        self,
        app: Flask,
        read: Callable[[], Iterable[str]],
        refresh_seconds: float,
        max_staleness_seconds: float,
    ):
        self._app = app
        self._read = read
        self.refresh_seconds = refresh_seconds
        self.max_staleness_seconds = max_staleness_seconds
        # (digests, monotonic time they become too stale), replaced whole: readers take no lock.
        self._revoked: tuple[frozenset[str], float] = (frozenset(), float("-inf"))
        self._loaded = threading.Event()  # set by the first good read
        self._thread = PerProcessThread(self._run, "revocations-refresh")

    def start(self) -> None:
        """Start this process's reading thread, once (gunicorn's workers call it after fork)."""
        self._thread.start()

    def refuse_if_revoked(self, session_id: str) -> None:
        """Problem 401 if the session is revoked; 503 while the revoked sessions are unknown."""
        revoked, usable_until = self._revoked
        if time.monotonic() >= usable_until:
            self.start()
            self._loaded.wait(FIRST_READ_WAIT_SECONDS)
            revoked, usable_until = self._revoked
            if time.monotonic() >= usable_until:
                raise Problem(503, "revoked sessions unknown", {"Retry-After": "1"})
        if session_digest(session_id) in revoked:
            raise Problem(
                401, "the session has ended", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )

    def _run(self) -> None:
        delay = RETRY_FIRST_DELAY_SECONDS
        while True:
            revoked = self._read_once()
            if revoked is not None:
                self._revoked = revoked, time.monotonic() + self.max_staleness_seconds
                self._loaded.set()
                delay = RETRY_FIRST_DELAY_SECONDS
                time.sleep(self.refresh_seconds)
            else:
                time.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_DELAY_SECONDS, self.refresh_seconds)

    def _read_once(self) -> frozenset[str] | None:
        try:
            # In an app context: user-service reads its own database.
            with self._app.app_context():
                revoked = frozenset(self._read())
        except Exception:  # whatever failed (network, database, bad answer), the thread goes on
            REVOCATION_READS.labels(result="failed").inc()
            return None
        REVOCATION_READS.labels(result="ok").inc()
        return revoked


def init_app(app: Flask, settings: Any, read: Callable[[], Iterable[str]]) -> None:
    """Check user tokens against the revoked sessions `read` lists (auth.py's decorators). The
    thread starts with the first user token, or earlier by auth.start_fetching()."""
    app.extensions["revoked_sessions"] = RevokedSessions(
        app, read, settings.revocation_refresh_seconds, settings.revocation_max_staleness_seconds
    )
