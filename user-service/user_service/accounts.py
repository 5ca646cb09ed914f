"""Accounts: registration and authentication, throttled by throttle.py."""

import re
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service_kit import db
from service_kit.db import utcnow
from service_kit.web.errors import Problem

from . import passwords, sessions, throttle
from .models import ClientAttempt, Session, User

USERNAME_PATTERN = re.compile(r"[a-z0-9_.-]{3,32}")
# Integer primary keys: larger ids cannot exist, and PostgreSQL would reject them as an error.
MAX_ID = 2**31 - 1
INVALID_CREDENTIALS = "invalid username or password"


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
    throttle.refuse_registration_if_over(client)
    name = normalize_username(username)
    if name is None:
        raise Problem(422, "username must be 3 to 32 of a-z, 0-9, '_', '.', '-'")
    problem = passwords.policy_problem(password, name)
    if problem is not None:
        raise Problem(422, problem)
    database = db.session()
    # Counted before the outcome is known: a taken name (409) tells as much as a new account.
    throttle.record_registration(client)
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


def authenticate(username: str, password: str, client: str, kind: str) -> tuple[User, Session]:
    """The user and a new session of `kind`; Problem 401 for bad credentials (unknown users
    alike), 429 when this client has failed too often on this username or the account logs in
    too often."""
    attempt = throttle.begin_login(username, client)
    name = normalize_username(username)
    user = None
    if name is not None and passwords.is_typeable(password):
        user = db.session().scalars(select(User).where(User.username == name)).one_or_none()
    if user is None:
        passwords.verify_nothing()
        _fail(attempt)
    if not passwords.verify_password(user.password_hash, password):
        _fail(attempt)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    session = sessions.start(user, utcnow(), kind)
    throttle.end_login(attempt, succeeded=True)
    db.session().commit()
    return user, session


def _fail(attempt: ClientAttempt) -> NoReturn:
    # Unknown users and wrong passwords alike: both count, one answer.
    throttle.end_login(attempt, succeeded=False)
    db.session().commit()
    raise Problem(401, INVALID_CREDENTIALS)
