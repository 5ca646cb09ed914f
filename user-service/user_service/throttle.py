"""Per-client limits on failed logins and on registrations, in a sliding window.

The attempts live in the database, so every instance counts the same ones. A client is the
address faas names for it; its limit holds however many accounts or usernames it tries.
"""

import ipaddress
import math
from datetime import timedelta

from flask import current_app, request
from sqlalchemy import delete, select

from . import db
from .config import Config
from .errors import Problem
from .models import ClientAttempt, utcnow

LOGIN_FAILURE = "login-failure"
REGISTRATION = "registration"


def _settings() -> Config:
    return current_app.config["SETTINGS"]


def _limit(action: str) -> int:
    settings = _settings()
    if action == LOGIN_FAILURE:
        return settings.client_login_failure_limit
    return settings.client_registration_limit


def _window() -> timedelta:
    return timedelta(seconds=_settings().client_limit_window_seconds)


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
    sets the header to the peer address it sees, never to one its client sent. faas sets a
    single address; should a proxy append to it, the last entry is the one faas added.
    Without a usable header the client is the caller itself.
    """
    forwarded = request.headers.get("X-Forwarded-For", "").rsplit(",", 1)[-1]
    return _client_key(forwarded) or _client_key(request.remote_addr or "") or "unknown"


def refuse_if_over(client: str, action: str) -> None:
    """Problem 429 with Retry-After when `client` has used up `action`'s limit in the window."""
    limit, window, now = _limit(action), _window(), utcnow()
    # The limit-th latest attempt still in the window: once it leaves, one more is allowed.
    oldest_counted = db.session().scalar(
        select(ClientAttempt.at)
        .where(
            ClientAttempt.client == client,
            ClientAttempt.action == action,
            ClientAttempt.at > now - window,
        )
        .order_by(ClientAttempt.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    if oldest_counted is not None:
        retry_after = max(1, math.ceil((oldest_counted + window - now).total_seconds()))
        raise Problem(
            429,
            "too many attempts from this client; try again later",
            {"Retry-After": str(retry_after)},
        )


def record(client: str, action: str) -> None:
    """Counts one attempt of `action` by `client`, in the request's transaction (the caller
    commits). Expired attempts of every client go at the same time, so the table holds only
    the current window."""
    database, now = db.session(), utcnow()
    database.execute(
        delete(ClientAttempt)
        .where(ClientAttempt.at <= now - _window())
        .execution_options(synchronize_session=False)
    )
    database.add(ClientAttempt(client=client, action=action, at=now))
