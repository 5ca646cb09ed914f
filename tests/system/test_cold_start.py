"""The cold-start bug stays fixed: a cold instance answers the stored list or 503, never an empty 200."""

import time

import pytest
import requests

from support.api import registered_user
from support.processes import free_port
from support.stack import start_stack

STORED_TITLES = [f"stored {n}" for n in range(5)]


def first_list_answers(url: str, token: str, timeout: float = 60) -> list[requests.Response]:
    """Every answer to GET /api/todos from the first attempt until the first 200 (and 3 more)."""
    answers: list[requests.Response] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and sum(a.status_code == 200 for a in answers) < 4:
        try:
            answers.append(
                requests.get(
                    f"{url}/api/todos", headers={"Authorization": f"Bearer {token}"}, timeout=35
                )
            )
        except requests.ConnectionError:
            time.sleep(0.02)  # not listening yet
    return answers


def assert_never_a_wrong_list(answers: list[requests.Response]) -> None:
    assert answers, "no answer at all"
    for answer in answers:
        assert answer.status_code in (200, 503), answer.text
        if answer.status_code == 200:
            assert [todo["title"] for todo in answer.json()] == STORED_TITLES
        else:
            assert answer.headers["Content-Type"] == "application/problem+json"
    assert answers[-1].status_code == 200


@pytest.fixture(scope="module")
def stack_with_todos(backend, tmp_path_factory):
    with start_stack(tmp_path_factory.mktemp(f"cold-{backend}"), backend) as stack:
        client, _ = registered_user(stack.faas_url, bearer=True)
        for title in STORED_TITLES:
            assert client.call("POST", "/api/todos", json={"title": title}).status_code == 201
        yield stack, client.token


def test_starting_all_three_at_once_never_answers_an_empty_list(stack_with_todos):
    stack, token = stack_with_todos
    stack.stop()
    stack.start()
    assert_never_a_wrong_list(first_list_answers(stack.faas_url, token))


def test_a_new_instance_started_while_the_others_serve_never_answers_an_empty_list(
    stack_with_todos, tmp_path
):
    stack, token = stack_with_todos
    stack.wait_ready()
    port = free_port()
    extra = stack.launch(
        "faas", port, tmp_path / "extra-faas.log", env={"METRICS_PORT": str(free_port())}
    )
    try:
        assert_never_a_wrong_list(first_list_answers(f"http://127.0.0.1:{port}", token))
    finally:
        extra.stop()
