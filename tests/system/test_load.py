"""Under load no request fails: the services hold faas's keys and never wait on faas for them.

On PostgreSQL, as `make run` with USERS_DATABASE_URL/TODOS_DATABASE_URL runs it. faas gets few
threads, so that a handful of clients keeps every one of them busy.
"""

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from support.api import registered_user
from support.metrics import metric_sum
from support.processes import wait_until
from support.stack import Stack, start_stack

INSTANCES, INSTANCE_CONCURRENCY = 2, 1
FAAS_THREADS = INSTANCES * INSTANCE_CONCURRENCY
CLIENTS = 3 * FAAS_THREADS  # more connections than faas has threads: it is saturated
WORKERS = 2  # each service's gunicorn workers; each holds its own keys
REFRESHES = 3  # key refreshes per service worker while the load runs


class Load:
    """`clients` threads, each on its own kept-alive connection, GET `url` until stopped."""

    def __init__(self, url: str, headers: dict[str, str], clients: int):
        self.url, self.headers = url, headers
        self.statuses: Counter[int | str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(clients)]

    def _run(self) -> None:
        with requests.Session() as http:
            while not self._stop.is_set():
                try:
                    status = http.get(self.url, headers=self.headers, timeout=30).status_code
                except requests.RequestException as error:
                    status = type(error).__name__
                with self._lock:
                    self.statuses[status] += 1

    def answers(self) -> int:
        with self._lock:
            return sum(self.statuses.values())

    def __enter__(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc_info) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def key_fetches(stack: Stack) -> dict[str, float]:
    return {
        name: metric_sum(f"{stack.url(name)}/metrics", "jwks_fetches_total", result="ok")
        for name in ("users", "todos")
    }


def waited_for_a_thread(stack: Stack) -> float:
    """Requests that waited for a faas thread: longer than the wait histogram's first bucket,
    1 ms. (A count, not a look at the threads busy now: a look can miss, as the clients and faas
    share two cores.)"""
    waits = metric_sum(stack.metrics_url, "fc_instance_wait_seconds_count")
    return waits - metric_sum(stack.metrics_url, "fc_instance_wait_seconds_bucket", le="0.001")


@pytest.fixture(scope="module")
def load_stack(tmp_path_factory) -> Iterator[Stack]:
    env = {
        "FC_MIN_INSTANCES": str(INSTANCES),
        "FC_MAX_INSTANCES": str(INSTANCES),
        "FC_INSTANCE_CONCURRENCY": str(INSTANCE_CONCURRENCY),
        "WEB_CONCURRENCY": str(WORKERS),
        "JWKS_REFRESH_SECONDS": "1",  # the services' keys go stale many times under the load
    }
    with start_stack(tmp_path_factory.mktemp("load"), "postgresql", env) as stack:
        yield stack


def test_saturated_faas_answers_every_request_while_the_services_refresh_their_keys(load_stack):
    client, _ = registered_user(load_stack.faas_url, bearer=True)
    assert client.call("POST", "/api/todos", json={"title": "under load"}).status_code == 201
    started = key_fetches(load_stack)

    headers = {"Authorization": f"Bearer {client.token}"}
    with Load(f"{load_stack.faas_url}/api/todos", headers, CLIENTS) as load:
        wait_until(
            lambda: waited_for_a_thread(load_stack) >= CLIENTS * 10 or None,
            30,
            "requests queued for a busy faas thread",
        )
        wait_until(
            lambda: (
                all(
                    fetches >= started[name] + REFRESHES * WORKERS
                    for name, fetches in key_fetches(load_stack).items()
                )
                or None
            ),
            60,
            f"{REFRESHES} key refreshes in every service worker",
        )

    assert load.answers() > CLIENTS * REFRESHES
    assert set(load.statuses) == {200}, load.statuses


def test_a_burst_the_moment_a_cold_stack_is_ready_is_answered_in_full(load_stack):
    # As compose starts them: the services first, whose keys cannot load until faas is up.
    load_stack.stop()
    load_stack.start("users", "todos")
    load_stack.wait_ready("users", "todos")
    load_stack.start("faas")
    load_stack.wait_ready("faas")

    client, _ = registered_user(load_stack.faas_url, bearer=True)
    headers = {"Authorization": f"Bearer {client.token}"}
    with Load(f"{load_stack.faas_url}/api/todos", headers, 32) as load:
        wait_until(lambda: load.answers() >= 32 * 10 or None, 60, "ten answers per client")

    assert set(load.statuses) == {200}, load.statuses
