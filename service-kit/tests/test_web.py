"""HTTP conventions (web/): every error is problem+json with the request id, a sane incoming
X-Request-ID is kept and anything else replaced, bodies are JSON objects or a clear 4xx."""

import re

import pytest


def test_an_unknown_path_is_a_problem_404(client):
    response = client.get("/nowhere")

    assert (response.status_code, response.mimetype) == (404, "application/problem+json")
    assert response.json["status"] == 404
    assert response.json["title"] == "Not Found"


def test_a_wrong_method_is_a_problem_405_with_allow(client):
    response = client.put("/echo")

    assert (response.status_code, response.mimetype) == (405, "application/problem+json")
    assert "POST" in response.headers["Allow"]


def test_an_unexpected_error_is_a_500_with_a_fixed_detail(client):
    response = client.get("/fail")

    assert (response.status_code, response.mimetype) == (500, "application/problem+json")
    assert response.json["detail"] == "An unexpected error occurred."
    assert "secret" not in response.text


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ('{"a": 1}', "text/plain", 415),
        ("{not json", "application/json", 400),
        ("[" * 100_000, "application/json", 413),
        ('["a list"]', "application/json", 422),
    ],
    ids=["not JSON", "malformed", "too large", "not an object"],
)
def test_a_body_that_is_no_json_object_is_a_clear_problem(client, body, content_type, status):
    response = client.post("/echo", data=body, content_type=content_type)

    assert (response.status_code, response.mimetype) == (status, "application/problem+json")


def test_a_json_object_is_taken(client):
    assert client.post("/echo", json={"title": "ok"}).json == {"title": "ok"}


def test_a_request_id_is_echoed(client):
    response = client.get("/nowhere", headers={"X-Request-ID": "abc-123.x_y"})

    assert response.headers["X-Request-ID"] == "abc-123.x_y"


@pytest.mark.parametrize("incoming", [None, "", "has spaces", "x" * 129, "semi;colon"])
def test_a_missing_or_unsafe_request_id_is_replaced(client, incoming):
    headers = {} if incoming is None else {"X-Request-ID": incoming}

    generated = client.get("/nowhere", headers=headers).headers["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", generated)


def test_the_request_id_is_in_problem_bodies(client):
    response = client.get("/nowhere", headers={"X-Request-ID": "trace-me"})

    assert response.json["request_id"] == "trace-me"
