"""user-service: accounts, credentials and sessions, behind JWTs issued by faas."""

import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from service_kit import db, health
from service_kit.tokens import auth, revocations
from service_kit.web import errors, logs

from . import passwords, routes, sessions
from .config import SERVICE_NAME, Config

MAX_BODY_BYTES = 16 * 1024
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    """Build the app from `config` (names as the environment's), or from the environment."""
    settings = Config.from_env(os.environ if config is None else config)
    app = Flask(__name__)
    # Bodies here are two short strings; a larger one is refused (413) before it is read.
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["SETTINGS"] = settings
    app.extensions["password_hasher"] = passwords.hasher(settings.password_hash_profile)
    logs.init_app(app)
    errors.init_app(app)
    db.init_app(app, settings.database_url)
    auth.init_app(app, settings, SERVICE_NAME)
    # The sessions are this service's own: it reads them from its database, not from its feed.
    revocations.init_app(app, settings, sessions.revoked_digests)
    health.init_app(app, MIGRATIONS_DIR)
    app.register_blueprint(routes.bp)
    return app
