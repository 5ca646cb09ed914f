"""POST /users, POST /users/authenticate and GET /users/<id>, through the real API."""

import threading
from datetime import datetime

import pytest

from support.processes import wait_until


def test_register_answers_201_with_the_user_and_its_location(client, as_service, fresh_name):
    response = client.post(
        "/users",
        json={"username": fresh_name.upper(), "password": "p" * 128},
        headers=as_service("users:create"),
    )
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"id", "username", "created_at"}
    assert body["username"] == fresh_name
    assert response.headers["Location"] == f"/users/{body['id']}"
    assert body["created_at"].endswith("Z")
    assert datetime.fromisoformat(body["created_at"]).utcoffset().total_seconds() == 0


def test_register_accepts_the_shortest_and_longest_names(register, fresh_name):
    assert register(fresh_name[-3:])["username"] == fresh_name[-3:]
    longest = (fresh_name + "-" * 32)[:32]
    assert register(longest, password="8 chars!")["username"] == longest


def test_register_refuses_a_taken_name_in_any_case(client, as_service, user):
    response = client.post(
        "/users",
        json={"username": user["username"].upper(), "password": "another password"},
        headers=as_service("users:create"),
    )
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"


def test_two_registrations_racing_for_a_name_give_one_201_and_one_409(app, as_service, fresh_name):
    start, statuses = threading.Barrier(2), []

    def race() -> None:
        client = app.test_client()
        start.wait(timeout=10)
        response = client.post(
            "/users",
            json={"username": fresh_name, "password": "racing password"},
            headers=as_service("users:create"),
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [201, 409]


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ab", "password": "long enough"},
        {"username": "a" * 33, "password": "long enough"},
        {"username": "al ice", "password": "long enough"},
        {"username": "al!ce", "password": "long enough"},
        {"username": "jürgen", "password": "long enough"},
        {"username": "\u212aelvin", "password": "long enough"},  # KELVIN SIGN lower-cases to "k"
        {"username": "alice\n", "password": "long enough"},
        {"username": "alice", "password": "7 chars"},
        {"username": "alice", "password": "p" * 129},
        {"username": "alice", "password": "🔑" * 7},
        {"username": "alice", "password": "trustno1"},
        {"username": "alice", "password": "nul\x00inside"},
        {"username": "alice", "password": "half a pair \ud83d"},
        {"username": "alice", "password": True},
        {"username": 123, "password": "long enough"},
        {"username": "alice", "password": None},
        {"username": ["alice"], "password": "long enough"},
        {"username": "alice"},
        {"username": "alice", "password": "long enough", "admin": True},
    ],
    ids=lambda body: repr(body)[:40],
)
def test_register_refuses_invalid_input_with_422(client, as_service, body):
    response = client.post("/users", json=body, headers=as_service("users:create"))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_register_names_the_rule_a_refused_password_breaks(client, as_service, fresh_name):
    response = client.post(
        "/users",
        json={"username": fresh_name, "password": "Password1"},
        headers=as_service("users:create"),
    )
    assert response.status_code == 422
    assert "most commonly used passwords" in response.json["detail"]


def test_a_password_counts_code_points_and_is_never_normalised(register, login):
    # Eight code points (e + COMBINING ACUTE ACCENT, four times); its NFC form has four.
    account = register(password="e\u0301" * 4)
    assert login(account["username"], "\u00e9" * 4).status_code == 401
    assert login(account["username"], "e\u0301" * 4).status_code == 200


def test_a_password_of_128_four_byte_characters_is_accepted(register, login):
    account = register(password="𝄞" * 128)
    assert login(account["username"], "𝄞" * 128).status_code == 200


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ('{"username": "alice", ', "application/json", 400),
        ("", "application/json", 400),
        ('["alice", "long enough"]', "application/json", 422),
        (None, None, 415),
        ("username=alice&password=long+enough", "application/x-www-form-urlencoded", 415),
        ('{"username": "alice", "password": "long enough"}', "text/plain", 415),
    ],
)
def test_register_refuses_a_body_that_is_not_a_json_object(
    client, as_service, data, content_type, status
):
    response = client.post(
        "/users", data=data, content_type=content_type, headers=as_service("users:create")
    )
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


