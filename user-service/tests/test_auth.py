"""Which token opens which route of user-service: its scopes (the kit's tests cover the token checks
themselves, service-kit/tests/test_auth.py)."""

import pytest

from support.tokens import user_claims


def test_a_user_token_for_both_services_is_accepted(client, signing_key, user):
    claims = user_claims(str(user["id"]), ["user-service", "todo-service"])
    response = client.get(
        f"/users/{user['id']}", headers={"Authorization": f"Bearer {signing_key.sign(claims)}"}
    )
    assert response.status_code == 200


def test_a_user_token_cannot_create_users(client, as_user, user):
    response = client.post(
        "/users", json={"username": "alice", "password": "long enough"}, headers=as_user(user["id"])
    )
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("POST", "/users", "users:authenticate"),
        ("POST", "/users/authenticate", "users:create"),
        ("GET", "/users/1", "users:create"),
        ("GET", "/users/1", "sessions:check"),
    ],
)
def test_a_service_token_with_the_wrong_scope_is_403(client, as_service, method, path, scope):
    response = client.open(
        path,
        method=method,
        json={"username": "alice", "password": "long enough"},
        headers=as_service(scope),
    )
    assert response.status_code == 403


def test_an_unreachable_jwks_fails_closed(make_app, service_token, user, closed_port):
    app = make_app(JWKS_URL=f"http://127.0.0.1:{closed_port}/jwks.json")
    response = app.test_client().get(
        f"/users/{user['id']}", headers={"Authorization": f"Bearer {service_token('users:read')}"}
    )
    assert response.status_code in (401, 503)
    assert response.mimetype == "application/problem+json"
