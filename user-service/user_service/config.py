"""Settings read once from the environment (docs/configuration.md), typed, with working local defaults."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from service_kit.settings import ServiceConfig, one_of, whole_number

from .passwords import PROFILES

SERVICE_NAME = "user-service"
DEFAULT_DATABASE_URL = (
    f"sqlite:///{Path(__file__).resolve().parent.parent / '.data' / 'users.sqlite3'}"
)


@dataclass(frozen=True)
class Config(ServiceConfig):
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
    # The argon2id parameters of new password hashes: a name of PROFILES, the first by default.
    password_hash_profile: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Config":
        return cls(
            **ServiceConfig.read(environ, DEFAULT_DATABASE_URL),
            login_failure_limit=whole_number(environ, "LOGIN_FAILURE_LIMIT", 5),
            login_failure_window_seconds=whole_number(environ, "LOGIN_FAILURE_WINDOW_SECONDS", 900),
            account_login_failure_limit=whole_number(environ, "ACCOUNT_LOGIN_FAILURE_LIMIT", 100),
            account_login_limit=whole_number(environ, "ACCOUNT_LOGIN_LIMIT", 60),
            session_max_seconds=whole_number(environ, "SESSION_MAX_SECONDS", 12 * 3600),
            client_login_failure_limit=whole_number(environ, "CLIENT_LOGIN_FAILURE_LIMIT", 20),
            client_registration_limit=whole_number(environ, "CLIENT_REGISTRATION_LIMIT", 10),
            client_limit_window_seconds=whole_number(environ, "CLIENT_LIMIT_WINDOW_SECONDS", 600),
            password_hash_profile=one_of(environ, "PASSWORD_HASH_PROFILE", tuple(PROFILES)),
        )
