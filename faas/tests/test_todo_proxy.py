"""gateway/todo_proxy.py: the todo routes answered before Flask, as Flask's routes would be."""

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.todo_proxy import COLLECTION_RULE, ITEM_RULE, todo_rule
from support.processes import wait_until

PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("/api/todos", COLLECTION_RULE),
        ("/api/todos/5", ITEM_RULE),
        ("/api/todos/", None),
        ("/api/todos/5/x", None),
        ("/api/todosx", None),
        ("/api/me", None),
    ],
)
def test_only_the_todo_routes_are_taken_before_flask(path: str, rule: str | None):
    assert todo_rule(path) == rule


def test_options_and_methods_the_routes_do_not_serve_get_flasks_answers(gateway: Flask):
    client = gateway.test_client()

    options = client.options("/api/todos")
    refused = client.put("/api/todos/1")

    assert options.status_code == 200
    assert {"GET", "POST", "DELETE"} <= set(options.headers["Allow"].split(", "))
    assert refused.status_code == 405 and refused.mimetype == "application/problem+json"
    assert {"GET", "PATCH", "DELETE"} <= set(refused.headers["Allow"].split(", "))


def test_a_todo_answer_has_the_common_headers_and_its_log_line(
    gateway: Flask, bearer: dict, caplog: pytest.LogCaptureFixture
):
    client = gateway.test_client()
    created = client.post("/api/todos", json={"title": "headers"}, headers=bearer).json
    path = created["url"].removeprefix("http://localhost")

    with caplog.at_level(logging.INFO, logger="request"):
        answer = client.get(path, headers={**bearer, "X-Request-ID": "trace-15"})

    assert answer.status_code == 200 and answer.json["id"] == created["id"]
    assert answer.headers["X-Request-ID"] == "trace-15"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Referrer-Policy"] == "same-origin"
    # todo-service, in this process here, logs the same request id under its own route.
    logged = [
        record.fields
        for record in caplog.records
        if getattr(record, "request_id", None) == "trace-15"
        and record.fields["route"].startswith("/api/")
    ]
    assert [(line["method"], line["route"], line["status"]) for line in logged] == [
        ("GET", "/api/todos/<todo_id>", 200)
    ]


def test_head_of_the_list_is_relayed_without_a_body(gateway: Flask, bearer: dict):
    answer = gateway.test_client().head("/api/todos", headers=bearer)

    assert answer.status_code == 200 and answer.data == b""


def test_an_unexpected_failure_is_a_500_problem_with_the_request_id(
    make_gateway, bearer: dict, monkeypatch: pytest.MonkeyPatch
):
    app = make_gateway()

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.extensions["services"].todo, "request", broken)
    answer = app.test_client().get("/api/todos", headers={**bearer, "X-Request-ID": "bug-1"})

    assert answer.status_code == 500 and answer.mimetype == "application/problem+json"
    assert answer.json["request_id"] == "bug-1" and "a bug" not in answer.text
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_a_cookie_past_half_its_life_is_renewed_on_a_todo_call(
    make_gateway, browser_of, account: dict
):
    client: FlaskClient = browser_of(make_gateway(JWT_TTL_SECONDS="4"))
    credentials = {"username": account["username"], "password": PASSWORD}
    assert client.post("/api/login", json=credentials).status_code == 200
    first = client.get_cookie("jwtToken").value

    def renewed():
        answer = client.get("/api/todos")
        assert answer.status_code == 200
        return answer if "jwtToken=" in answer.headers.get("Set-Cookie", "") else None

    wait_until(renewed, timeout=4, what="the cookie renewed by a todo call", interval=0.2)
    assert client.get_cookie("jwtToken").value != first
    assert client.get("/api/todos").status_code == 200
