"""Only a user token of this service's audience reaches a todo; the rest is 403/503 (the kit's
tests cover the token checks themselves, service-kit/tests/test_auth.py)."""

import pytest

from support.tokens import service_claims, user_claims
from todo_service.config import SERVICE_NAME


@pytest.mark.parametrize("scope", ["users:read", "todos:write"])
def test_a_service_token_is_403_even_with_a_scope(client, signing_key, scope):
    token = signing_key.sign(service_claims(scope, SERVICE_NAME))

    response = client.get("/todos", headers={"Authorization": f"Bearer {token}"})

    assert (response.status_code, response.mimetype) == (403, "application/problem+json")


def test_a_subject_that_cannot_be_an_owner_is_403(client, token):
    response = client.get("/todos", headers={"Authorization": f"Bearer {token('x' * 65)}"})

    assert response.status_code == 403


def test_a_user_token_for_todo_service_alone_is_accepted(client, signing_key, user_id):
    token = signing_key.sign(user_claims(user_id, SERVICE_NAME))

    assert client.get("/todos", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_when_the_jwks_cannot_be_fetched_nothing_is_let_through(
    make_app, closed_port, client, auth
):
    blind = make_app(JWKS_URL=f"http://127.0.0.1:{closed_port}/jwks.json").test_client()

    answers = [
        blind.get("/todos", headers=auth),
        blind.post("/todos", json={"title": "sneaked in"}, headers=auth),
    ]

    assert [(a.status_code, a.mimetype) for a in answers] == [(503, "application/problem+json")] * 2
    assert all(a.headers["Retry-After"] for a in answers)
    assert client.get("/todos", headers=auth).json == []
