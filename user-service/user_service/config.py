"""Settings read once from the environment (names as in DESIGN.md), typed, with working local defaults."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SERVICE_NAME = "user-service"
DEFAULT_DATABASE_URL = (
    f"sqlite:///{Path(__file__).resolve().parent.parent / '.data' / 'users.sqlite3'}"
)


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name) or str(default)
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None


@dataclass(frozen=True)
class Config:
    database_url: str
    jwks_url: str
    jwt_issuer: str
    # Failed authentications allowed before the account locks; each further one doubles the lock.
    lock_after_failures: int
    lock_base_seconds: int
    lock_max_seconds: int
    # Absolute session lifetime: renewals never extend a session past this.
    session_max_seconds: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Config":
        return cls(
            database_url=environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            jwks_url=environ.get("JWKS_URL") or "http://127.0.0.1:9000/.well-known/jwks.json",
            jwt_issuer=environ.get("JWT_ISSUER") or "todo-faas",
            lock_after_failures=_int(environ, "LOCK_AFTER_FAILURES", 5),
            lock_base_seconds=_int(environ, "LOCK_BASE_SECONDS", 30),
            lock_max_seconds=_int(environ, "LOCK_MAX_SECONDS", 3600),
            session_max_seconds=_int(environ, "SESSION_MAX_SECONDS", 12 * 3600),
        )
