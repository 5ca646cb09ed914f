"""Settings read once from the environment (docs/configuration.md), typed, with working local defaults."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SERVICE_NAME = "todo-service"
DEFAULT_DATABASE_URL = (
    f"sqlite:///{Path(__file__).resolve().parent.parent / '.data' / 'todos.sqlite3'}"
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
    # user-service, whose feed of revoked sessions each worker reads this often in the
    # background: a revoked session's tokens are refused here within it. While reads fail, the
    # last good set is used for up to the staleness limit, then user tokens are refused (503).
    user_service_url: str
    revocation_refresh_seconds: int
    revocation_max_staleness_seconds: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Config":
        return cls(
            database_url=environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            jwks_url=environ.get("JWKS_URL") or "http://127.0.0.1:9000/.well-known/jwks.json",
            jwt_issuer=environ.get("JWT_ISSUER") or "todo-faas",
            jwks_refresh_seconds=_int(environ, "JWKS_REFRESH_SECONDS", 60),
            jwks_max_staleness_seconds=_int(environ, "JWKS_MAX_STALENESS_SECONDS", 900),
            user_service_url=environ.get("USER_SERVICE_URL") or "http://127.0.0.1:8001",
            revocation_refresh_seconds=_int(environ, "REVOCATION_REFRESH_SECONDS", 2),
            revocation_max_staleness_seconds=_int(environ, "REVOCATION_MAX_STALENESS_SECONDS", 30),
        )
