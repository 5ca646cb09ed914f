"""Login throttling that slows the attacker, never the victim, and per-client registration limits.

Failed logins count per (username as typed, client), whether or not the account exists, so
that known and unknown names answer alike. A client with `login_failure_limit` recent failures
on one name gets 429 for that name; others are not affected. A client that fails across many
names, or a name failed on from many clients, lowers that limit to one failure for the clients
that have failed on it: a client that has not failed on a name is never refused by them, so
nobody can lock a user out. Failures leave the window and stop counting (they decay).

Every attempt is written (as pending) before its check and committed: parallel attempts see
each other, so no burst can overshoot a limit. The attempts live in the database, so every
instance counts the same ones. A client is the address faas names for it.
"""

import hashlib
import ipaddress
import logging
import math
from datetime import datetime, timedelta

from flask import current_app, g, request
from sqlalchemy import delete, func, select

from service_kit import db
from service_kit.db import utcnow
from service_kit.web.errors import Problem

from .config import Config
from .models import ClientAttempt

log = logging.getLogger(__name__)

LOGIN_PENDING = "login-pending"  # verification under way: counted as if it had failed
LOGIN_FAILURE = "login-failure"
LOGIN = "login"
REGISTRATION = "registration"
# Usernames are counted as typed, lower-cased: "Alice" and "alice" are one name.
USERNAME_KEY_LENGTH = 32


def _settings() -> Config:
    return current_app.config["SETTINGS"]


def _client_key(raw: str) -> str | None:
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        # One host commonly holds a whole /64: counting single addresses would let it rotate.
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_address() -> str:
    """The client this request is made for: the address faas sends in X-Forwarded-For.

    Trusted only because the routes that call this require faas's service token, and faas
    sets the header to the client address it sees (its peer, or what its trusted proxies
    name), never to one a client sent. Should a proxy append to it, the last entry is faas's.
    Without a usable header the client is the caller itself.
    """
    forwarded = request.headers.get("X-Forwarded-For", "").rsplit(",", 1)[-1]
    return _client_key(forwarded) or _client_key(request.remote_addr or "") or "unknown"


def username_key(username: str) -> str:
    """How attempts name a username: lower-cased, or, for one no column could hold as typed
    (too long, a NUL, a lone surrogate: no account has such a name), a digest of it."""
    if username.isascii() and username.isprintable() and len(username) <= USERNAME_KEY_LENGTH:
        return username.lower()
    return hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()


def _too_many(detail: str, oldest_counted: datetime, window: timedelta, now: datetime) -> Problem:
    retry_after = max(1, math.ceil((oldest_counted + window - now).total_seconds()))
    return Problem(429, detail, {"Retry-After": str(retry_after)})


def _times(*conditions) -> list[datetime]:
    """When the matching attempts were made, latest first."""
    query = select(ClientAttempt.at).where(*conditions).order_by(ClientAttempt.at.desc())
    return list(db.session().scalars(query))


def _count(*conditions) -> int:
    return db.session().scalar(select(func.count()).select_from(ClientAttempt).where(*conditions))


def begin_login(username: str, client: str) -> ClientAttempt:
    """The attempt, recorded and committed; Problem 429 (and no attempt) when over a limit."""
    settings, database, now = _settings(), db.session(), utcnow()
    window = timedelta(seconds=settings.login_failure_window_seconds)
    _forget_expired(settings, now)
    attempt = ClientAttempt(
        client=client, username=username_key(username), action=LOGIN_PENDING, at=now
    )
    database.add(attempt)
    database.commit()
    try:
        _refuse_login_if_over(attempt, settings, window)
    except Problem as problem:
        database.delete(attempt)
        database.commit()
        # The client, not the username: a name may be someone's password typed in the wrong box.
        fields = {"client": client, "reason": problem.detail}
        log.warning("login throttled", extra={"fields": fields, "request_id": g.get("request_id")})
        raise
    return attempt


def _refuse_login_if_over(attempt: ClientAttempt, settings: Config, window: timedelta) -> None:
    now, others = attempt.at, ClientAttempt.id != attempt.id
    failed = ClientAttempt.action.in_((LOGIN_FAILURE, LOGIN_PENDING))
    recent = ClientAttempt.at > now - window
    same_name = ClientAttempt.username == attempt.username
    pair = _times(others, failed, recent, same_name, ClientAttempt.client == attempt.client)
    limit = settings.login_failure_limit
    if pair and (
        _count(others, failed, ClientAttempt.client == attempt.client, _client_recent(now))
        >= settings.client_login_failure_limit
        or _count(others, failed, recent, same_name) >= settings.account_login_failure_limit
    ):
        limit = 1
    if len(pair) >= limit:
        raise _too_many("too many failed logins; try again later", pair[limit - 1], window, now)
    logins = _times(others, ClientAttempt.action.in_((LOGIN, LOGIN_PENDING)), recent, same_name)
    if len(logins) >= settings.account_login_limit:
        oldest = logins[settings.account_login_limit - 1]
        raise _too_many("too many logins to this account; try again later", oldest, window, now)


def _client_recent(now: datetime):
    return ClientAttempt.at > now - timedelta(seconds=_settings().client_limit_window_seconds)


def end_login(attempt: ClientAttempt, succeeded: bool) -> None:
    """The attempt's outcome, in the request's transaction (the caller commits)."""
    attempt.action = LOGIN if succeeded else LOGIN_FAILURE


def refuse_registration_if_over(client: str) -> None:
    """Problem 429 with Retry-After when `client` has used up its registrations in the window."""
    settings, now = _settings(), utcnow()
    window = timedelta(seconds=settings.client_limit_window_seconds)
    times = _times(
        ClientAttempt.client == client,
        ClientAttempt.action == REGISTRATION,
        ClientAttempt.at > now - window,
    )
    limit = settings.client_registration_limit
    if len(times) >= limit:
        raise _too_many(
            "too many attempts from this client; try again later", times[limit - 1], window, now
        )


def record_registration(client: str) -> None:
    """Counts one registration by `client`, in the request's transaction (the caller commits)."""
    settings, now = _settings(), utcnow()
    _forget_expired(settings, now)
    db.session().add(ClientAttempt(client=client, action=REGISTRATION, at=now))


def _forget_expired(settings: Config, now: datetime) -> None:
    # Attempts out of every window are deleted as new ones come: the table holds only those.
    longest = max(settings.login_failure_window_seconds, settings.client_limit_window_seconds)
    db.session().execute(
        delete(ClientAttempt)
        .where(ClientAttempt.at <= now - timedelta(seconds=longest))
        .execution_options(synchronize_session=False)
    )
