"""Settings: every one has a working local default, and the environment's names override."""

from pathlib import Path

from todo_service.config import SERVICE_NAME, Config

SERVICE_DIR = Path(__file__).resolve().parent.parent


def test_the_defaults_work_locally_without_any_setting():
    config = Config.from_env({})

    assert config.database_url == f"sqlite:///{SERVICE_DIR / '.data' / 'todos.sqlite3'}"
    assert config.jwks_url == "http://127.0.0.1:9000/.well-known/jwks.json"
    assert config.jwt_issuer == "todo-faas"


def test_the_environment_overrides_the_defaults_and_empty_means_default():
    config = Config.from_env(
        {"DATABASE_URL": "postgresql://db/todos", "JWKS_URL": "http://faas/jwks", "JWT_ISSUER": ""}
    )

    assert (config.database_url, config.jwks_url, config.jwt_issuer) == (
        "postgresql://db/todos",
        "http://faas/jwks",
        "todo-faas",
    )


def test_the_service_name_is_the_audience_tokens_must_name():
    assert SERVICE_NAME == "todo-service"


def test_the_revoked_sessions_are_read_from_user_service_every_two_seconds_by_default():
    config = Config.from_env({})

    assert config.user_service_url == "http://127.0.0.1:8001"
    assert config.revocation_refresh_seconds == 2
    assert config.revocation_max_staleness_seconds == 30


def test_the_environment_sets_where_and_how_often_revoked_sessions_are_read():
    config = Config.from_env(
        {
            "USER_SERVICE_URL": "http://user-service:8001",
            "REVOCATION_REFRESH_SECONDS": "5",
            "REVOCATION_MAX_STALENESS_SECONDS": "60",
        }
    )

    assert config.user_service_url == "http://user-service:8001"
    assert (config.revocation_refresh_seconds, config.revocation_max_staleness_seconds) == (5, 60)
