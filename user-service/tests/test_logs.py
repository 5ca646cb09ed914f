"""X-Request-ID: a sane incoming id is echoed, anything else is replaced by a generated one."""

import re

import pytest


def test_a_request_id_is_echoed(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123.x_y"}).headers["X-Request-ID"]
        == "abc-123.x_y"
    )


@pytest.mark.parametrize("incoming", [None, "", "has spaces", "x" * 129, "semi;colon"])
def test_a_missing_or_unsafe_request_id_is_replaced(client, incoming):
    headers = {} if incoming is None else {"X-Request-ID": incoming}
    generated = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)


def test_the_request_id_is_in_problem_bodies(client):
    response = client.get("/nowhere", headers={"X-Request-ID": "trace-me"})
    assert response.json["request_id"] == "trace-me"
