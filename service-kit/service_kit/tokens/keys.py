"""faas's public signing keys, as each worker holds them: loaded and refreshed in the background
from the JWKS faas publishes."""

import threading
import time
from typing import Any

import jwt
from prometheus_client import Counter

from ..metrics import REGISTRY
from ..web.errors import Problem
from .background import PerProcessThread

ALGORITHM = "EdDSA"  # the one algorithm faas signs with; nothing else is accepted
# Per connect and per read, for the one background thread that fetches.
JWKS_FETCH_TIMEOUT_SECONDS = 1
# Fetches start at most this often per process, whatever asks for them (an unknown kid, a
# retry): a flood of random kids, or of requests while faas is down, cannot flood faas.
JWKS_MIN_FETCH_INTERVAL_SECONDS = 1
# The most a request waits for a fetch: only a request whose kid is unknown, or that came
# while this process holds no usable keys, ever waits.
JWKS_WAIT_SECONDS = 1.5
# A failed fetch is retried after this, doubling up to the refresh period.
JWKS_RETRY_FIRST_DELAY_SECONDS = 1

JWKS_FETCHES = Counter(
    "jwks_fetches_total", "Fetches of faas's JWKS, by result.", ["result"], registry=REGISTRY
)


def _unavailable() -> Problem:
    return Problem(
        503, "signing keys unavailable", {"Retry-After": str(JWKS_MIN_FETCH_INTERVAL_SECONDS)}
    )


class SigningKeys:
    """faas's public keys by kid, kept fresh by a background thread (one per process).

    The thread loads the JWKS at start, retrying with backoff, and again every
    `refresh_seconds`: a key faas stops publishing is refused within that period. Requests
    read the last good keys and never wait on a refresh; a failed refresh keeps them for up to
    `max_staleness_seconds` after the last good fetch, then requests fail closed (503).
    """

    def __init__(self, jwks_url: str, refresh_seconds: float, max_staleness_seconds: float):
        # PyJWKClient fetches (refusing redirects, which could lead to an attacker's keys) and
        # parses; the caching is ours, to bound the fetches.
        self._client = jwt.PyJWKClient(
            jwks_url, cache_jwk_set=False, timeout=JWKS_FETCH_TIMEOUT_SECONDS
        )
        self.refresh_seconds = refresh_seconds
        self.max_staleness_seconds = max_staleness_seconds
        # (keys by kid, monotonic time they become too stale), replaced whole: readers take
        # no lock.
        self._keys: tuple[dict[str, Any], float] = ({}, float("-inf"))
        self._changed = threading.Condition()
        self._attempts = 0  # fetches finished, good or not: waiters watch it move
        self._fetching = False
        self._last_start = float("-inf")
        self._wanted = False  # a request asks for a fetch as soon as the interval allows
        self._thread = PerProcessThread(self._run, "jwks-refresh")

    def start(self) -> None:
        """Start this process's fetching thread, once (gunicorn's workers call it after fork)."""
        self._thread.start()

    def get(self, kid: str) -> Any:
        """The public key `kid`, None if faas has no such key; Problem 503 if no usable keys."""
        keys, usable_until = self._keys
        if kid in keys and time.monotonic() < usable_until:
            return keys[kid]
        self.start()
        self._await_fetch(usable=time.monotonic() < usable_until)
        keys, usable_until = self._keys
        if time.monotonic() >= usable_until:
            raise _unavailable()
        return keys.get(kid)

    def _await_fetch(self, usable: bool) -> None:
        # With usable keys, an unknown kid waits only for a fetch that runs or may start now:
        # one just finished without it, so it is unknown. Without usable keys nothing can be
        # verified, and the request waits for the next fetch, up to the bound.
        with self._changed:
            next_start = self._last_start + JWKS_MIN_FETCH_INTERVAL_SECONDS
            if usable and not self._fetching and time.monotonic() < next_start:
                return
            attempts = self._attempts
            self._wanted = True
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._attempts != attempts, JWKS_WAIT_SECONDS)

    def _run(self) -> None:
        delay = JWKS_RETRY_FIRST_DELAY_SECONDS
        while True:
            with self._changed:
                self._fetching, self._wanted = True, False
                self._last_start = time.monotonic()
            keys = self._fetch()
            with self._changed:
                if keys is not None:
                    self._keys = keys, time.monotonic() + self.max_staleness_seconds
                self._fetching = False
                self._attempts += 1
                self._changed.notify_all()
                if keys is not None:
                    delay = JWKS_RETRY_FIRST_DELAY_SECONDS
                    self._sleep(self.refresh_seconds)
                else:
                    self._sleep(delay)
                    delay = min(delay * 2, self.refresh_seconds)

    def _sleep(self, seconds: float) -> None:
        # Until the next refresh is due, or sooner when a request wants a fetch; never sooner
        # than the interval after the last start. Holds self._changed.
        due = time.monotonic() + seconds
        while True:
            now = time.monotonic()
            earliest = self._last_start + JWKS_MIN_FETCH_INTERVAL_SECONDS
            wake = max(earliest, now) if self._wanted else due
            if now >= min(wake, due):
                return
            self._changed.wait(min(wake, due) - now)

    def _fetch(self) -> dict[str, Any] | None:
        try:
            keys = self._client.get_signing_keys()
        except (jwt.PyJWTError, OSError, ValueError):  # down, hung, redirected, not a JWKS
            JWKS_FETCHES.labels(result="failed").inc()
            return None
        JWKS_FETCHES.labels(result="ok").inc()
        return {key.key_id: key.key for key in keys if key.algorithm_name == ALGORITHM}
