"""faas scaled by the FC rule in the real stack: from zero instances, up with the load, back to
zero when idle, with every answer correct (FC_MIN_INSTANCES=0, as the README shows)."""

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from support.api import registered_user
from support.metrics import metric_sum
from support.processes import wait_until
from support.stack import Stack, start_stack

CLIENTS = 16
REQUESTS_PER_CLIENT = 40


@pytest.fixture(scope="module")
def scaling_stack(tmp_path_factory) -> Iterator[Stack]:
    env = {
        "FC_MIN_INSTANCES": "0",
        "FC_MAX_INSTANCES": "4",
        "FC_INSTANCE_CONCURRENCY": "4",
        "FC_IDLE_SECONDS": "2",
    }
    with start_stack(tmp_path_factory.mktemp("scaling"), "postgresql", env) as stack:
        yield stack


def instances(stack: Stack) -> float:
    return metric_sum(stack.metrics_url, "fc_instances")


def wait_for_zero_instances(stack: Stack) -> None:
    wait_until(lambda: instances(stack) == 0 or None, 30, "faas scaled to zero")


def test_from_zero_instances_a_list_request_gets_the_whole_list(scaling_stack):
    client, _ = registered_user(scaling_stack.faas_url, bearer=True)
    titles = [f"todo {n}" for n in range(3)]
    for title in titles:
        assert client.call("POST", "/api/todos", json={"title": title}).status_code == 201
    wait_for_zero_instances(scaling_stack)

    listed = client.call("GET", "/api/todos")

    assert listed.status_code == 200
    assert sorted(todo["title"] for todo in listed.json()) == titles


def test_sixteen_clients_bring_three_or_four_instances_and_idle_brings_zero(scaling_stack):
    client, _ = registered_user(scaling_stack.faas_url, bearer=True)
    assert client.call("POST", "/api/todos", json={"title": "listed"}).status_code == 201
    wait_for_zero_instances(scaling_stack)
    statuses: Counter[int] = Counter()
    seen: list[float] = []
    loading = threading.Event()

    def list_todos() -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {client.token}"
            for _ in range(REQUESTS_PER_CLIENT):
                statuses[
                    session.get(f"{scaling_stack.faas_url}/api/todos", timeout=30).status_code
                ] += 1

    def watch() -> None:
        while loading.is_set():
            seen.append(instances(scaling_stack))

    clients = [threading.Thread(target=list_todos) for _ in range(CLIENTS)]
    watcher = threading.Thread(target=watch)
    loading.set()
    watcher.start()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    loading.clear()
    watcher.join()

    assert statuses == {200: CLIENTS * REQUESTS_PER_CLIENT}
    assert 3 <= max(seen) <= 4
    wait_for_zero_instances(scaling_stack)
