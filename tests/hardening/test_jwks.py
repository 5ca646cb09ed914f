"""The JWKS faas publishes, and how the verifiers fetch it: bounded, and closed when it fails.

Each verifier under test is a real todo-service process (the Procfile's line, on the stack's
PostgreSQL database) whose JWKS_URL points at a server this test runs: one that counts fetches,
and ones that are down, hang, redirect to an attacker's keys, or answer something else.
"""

import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from support.processes import ServiceProcess, free_port
from support.serving import serve_in_background
from support.tokens import JwksServer, SigningKey, user_claims

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
FLOOD = 200
WORKERS = 2  # the counted verifier's gunicorn workers: each keeps its own cache
REFETCH_INTERVAL = 1  # seconds between a worker's JWKS fetches at least (docs/security.md)


def test_the_jwks_holds_public_keys_with_kid_use_alg_and_a_short_max_age(pg_stack):
    response = requests.get(f"{pg_stack.faas_url}/.well-known/jwks.json", timeout=5)

    keys = response.json()["keys"]
    assert response.headers["Content-Type"].startswith("application/json")
    assert keys and all(key.keys() >= {"kid", "use", "alg", "kty", "crv", "x"} for key in keys), (
        keys
    )
    assert all(not key.keys() & PRIVATE_MEMBERS for key in keys), keys
    assert [(k["use"], k["alg"], k["kty"], k["crv"]) for k in keys] == [
        ("sig", "EdDSA", "OKP", "Ed25519")
    ] * len(keys)
    assert len({key["kid"] for key in keys}) == len(keys)
    cache_control = dict(
        part.strip().partition("=")[::2] for part in response.headers["Cache-Control"].split(",")
    )
    assert 0 < int(cache_control["max-age"]) <= 300, cache_control


class BadJwks:
    """A JWKS host that misbehaves by path; counts the requests of each path."""

    PATHS = ("/hang", "/redirect", "/attacker.json", "/html", "/empty")

    def __init__(self, attacker: SigningKey):
        self.hits: Counter[str] = Counter()
        self.released = threading.Event()
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.hits[self.path] += 1
                if self.path == "/hang":
                    host.released.wait(30)  # accepted, never answered
                    return
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", f"{host.base}/attacker.json")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = {
                    "/attacker.json": json.dumps({"keys": [attacker.public_jwk]}).encode(),
                    "/html": b"<html><body>keys</body></html>",
                    "/empty": b'{"keys": []}',
                }[self.path]
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._httpd.server_port}"
        serve_in_background(self._httpd)

    def close(self) -> None:
        self.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()


class Verifiers:
    """todo-service processes by the JWKS they are pointed at."""

    def __init__(self, stack, tmp_path):
        self.good_key, self.attacker = SigningKey(), SigningKey()
        self.counted = JwksServer([self.good_key])
        self.bad = BadJwks(self.attacker)
        jwks_urls = {
            "counted": self.counted.url,
            "down": f"http://127.0.0.1:{free_port()}/jwks.json",
            **{path.strip("/"): self.bad.base + path for path in ("/hang", "/redirect", "/html")},
            "empty": f"{self.bad.base}/empty",
        }
        self.urls: dict[str, str] = {}
        self.processes: dict[str, ServiceProcess] = {}
        for name, jwks_url in jwks_urls.items():
            port = free_port()
            workers = WORKERS if name == "counted" else 1
            # No drain on stop: nothing but this test calls them.
            env = {"JWKS_URL": jwks_url, "WEB_CONCURRENCY": str(workers), "DRAIN_SECONDS": "0"}
            self.processes[name] = stack.launch("todos", port, tmp_path / f"{name}.log", env)
            self.urls[name] = f"http://127.0.0.1:{port}"
        for name, process in self.processes.items():
            process.wait_http(f"{self.urls[name]}/readyz", timeout=60)

    def close(self) -> None:
        with ThreadPoolExecutor(len(self.processes)) as pool:
            list(pool.map(ServiceProcess.stop, self.processes.values()))
        self.counted.close()
        self.bad.close()


@pytest.fixture(scope="module")
def verifiers(pg_stack, tmp_path_factory) -> Iterator[Verifiers]:
    running = Verifiers(pg_stack, tmp_path_factory.mktemp("verifiers"))
    yield running
    running.close()


def read_todos(base_url: str, token: str) -> requests.Response:
    return requests.get(
        f"{base_url}/todos", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def a_user_token(key: SigningKey) -> str:
    return key.sign(user_claims(str(secrets.randbelow(10**9) + 1), "todo-service"))


def test_a_flood_of_random_kids_makes_at_most_one_fetch_per_worker_and_interval(verifiers):
    url = verifiers.urls["counted"]
    assert read_todos(url, a_user_token(verifiers.good_key)).status_code == 200
    before = verifiers.counted.fetches
    forged = [a_user_token(SigningKey()) for _ in range(FLOOD)]  # a new kid each

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        statuses = Counter(pool.map(lambda token: read_todos(url, token).status_code, forged))
    elapsed = time.monotonic() - started

    assert statuses == {401: FLOOD}
    # Each worker fetches at most once per interval (its first fetch included).
    assert verifiers.counted.fetches - before <= WORKERS * (1 + int(elapsed // REFETCH_INTERVAL))
    assert read_todos(url, a_user_token(verifiers.good_key)).status_code == 200


def test_a_new_kid_in_the_jwks_is_fetched_within_the_refetch_interval(verifiers):
    url, rotated = verifiers.urls["counted"], SigningKey()
    verifiers.counted.keys.append(rotated)
    try:
        deadline = time.monotonic() + 3 * REFETCH_INTERVAL  # either worker may answer first
        while read_todos(url, a_user_token(rotated)).status_code != 200:
            assert time.monotonic() < deadline, "the rotated key was never fetched"
            time.sleep(0.25)
    finally:
        verifiers.counted.keys.remove(rotated)


@pytest.mark.parametrize("failure", ["down", "hang", "redirect", "html", "empty"])
def test_a_jwks_that_fails_fails_closed_within_2_seconds(verifiers, failure):
    url = verifiers.urls[failure]
    # The attacker's key is what a followed redirect would serve: it must not open the door.
    token = a_user_token(verifiers.attacker)
    answers = []
    for _ in range(3):
        started = time.monotonic()
        response = read_todos(url, token)
        answers.append((response.status_code, response.headers.get("Content-Type")))
        assert time.monotonic() - started < 2, f"{failure}: {time.monotonic() - started:.2f} s"
    assert {status for status, _ in answers} <= {401, 503}, answers
    assert all(kind == "application/problem+json" for _, kind in answers), answers
    assert verifiers.bad.hits["/attacker.json"] == 0


def test_a_flood_while_the_jwks_hangs_makes_at_most_one_fetch_per_interval(verifiers):
    url = verifiers.urls["hang"]  # one worker
    before = verifiers.bad.hits["/hang"]

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        tokens = [a_user_token(verifiers.attacker) for _ in range(40)]
        statuses = Counter(pool.map(lambda token: read_todos(url, token).status_code, tokens))
    elapsed = time.monotonic() - started

    assert set(statuses) <= {401, 503}, statuses
    assert verifiers.bad.hits["/hang"] - before <= 1 + int(elapsed // REFETCH_INTERVAL)
