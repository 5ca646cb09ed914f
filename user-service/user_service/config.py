"""Settings read once from the environment (docs/configuration.md), typed, with working local defaults."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .passwords import PROFILES

SERVICE_NAME = "user-service"
DEFAULT_DATABASE_URL = (
    f"sqlite:///{Path(__file__).resolve().parent.parent / '.data' / 'users.sqlite3'}"
)


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {raw!r}")
    return value


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """The value of `name`, one of `choices`; the first when unset."""
    value = environ.get(name) or choices[0]
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Config:
    database_url: str
    jwks_url: str
    jwt_issuer: str
    # The signing keys are fetched again this often in the background: a key faas stops
    # publishing is refused within this period. While fetches fail, the last good keys are
    # used for up to the staleness limit (the user token lifetime), then nothing is accepted.
    jwks_refresh_seconds: int
    jwks_max_staleness_seconds: int
    # Failed logins per (username as typed, client) within the window before that pair gets
    # 429s; failures older than the window no longer count. Past the client's limit (failures
    # on any usernames), or the account's (failures from any clients), a client that has failed
    # on a username gets one failure there per window. Successful logins per account too are
    # limited: each costs an argon2 hash.
    login_failure_limit: int
    login_failure_window_seconds: int
    account_login_failure_limit: int
    account_login_limit: int
    # Absolute session lifetime: renewals never extend a session past this.
    session_max_seconds: int
    # Per client address (as faas names it), across every instance, within a sliding window:
    # failed logins that lower its per-username limit to one, and registrations (then 429s).
    client_login_failure_limit: int
    client_registration_limit: int
    client_limit_window_seconds: int
    # Each worker reads the revoked sessions from the database this often, in the background:
    # a revoked session's tokens are refused here within it. While reads fail, the last good
    # set is used for up to the staleness limit, then user tokens are refused (503).
    revocation_refresh_seconds: int
    revocation_max_staleness_seconds: int
    # The argon2id parameters of new password hashes: a name of PROFILES, the first by default.
    password_hash_profile: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Config":
        return cls(
            database_url=environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            jwks_url=environ.get("JWKS_URL") or "http://127.0.0.1:9000/.well-known/jwks.json",
            jwt_issuer=environ.get("JWT_ISSUER") or "todo-faas",
            jwks_refresh_seconds=_int(environ, "JWKS_REFRESH_SECONDS", 60),
            jwks_max_staleness_seconds=_int(environ, "JWKS_MAX_STALENESS_SECONDS", 900),
            login_failure_limit=_int(environ, "LOGIN_FAILURE_LIMIT", 5),
            login_failure_window_seconds=_int(environ, "LOGIN_FAILURE_WINDOW_SECONDS", 900),
            account_login_failure_limit=_int(environ, "ACCOUNT_LOGIN_FAILURE_LIMIT", 100),
            account_login_limit=_int(environ, "ACCOUNT_LOGIN_LIMIT", 60),
            session_max_seconds=_int(environ, "SESSION_MAX_SECONDS", 12 * 3600),
            client_login_failure_limit=_int(environ, "CLIENT_LOGIN_FAILURE_LIMIT", 20),
            client_registration_limit=_int(environ, "CLIENT_REGISTRATION_LIMIT", 10),
            client_limit_window_seconds=_int(environ, "CLIENT_LIMIT_WINDOW_SECONDS", 600),
            revocation_refresh_seconds=_int(environ, "REVOCATION_REFRESH_SECONDS", 2),
            revocation_max_staleness_seconds=_int(environ, "REVOCATION_MAX_STALENESS_SECONDS", 30),
            password_hash_profile=_choice(environ, "PASSWORD_HASH_PROFILE", tuple(PROFILES)),
        )
