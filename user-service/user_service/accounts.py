"""Accounts: registration and authentication, with a per-account lock and per-client limits."""

import logging
import math
import re
from datetime import timedelta
from typing import NoReturn

from flask import current_app, g
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from . import db, passwords, sessions, throttle
from .config import Config
from .errors import Problem
from .models import Session, User, utcnow

log = logging.getLogger(__name__)

USERNAME_PATTERN = re.compile(r"[a-z0-9_.-]{3,32}")
# Integer primary keys: larger ids cannot exist, and PostgreSQL would reject them as an error.
MAX_ID = 2**31 - 1
INVALID_CREDENTIALS = "invalid username or password"


def _settings() -> Config:
    return current_app.config["SETTINGS"]


def normalize_username(username: str) -> str | None:
    """The stored form of `username`, or None when it breaks the rules."""
    # ASCII first: some non-ASCII letters lower-case to ASCII ones (KELVIN SIGN → "k").
    if not username.isascii():
        return None
    username = username.lower()
    return username if USERNAME_PATTERN.fullmatch(username) else None


def register(username: str, password: str, client: str) -> User:
    """The new user; Problem 422 for an invalid username or password, 409 if the name is taken,
    429 when `client` has registered too often."""
    throttle.refuse_if_over(client, throttle.REGISTRATION)
    name = normalize_username(username)
    if name is None:
        raise Problem(422, "username must be 3 to 32 of a-z, 0-9, '_', '.', '-'")
    problem = passwords.policy_problem(password, name)
    if problem is not None:
        raise Problem(422, problem)
    database = db.session()
    # Counted before the outcome is known: a taken name (409) tells as much as a new account.
    throttle.record(client, throttle.REGISTRATION)
    database.commit()
    user = User(username=name, password_hash=passwords.hash_password(password))
    database.add(user)
    try:
        database.commit()
    except IntegrityError as error:
        # The unique constraint decides, so two registrations racing for a name give one 409.
        database.rollback()
        raise Problem(409, "username is taken") from error
    return user


def get_user(user_id: int) -> User | None:
    return db.session().get(User, user_id) if 0 < user_id <= MAX_ID else None


def lock_seconds(failures: int, settings: Config) -> int:
    """How long `failures` consecutive failures lock an account: 0, then doubling up to the cap."""
    over = failures - settings.lock_after_failures
    if over < 0:
        return 0
    # Bounded exponent: the cap is reached long before, and 2**huge would cost time.
    return min(settings.lock_base_seconds * 2 ** min(over, 32), settings.lock_max_seconds)


def authenticate(username: str, password: str, client: str, kind: str) -> tuple[User, Session]:
    """The user and a new session; Problem 401 for bad credentials, 429 while the account is
    locked or `client` has failed too often."""
    throttle.refuse_if_over(client, throttle.LOGIN_FAILURE)
    name = normalize_username(username)
    user = None
    if name is not None and passwords.is_typeable(password):
        user = db.session().scalars(select(User).where(User.username == name)).one_or_none()
    if user is None:
        passwords.verify_nothing()
        _fail(client)
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        # The password is not even checked while locked: guessing gains nothing.
        retry_after = math.ceil((user.locked_until - now).total_seconds())
        raise Problem(
            429, "too many failed attempts; try again later", {"Retry-After": str(retry_after)}
        )
    if not passwords.verify_password(user.password_hash, password):
        _count_failure(user.id)
        _fail(client)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    session = sessions.start(user, now, kind)
    db.session().commit()
    return user, session


def _fail(client: str) -> NoReturn:
    # Unknown users and wrong passwords alike: both count against the client, one answer.
    throttle.record(client, throttle.LOGIN_FAILURE)
    db.session().commit()
    raise Problem(401, INVALID_CREDENTIALS)


def _count_failure(user_id: int) -> None:
    # One UPDATE ... SET n = n + 1: concurrent failures (any instance) each count. The row stays
    # locked until commit, so the lock written next belongs to the count just returned.
    database = db.session()
    failures = database.execute(
        update(User)
        .where(User.id == user_id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    seconds = lock_seconds(failures, _settings())
    if seconds:
        database.execute(
            update(User)
            .where(User.id == user_id)
            .values(locked_until=utcnow() + timedelta(seconds=seconds))
            .execution_options(synchronize_session=False)
        )
        log.warning(
            "account locked",
            extra={
                "fields": {"user_id": user_id, "failures": failures, "lock_seconds": seconds},
                "request_id": g.get("request_id"),
            },
        )
