"""Per-client limits: failed logins and registrations per client address, in a sliding window."""

import secrets
import time

import pytest
from sqlalchemy import func, select

from user_service import db
from user_service.models import ClientAttempt
from user_service.throttle import client_address

PASSWORD = "correct horse battery"


def new_client() -> str:
    """An address no other test uses: tests share one database per backend."""
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"


@pytest.fixture(scope="module")
def limited(make_app):
    return make_app(CLIENT_LOGIN_FAILURE_LIMIT="3", CLIENT_REGISTRATION_LIMIT="2")


def call(app, path, scope, as_service, client, username, password=PASSWORD):
    return app.test_client().post(
        path,
        json={"username": username, "password": password},
        headers={**as_service(scope), "X-Forwarded-For": client},
    )


def fail_login(app, as_service, client, username="nobody_at_all"):
    return call(app, "/users/authenticate", "users:authenticate", as_service, client, username)


def register(app, as_service, client, username, password=PASSWORD):
    return call(app, "/users", "users:create", as_service, client, username, password)


def test_a_client_past_its_failed_logins_gets_429_even_with_the_right_password(
    limited, as_service, user
):
    client = new_client()
    for _ in range(3):
        assert fail_login(limited, as_service, client).status_code == 401
    refused = call(
        limited, "/users/authenticate", "users:authenticate", as_service, client,
        user["username"], user["password"],
    )  # fmt: skip
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 600


def test_failed_logins_count_per_client_address(limited, as_service):
    client = new_client()
    for _ in range(3):
        fail_login(limited, as_service, client)
    assert fail_login(limited, as_service, client).status_code == 429
    assert fail_login(limited, as_service, new_client()).status_code == 401


def test_successful_logins_do_not_count(limited, as_service, user):
    client = new_client()
    for _ in range(4):
        response = call(
            limited, "/users/authenticate", "users:authenticate", as_service, client,
            user["username"], user["password"],
        )  # fmt: skip
        assert response.status_code == 200


def test_registrations_past_the_limit_get_429_and_a_taken_name_counts(
    limited, as_service, fresh_name
):
    client = new_client()
    assert register(limited, as_service, client, fresh_name).status_code == 201
    assert register(limited, as_service, client, fresh_name).status_code == 409
    refused = register(limited, as_service, client, fresh_name + "x")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert register(limited, as_service, new_client(), fresh_name + "x").status_code == 201


def test_refused_registrations_do_not_count(limited, as_service, fresh_name):
    client = new_client()
    for _ in range(3):
        assert register(limited, as_service, client, fresh_name, "password1").status_code == 422
    assert register(limited, as_service, client, fresh_name).status_code == 201


def test_attempts_leave_the_window_and_take_their_rows_with_them(make_app, as_service):
    app = make_app(CLIENT_LOGIN_FAILURE_LIMIT="2", CLIENT_LIMIT_WINDOW_SECONDS="1")
    client = new_client()
    for _ in range(2):
        fail_login(app, as_service, client)
    assert fail_login(app, as_service, client).status_code == 429
    time.sleep(1.1)
    assert fail_login(app, as_service, client).status_code == 401
    with app.app_context():
        rows = db.session().scalar(
            select(func.count()).select_from(ClientAttempt).where(ClientAttempt.client == client)
        )
    assert rows == 1


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the last entry is faas's own
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::2", "2001:db8:1:2::/64"),  # one /64 is one client
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("not an address", "127.0.0.1"),  # the caller itself
        (None, "127.0.0.1"),
    ],
)
def test_the_client_is_the_address_faas_forwards(app, forwarded, client):
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    with app.test_request_context(headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        assert client_address() == client
