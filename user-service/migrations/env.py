"""Alembic environment: the URL comes from the service's own Config, so migrations and app agree."""

import os

from alembic import context

from user_service.config import Config
from user_service.db import make_engine
from user_service.models import Base

engine = make_engine(Config.from_env(os.environ).database_url)
try:
    # render_as_batch lets ALTERs work on SQLite too.
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
finally:
    engine.dispose()  # a process that runs migrations in-process keeps no connection from them
