"""A dependency that is down gives a fast 503 and loses nothing that was acknowledged."""

import threading

import pytest
import requests

from support.api import PublicClient, new_username, registered_user
from support.stack import start_stack

FAST = 2.5  # seconds: a client must get its answer within this, not hang


@pytest.fixture(scope="module")
def fault_stack(backend, tmp_path_factory):
    env = {"FC_INITIALIZATION_TIMEOUT": "3"}
    with start_stack(tmp_path_factory.mktemp(f"faults-{backend}"), backend, env) as stack:
        yield stack


def test_todo_service_killed_mid_run_gives_503_and_keeps_every_acknowledged_write(fault_stack):
    client, _ = registered_user(fault_stack.faas_url, bearer=True)
    acknowledged: list[int] = []
    stop_writing = threading.Event()

    def write_continuously() -> None:
        n = 0
        while not stop_writing.is_set():
            n += 1
            try:
                response = client.call("POST", "/api/todos", json={"title": f"write {n}"})
            except requests.RequestException:
                continue
            if response.status_code == 201:
                acknowledged.append(response.json()["id"])

    writer = threading.Thread(target=write_continuously)
    writer.start()
    try:
        threading.Event().wait(1.0)
        fault_stack.kill("todos")
        down = client.call("GET", "/api/todos", timeout=FAST)
        assert down.status_code == 503
        assert down.headers["Content-Type"] == "application/problem+json"
    finally:
        stop_writing.set()
        writer.join(timeout=30)
        fault_stack.start("todos")
        fault_stack.wait_ready("todos")

    stored = {todo["id"] for todo in client.call("GET", "/api/todos?limit=500").json()}
    assert acknowledged and set(acknowledged) <= stored


def test_login_while_user_service_is_down_is_503_never_401(fault_stack):
    client = PublicClient(fault_stack.faas_url)
    username = new_username()
    assert client.register(username).status_code == 201
    fault_stack.stop("users")
    try:
        response = client.login(username)
        assert response.status_code == 503
        assert response.headers["Content-Type"] == "application/problem+json"
        assert client.take_token(username).status_code == 503
    finally:
        fault_stack.start("users")
        fault_stack.wait_ready("users")
    assert client.login(username).status_code == 200


def test_an_instance_whose_initializer_cannot_reach_a_service_does_not_serve_then_heals(
    fault_stack,
):
    fault_stack.stop("faas", "users")
    try:
        fault_stack.start("faas")
        faas = fault_stack.processes["faas"]
        faas.wait_log("init failed", timeout=30)
        assert "user-service" in faas.logs() or fault_stack.user_service_url in faas.logs()
        not_ready = requests.get(f"{fault_stack.faas_url}/readyz", timeout=FAST)
        assert not_ready.status_code == 503
        listing = requests.get(f"{fault_stack.faas_url}/api/todos", timeout=FAST)
        assert listing.status_code == 503
    finally:
        fault_stack.start("users")
    # No restart by hand: the runtime retries the initializer until the service is there.
    fault_stack.wait_ready("users", "faas", timeout=60)
