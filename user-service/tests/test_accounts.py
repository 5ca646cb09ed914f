"""The domain rules behind the API: lock schedule, atomic failure counting, rehashing, no secrets in logs."""

import json
import logging
import threading

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from user_service import db, passwords
from user_service.accounts import lock_seconds
from user_service.config import Config
from user_service.logs import JsonFormatter
from user_service.models import User


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(0, 0), (4, 0), (5, 30), (6, 60), (7, 120), (11, 1920), (12, 3600), (10**6, 3600)],
)
def test_the_lock_doubles_from_the_nth_failure_up_to_the_cap(failures, seconds):
    assert lock_seconds(failures, Config.from_env({})) == seconds


def test_concurrent_failures_all_count(app, login, register):
    account = register()
    start, statuses = threading.Barrier(4), []

    def fail() -> None:
        start.wait(timeout=10)
        statuses.append(login(account["username"], "wrong password").status_code)

    threads = [threading.Thread(target=fail) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [401] * 4
    with app.app_context():
        assert db.session().get(User, account["id"]).failed_logins == 4


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
    app = make_app(LOCK_AFTER_FAILURES="1")
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
    login(fresh_name, secret + "x", on=app)  # fails and locks
    login(fresh_name, secret, on=app)  # 429
    login("nobody-" + fresh_name[-6:], secret, on=app)
    with app.app_context():
        stored_hash = db.session().get(User, created.json["id"]).password_hash
    lines = [JsonFormatter().format(record) for record in caplog.records]
    captured = capfd.readouterr()
    assert any(json.loads(line).get("message") == "account locked" for line in lines)
    for text in [*lines, captured.out, captured.err]:
        assert secret not in text
        assert stored_hash not in text
        assert stored_hash.rsplit("$", 1)[-1] not in text
