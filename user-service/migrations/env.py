"""Alembic environment: the URL comes from the service's own Config, so migrations and app agree."""

import os

from service_kit.db import run_migrations
from user_service.config import Config
from user_service.models import Base

run_migrations(Config.from_env(os.environ).database_url, Base.metadata)
