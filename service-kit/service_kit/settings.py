"""What every microservice's Config reads from the environment (docs/configuration.md): its
database, faas's keys and the revoked sessions, and the typed readers of a value."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def whole_number(environ: Mapping[str, str], name: str, default: int) -> int:
    """`name` as a whole number of at least 1; `default` when unset."""
    raw = environ.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {raw!r}")
    return value


def one_of(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """The value of `name`, one of `choices`; the first when unset."""
    value = environ.get(name) or choices[0]
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


@dataclass(frozen=True)
class ServiceConfig:
    """The settings every microservice has; each service's Config adds its own."""

    database_url: str
    jwks_url: str
    jwt_issuer: str
    # The signing keys are fetched again this often in the background: a key faas stops
    # publishing is refused within this period. While fetches fail, the last good keys are
    # used for up to the staleness limit (the user token lifetime), then nothing is accepted.
    jwks_refresh_seconds: int
    jwks_max_staleness_seconds: int
    # Each worker reads the revoked sessions this often, in the background: a revoked session's
    # tokens are refused here within it. While reads fail, the last good set is used for up to
    # the staleness limit, then user tokens are refused (503).
    revocation_refresh_seconds: int
    revocation_max_staleness_seconds: int

    @staticmethod
    def read(environ: Mapping[str, str], default_database_url: str) -> dict[str, Any]:
        """The common settings from `environ`, as keyword arguments of a service's Config."""
        return {
            "database_url": environ.get("DATABASE_URL") or default_database_url,
            "jwks_url": environ.get("JWKS_URL") or "http://127.0.0.1:9000/.well-known/jwks.json",
            "jwt_issuer": environ.get("JWT_ISSUER") or "todo-faas",
            "jwks_refresh_seconds": whole_number(environ, "JWKS_REFRESH_SECONDS", 60),
            "jwks_max_staleness_seconds": whole_number(environ, "JWKS_MAX_STALENESS_SECONDS", 900),
            "revocation_refresh_seconds": whole_number(environ, "REVOCATION_REFRESH_SECONDS", 2),
            "revocation_max_staleness_seconds": whole_number(
                environ, "REVOCATION_MAX_STALENESS_SECONDS", 30
            ),
        }
