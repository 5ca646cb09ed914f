"""Replicas, restarts and crashes: `--scale` spreads the load and keeps every answer right,
`restart faas` keeps the signing key and the data, and a crashed service is a 503 with
Retry-After (never a wrong 200) until compose has restarted it."""

import json
import os
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from compose.project import REPORT, ComposeProject

from support.api import PublicClient
from support.processes import wait_until

REQUESTS = 600  # a kept-alive connection serves 10, then reconnects to a random replica


@pytest.fixture
def todos(bearer: PublicClient) -> list[dict]:
    """The bearer user's todos: two of them, whatever earlier tests left."""
    assert bearer.call("DELETE", "/api/todos").status_code == 204
    for title in ("one", "two"):
        assert bearer.call("POST", "/api/todos", json={"title": title}).status_code == 201
    return bearer.call("GET", "/api/todos").json()


def served(project: ComposeProject, service: str) -> dict[str, int]:
    """Requests each running replica of the service has logged, health checks aside."""
    counts = {}
    for container in project.containers(service, all_states=False):
        lines = project.logs(container).splitlines()
        counts[container["Name"].lstrip("/")] = sum(
            '"logger": "request"' in line and "/healthz" not in line for line in lines
        )
    return counts


def test_scaled_services_share_the_load_and_every_answer_is_right(
    project: ComposeProject, bearer: PublicClient, todos: list[dict]
):
    project.up("--scale", "todo-service=3", "--scale", "user-service=2")
    try:
        assert len(project.containers("todo-service", all_states=False)) == 3
        before = served(project, "todo-service")
        answers = [bearer.call("GET", "/api/todos") for _ in range(REQUESTS)]
        with ThreadPoolExecutor(8) as pool:
            answers += pool.map(lambda _: bearer.call("GET", "/api/todos"), range(REQUESTS))
        assert {(a.status_code, json.dumps(a.json())) for a in answers} == {
            (200, json.dumps(todos))
        }
        after = served(project, "todo-service")
        spread = {name: after[name] - before.get(name, 0) for name in after}
        REPORT[f"todo-service spread over 3 replicas ({2 * REQUESTS} requests)"] = spread
        assert all(count > 0 for count in spread.values()), spread
        for _ in range(4):  # logins go to user-service: each replica answers rightly
            fresh = PublicClient(project.faas_url)
            assert fresh.take_token(bearer.username).status_code == 200
            assert fresh.call("GET", "/api/todos").json() == todos
    finally:
        project.up()  # back to one replica each
    assert len(project.containers("todo-service", all_states=False)) == 1


def test_restarting_faas_keeps_its_signing_key_and_the_data(
    project: ComposeProject, bearer: PublicClient, todos: list[dict]
):
    keys = requests.get(f"{project.faas_url}/.well-known/jwks.json", timeout=5).json()
    project.compose("restart", "faas")
    wait_until(
        lambda: ready(project.faas_url) or None, timeout=60, what="faas ready after its restart"
    )
    assert requests.get(f"{project.faas_url}/.well-known/jwks.json", timeout=5).json() == keys
    answer = bearer.call("GET", "/api/todos")  # the token from before the restart
    assert answer.status_code == 200 and answer.json() == todos


def test_a_crashed_service_is_a_503_with_retry_after_until_compose_restarts_it(
    project: ComposeProject, bearer: PublicClient, todos: list[dict]
):
    (victim,) = project.containers("todo-service", all_states=False)
    # A crash: its main process killed from outside. (`docker kill` counts as a manual stop,
    # which restart policies leave alone.) The containers' uid is not ours unless we are root.
    try:
        os.kill(victim["State"]["Pid"], signal.SIGKILL)
    except PermissionError:
        pytest.skip("killing a container's process needs root (as in CI)")
    seen = []

    def answer(status: int) -> bool | None:
        response = bearer.call("GET", "/api/todos")
        if response.status_code == 200:
            assert response.json() == todos, "a wrong 200"
        else:
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"].isdigit()
            assert response.headers["Content-Type"] == "application/problem+json"
        seen.append(response.status_code)
        return response.status_code == status or None

    wait_until(lambda: answer(503), timeout=30, what="faas answering 503 without todo-service")
    wait_until(lambda: answer(200), timeout=90, what="faas answering again after the restart")
    (restarted,) = project.containers("todo-service", all_states=False)
    assert restarted["Id"] == victim["Id"] and restarted["RestartCount"] >= 1
    REPORT["answers while todo-service was down"] = {s: seen.count(s) for s in set(seen)}


def ready(faas_url: str) -> bool:
    try:
        return requests.get(f"{faas_url}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False
