"""Settings read once from the environment (docs/configuration.md), typed, with working local defaults."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from service_kit.settings import ServiceConfig

SERVICE_NAME = "todo-service"
DEFAULT_DATABASE_URL = (
    f"sqlite:///{Path(__file__).resolve().parent.parent / '.data' / 'todos.sqlite3'}"
)


@dataclass(frozen=True)
class Config(ServiceConfig):
    # user-service, whose feed of revoked sessions each worker reads in the background.
    user_service_url: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Config":
        return cls(
            **ServiceConfig.read(environ, DEFAULT_DATABASE_URL),
            user_service_url=environ.get("USER_SERVICE_URL") or "http://127.0.0.1:8001",
        )