def test_register_refuses_an_oversized_body_with_413(client, as_service):
    response = client.post(
        "/users",
        json={"username": "alice", "password": "p" * 20_000},
        headers=as_service("users:create"),
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_authenticate_returns_the_user_and_a_new_session(login, user):
    response = login(user["username"].upper(), user["password"])
    assert response.status_code == 200
    assert response.json["user"] == {k: user[k] for k in ("id", "username", "created_at")}
    session = response.json["session"]
    assert set(session) == {"id", "user_id", "created_at", "last_seen_at", "expires_at", "kind"}
    assert session["kind"] == "bearer"  # unless the caller says it is a cookie login
    assert session["user_id"] == user["id"]
    assert len(session["id"]) >= 43
    lifetime = datetime.fromisoformat(session["expires_at"]) - datetime.fromisoformat(
        session["created_at"]
    )
    assert lifetime.total_seconds() == 12 * 3600
    assert login(user["username"], user["password"]).json["session"]["id"] != session["id"]


def test_wrong_password_and_unknown_user_get_the_same_401(login, user, fresh_name):
    answers = [
        login(user["username"], user["password"] + "!"),
        login(fresh_name, user["password"]),
        login("x", "short"),
    ]
    bodies = [{k: v for k, v in a.json.items() if k != "request_id"} for a in answers]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["detail"] == "invalid username or password"


def test_the_password_is_checked_exactly_as_typed(register, login):
    account = register(password="  padded password  ")
    assert login(account["username"], "padded password").status_code == 401
    assert login(account["username"], "  padded password  ").status_code == 200


@pytest.mark.parametrize("password", [12345678, True, None, ["a password"]])
def test_authenticate_refuses_wrong_types_with_422(client, as_service, password):
    response = client.post(
        "/users/authenticate",
        json={"username": "alice", "password": password},
        headers=as_service("users:authenticate"),
    )
    assert response.status_code == 422


@pytest.mark.parametrize("password", ["nul\x00inside", "half a pair \ud83d", "x" * 129])
def test_a_password_that_cannot_be_one_is_a_plain_401(login, user, password):
    response = login(user["username"], password)
    assert response.status_code == 401
    assert response.json["detail"] == "invalid username or password"


def test_failures_throttle_this_client_on_this_name_until_they_leave_the_window(
    make_app, login, register
):
    app, account = make_app(LOGIN_FAILURE_WINDOW_SECONDS="5"), register()
    for _ in range(5):
        assert login(account["username"], "wrong password", on=app).status_code == 401
    throttled = login(account["username"], account["password"], on=app)
    assert throttled.status_code == 429
    assert throttled.mimetype == "application/problem+json"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 5
    # Another client is not this one: the user logs in meanwhile.
    assert (
        login(account["username"], account["password"], on=app, client="10.9.8.7").status_code
        == 200
    )

    def logged_in():
        response = login(account["username"], account["password"], on=app)
        return response if response.status_code == 200 else None

    wait_until(logged_in, 30, "the failures out of the window")
    assert login(account["username"], "wrong password", on=app).status_code == 401


def test_get_user_answers_its_own_token(client, as_user, user):
    response = client.get(f"/users/{user['id']}", headers=as_user(user["id"]))
    assert response.status_code == 200
    assert response.json == {k: user[k] for k in ("id", "username", "created_at")}


def test_get_user_hides_other_users_behind_404(client, as_user, user):
    assert client.get(f"/users/{user['id']}", headers=as_user(user["id"] + 1)).status_code == 404


def test_get_user_answers_a_service_token_with_users_read(client, as_service, user):
    response = client.get(f"/users/{user['id']}", headers=as_service("users:read"))
    assert response.status_code == 200
    assert response.json["username"] == user["username"]


@pytest.mark.parametrize("user_id", ["999999999", "99999999999999999999", "0"])
def test_get_user_answers_404_for_ids_that_do_not_exist(client, as_service, user_id):
    response = client.get(f"/users/{user_id}", headers=as_service("users:read"))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_get_user_without_a_token_is_401(client, user):
    response = client.get(f"/users/{user['id']}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
