"""Settings read once from the environment (names as in DESIGN.md), typed, with working local defaults."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SERVICE_NAME = "todo-service"
DEFAULT_DATABASE_URL = (
    f"sqlite:///{Path(__file__).resolve().parent.parent / '.data' / 'todos.sqlite3'}"
)


@dataclass(frozen=True)
class Config:
    database_url: str
    jwks_url: str
    jwt_issuer: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Config":
        return cls(
            database_url=environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            jwks_url=environ.get("JWKS_URL") or "http://127.0.0.1:9000/.well-known/jwks.json",
            jwt_issuer=environ.get("JWT_ISSUER") or "todo-faas",
        )
