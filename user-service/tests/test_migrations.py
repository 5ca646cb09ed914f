"""The migrations are the schema: up, down and up again on each backend, and they match the models."""

from sqlalchemy import create_engine, inspect

from support.databases import alembic, database

TABLES = {"alembic_version", "users", "sessions", "client_attempts"}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(backend, tmp_path):
    with database(backend, tmp_path) as url:
        alembic("user-service", url, "upgrade", "head")
        assert _tables(url) == TABLES
        alembic("user-service", url, "downgrade", "base")
        assert _tables(url) == {"alembic_version"}
        alembic("user-service", url, "upgrade", "head")
        assert _tables(url) == TABLES
        # `alembic check` fails when the models hold anything the migrations do not.
        alembic("user-service", url, "check")
