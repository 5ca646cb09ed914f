"""The domain rules behind the API: limits that parallel logins cannot overshoot, rehashing, no
secrets in logs."""

import json
import logging
import threading

from argon2 import PasswordHasher
from sqlalchemy import select

from service_kit import db
from service_kit.web.logs import JsonFormatter
from user_service import passwords
from user_service.models import ClientAttempt, User

PARALLEL = 8


def test_parallel_failures_never_overshoot_the_limit(make_app, login, register):
    app, account = make_app(LOGIN_FAILURE_LIMIT="3"), register()
    start, statuses = threading.Barrier(PARALLEL), []

    def fail() -> None:
        start.wait(timeout=10)
        statuses.append(login(account["username"], "wrong password", on=app).status_code)

    threads = [threading.Thread(target=fail) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(statuses) <= {401, 429} and statuses.count(401) <= 3, statuses
    with app.app_context():
        failures = db.session().scalars(
            select(ClientAttempt).where(ClientAttempt.username == account["username"])
        )
        assert len(list(failures)) == statuses.count(401)


def test_a_login_rehashes_a_password_hashed_with_old_parameters(app, login, fresh_name):
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("old parameters")
    with app.app_context():
        db.session().add(User(username=fresh_name, password_hash=old))
        db.session().commit()
    assert login(fresh_name, "old parameters").status_code == 200
    with app.app_context():
        rehashed = db.session().scalars(select(User).filter_by(username=fresh_name)).one()
        assert rehashed.password_hash != old
        assert not passwords.needs_rehash(rehashed.password_hash)
        assert passwords.verify_password(rehashed.password_hash, "old parameters")
    assert login(fresh_name, "old parameters").status_code == 200


def test_passwords_and_hashes_never_reach_the_log(
    make_app, login, as_service, caplog, capfd, fresh_name
):
    app = make_app(LOGIN_FAILURE_LIMIT="1")
    secret = "Tr0ub4dor&3-never-logged"
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    created = client.post(
        "/users",
        json={"username": fresh_name, "password": secret},
        headers=as_service("users:create"),
    )
    client.post(
        "/users",
        json={"username": fresh_name, "password": secret * 9},
        headers=as_service("users:create"),
    )
    login(fresh_name, secret, on=app)
    login(fresh_name, secret + "x", on=app)  # fails: this client's limit on this name
    login(fresh_name, secret, on=app)  # 429
    login("nobody-" + fresh_name[-6:], secret, on=app)
    with app.app_context():
        stored_hash = db.session().get(User, created.json["id"]).password_hash
    lines = [JsonFormatter().format(record) for record in caplog.records]
    captured = capfd.readouterr()
    assert any(json.loads(line).get("message") == "login throttled" for line in lines)
    for text in [*lines, captured.out, captured.err]:
        assert secret not in text
        assert stored_hash not in text
        assert stored_hash.rsplit("$", 1)[-1] not in text
