"""A microservice's database: engine and sessionmaker made once per app, one session per request
(closed at teardown), migrations run by the service's Alembic environment, and aware UTC times."""

from datetime import UTC, datetime
from pathlib import Path

from alembic import context
from flask import Flask, Response, current_app, g
from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from .web.errors import problem_response, unexpected_error


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both backends: SQLite keeps no offset, so UTC is stored and restored."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; give an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    # hide_parameters: an error logs its statement, never the values bound to it (a password
    # hash, a session id, a user's todo).
    if url.startswith("sqlite"):
        _make_private(Path(url.removeprefix("sqlite:///")))
        engine = create_engine(url, connect_args={"timeout": 5}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Short connect and statement timeouts: a database that is down or stuck gives a fast 503.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        connect_args={"connect_timeout": 2, "options": "-c statement_timeout=5000"},
        hide_parameters=True,
    )


def _make_private(path: Path) -> None:
    # The database file is for this user alone (SQLite gives its -wal and -shm files the same
    # mode). A folder made here is private too; an existing one is left as its owner set it.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def engine() -> Engine:
    return current_app.extensions["db_engine"]


def session() -> Session:
    """The request's session, made on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


def _close_session(_error: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


def _database_unavailable(error: DBAPIError) -> Response:
    if not error.connection_invalidated and not _is_operational(error):
        return unexpected_error(error)
    return problem_response(503, "database unavailable", {"Retry-After": "1"})


def _is_operational(error: DBAPIError) -> bool:
    return type(error.orig).__name__ in ("OperationalError", "QueryCanceled", "AdminShutdown")


def init_app(app: Flask, database_url: str) -> None:
    app.extensions["db_engine"] = make_engine(database_url)
    app.extensions["db_sessionmaker"] = sessionmaker(
        app.extensions["db_engine"], expire_on_commit=False
    )
    app.teardown_appcontext(_close_session)
    app.register_error_handler(DBAPIError, _database_unavailable)


def run_migrations(database_url: str, metadata: MetaData) -> None:
    """What a service's migrations/env.py does: run Alembic's migrations on `database_url`, the
    URL its own Config gives the app, so that migrations and app agree."""
    engine = make_engine(database_url)
    try:
        # render_as_batch lets ALTERs work on SQLite too.
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()  # a process that runs migrations in-process keeps no connection from them
