"""The data a run needs: one bench user with a 20-todo page, in tables of a chosen size.

Rows go straight into the todos database with one INSERT ... SELECT generate_series (a million
rows take seconds, not the hours a million API calls would), then ANALYZE, as a table that
grew over time would have fresh statistics. Every owner, the bench user included, has
PAGE_SIZE todos spread evenly across the table, so the user's page sits on as many heap pages
as it would after months of use by many users.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text

from support.api import PublicClient, new_username
from support.databases import alembic, postgres_database

PAGE_SIZE = 20

SEED = text(
    """
    INSERT INTO todos (owner_id, title, completed, position, created_at, updated_at, version)
    SELECT CASE WHEN n % :stride = 0 THEN :owner ELSE 'other-' || (n % :stride) END,
           'todo ' || (n / :stride), false, n / :stride, now(), now(), 1
    FROM generate_series(1, :total) AS n
    """
)


def bench_user(faas_url: str) -> tuple[str, str, str]:
    """A new user registered through faas: name, id and a Bearer token from POST /api/token."""
    client = PublicClient(faas_url)
    username = new_username("bench")
    registered = client.register(username)
    if registered.status_code != 201:
        raise RuntimeError(f"register: {registered.status_code} {registered.text}")
    if client.take_token(username).status_code != 200:
        raise RuntimeError("POST /api/token failed for a new user")
    return username, str(client.call("GET", "/api/me").json()["id"]), client.token


def seed_todos(database_url: str, owner: str, total: int) -> list[str]:
    """`total` todos in the table, PAGE_SIZE of them `owner`'s; the titles of owner's page, the
    same whatever the total, so that one answer is right for every table."""
    stride = total // PAGE_SIZE
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(SEED, {"stride": stride, "owner": owner, "total": total})
            connection.execute(text("ANALYZE todos"))
    finally:
        engine.dispose()
    return [f"todo {position}" for position in range(1, PAGE_SIZE + 1)]


@contextmanager
def todos_database() -> Iterator[str]:
    """A new PostgreSQL todos database at the latest migration, dropped afterwards."""
    with postgres_database() as url:
        alembic("todo-service", url, "upgrade", "head")
        yield url


def database_name(url: str) -> str:
    return make_url(url).database
