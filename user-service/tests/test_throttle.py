"""Login throttling per (username as typed, client) with client and account ceilings, and
registrations per client, in sliding windows."""

import secrets

import pytest
from sqlalchemy import func, select

from service_kit import db
from support.processes import wait_until
from user_service.models import ClientAttempt
from user_service.throttle import client_address

PASSWORD = "correct horse battery"


def new_username() -> str:
    return f"n_{secrets.token_hex(6)}"


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


def log_in(app, as_service, client, user):
    return call(
        app, "/users/authenticate", "users:authenticate", as_service, client,
        user["username"], user["password"],
    )  # fmt: skip


def register_from(app, as_service, client, username, password=PASSWORD):
    return call(app, "/users", "users:create", as_service, client, username, password)


def test_a_client_past_its_limit_on_one_name_gets_429_even_with_the_right_password(
    app, as_service, user
):
    client = new_client()
    for _ in range(5):
        assert fail_login(app, as_service, client, user["username"]).status_code == 401
    refused = log_in(app, as_service, client, user)
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 900
    assert log_in(app, as_service, new_client(), user).status_code == 200


def test_known_and_unknown_names_are_throttled_alike_and_as_typed(app, as_service, user):
    client, unknown = new_client(), f"Ghost_{secrets.token_hex(4)}"
    answers = {"known": [], "unknown": []}
    for _ in range(6):
        answers["known"].append(fail_login(app, as_service, client, user["username"].upper()))
        answers["unknown"].append(fail_login(app, as_service, client, unknown.lower()))
    statuses = {kind: [r.status_code for r in found] for kind, found in answers.items()}
    assert statuses["known"] == statuses["unknown"] == [401] * 5 + [429]
    known, unknown = ({**found[-1].json, "request_id": None} for found in answers.values())
    assert known == unknown


@pytest.mark.parametrize("typed", ["nul\x00inside", "half a pair \ud83d", "é" * 40, "x" * 500])
def test_a_name_no_account_could_have_is_throttled_like_any_other(app, as_service, typed):
    client = new_client()
    statuses = [fail_login(app, as_service, client, typed).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_a_client_failing_on_many_names_gets_one_try_per_name_but_never_loses_a_right_password(
    limited, as_service, user
):
    client = new_client()
    for _ in range(3):
        assert fail_login(limited, as_service, client, new_username()).status_code == 401
    name = new_username()
    assert fail_login(limited, as_service, client, name).status_code == 401
    assert fail_login(limited, as_service, client, name).status_code == 429
    # A name this client has not failed on: the right password still opens it.
    assert log_in(limited, as_service, client, user).status_code == 200


def test_a_name_failed_on_from_many_clients_never_locks_out_a_client_that_has_not_failed(
    make_app, as_service, register
):
    limited = make_app(ACCOUNT_LOGIN_FAILURE_LIMIT="3")
    account, attackers = register(), [new_client() for _ in range(3)]
    for attacker in attackers:
        assert fail_login(limited, as_service, attacker, account["username"]).status_code == 401
    # Past the account's ceiling, a client that has failed on it gets no second failure ...
    assert fail_login(limited, as_service, attackers[0], account["username"]).status_code == 429
    # ... while the user, from an address that has not failed, logs in, and may mistype once.
    owner = new_client()
    assert log_in(limited, as_service, owner, account).status_code == 200
    assert fail_login(limited, as_service, owner, account["username"]).status_code == 401


def test_successful_logins_do_not_count_as_failures(limited, as_service, user):
    client = new_client()
    for _ in range(6):
        assert log_in(limited, as_service, client, user).status_code == 200


def test_logins_to_one_account_are_limited(make_app, as_service, register):
    app, account = make_app(ACCOUNT_LOGIN_LIMIT="2"), register()
    for _ in range(2):
        assert log_in(app, as_service, new_client(), account).status_code == 200
    refused = log_in(app, as_service, new_client(), account)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


def test_registrations_past_the_limit_get_429_and_a_taken_name_counts(
    limited, as_service, fresh_name
):
    client = new_client()
    assert register_from(limited, as_service, client, fresh_name).status_code == 201
    assert register_from(limited, as_service, client, fresh_name).status_code == 409
    refused = register_from(limited, as_service, client, fresh_name + "x")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert register_from(limited, as_service, new_client(), fresh_name + "x").status_code == 201


def test_refused_registrations_do_not_count(limited, as_service, fresh_name):
    client = new_client()
    for _ in range(3):
        assert (
            register_from(limited, as_service, client, fresh_name, "password1").status_code == 422
        )
    assert register_from(limited, as_service, client, fresh_name).status_code == 201


def test_attempts_leave_the_window_and_take_their_rows_with_them(make_app, as_service):
    app = make_app(
        LOGIN_FAILURE_LIMIT="1", LOGIN_FAILURE_WINDOW_SECONDS="2", CLIENT_LIMIT_WINDOW_SECONDS="2"
    )
    client = new_client()
    assert fail_login(app, as_service, client).status_code == 401
    assert fail_login(app, as_service, client).status_code == 429
    wait_until(
        lambda: fail_login(app, as_service, client).status_code == 401 or None,
        10,
        "the failures out of the window",
    )
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
