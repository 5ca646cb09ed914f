"""Throwaway databases: an SQLite file, or a fresh PostgreSQL database dropped afterwards."""

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parents[2]


def _admin_connection():
    import psycopg2

    try:
        connection = psycopg2.connect(ADMIN_URL, connect_timeout=3)
    except psycopg2.OperationalError as error:
        reason = f"PostgreSQL not reachable at {ADMIN_URL}: {error}".strip()
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(f"REQUIRE_POSTGRES is set but {reason}")
        pytest.skip(f"SKIPPING POSTGRESQL TESTS: {reason} (set REQUIRE_POSTGRES=1 to fail instead)")
    connection.autocommit = True
    return connection


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database; its SQLAlchemy URL."""
    name = f"test_{secrets.token_hex(6)}"
    _administer(f'CREATE DATABASE "{name}"')
    try:
        yield (
            ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://")
            + f"/{name}"
        )
    finally:
        _administer(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _administer(statement: str) -> None:
    # A connection per statement, none held meanwhile: parallel workers keep dozens of databases
    # open, and PostgreSQL's 100 connections are shared with the stacks that use them.
    admin = _admin_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute(statement)
    finally:
        admin.close()


@contextmanager
def database(kind: str, tmp_dir: Path) -> Iterator[str]:
    """A throwaway database of `kind` ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_dir / 'db.sqlite3'}"
    else:
        with postgres_database() as url:
            yield url


def migrate(service_dir: str, database_url: str) -> None:
    """Brings database_url to the service's latest schema with its own migrations, run in this
    process: the suites make dozens of databases, and a new interpreter for each cost seconds.
    (tests of the migrations themselves run the real command: `alembic` below.)"""
    from alembic import command
    from alembic.config import Config

    # The service's migrations/env.py reads DATABASE_URL from the environment, as in production.
    with mock.patch.dict(os.environ, {"DATABASE_URL": database_url}):
        command.upgrade(Config(str(ROOT / service_dir / "alembic.ini")), "head")


def alembic(service_dir: str, database_url: str, *args: str) -> None:
    """Run the service's real `alembic` command (as `make run` and compose do) on database_url."""
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT / service_dir,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
