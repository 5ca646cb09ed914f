"""todo-service: each user's todos, behind JWTs issued by faas."""

import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from service_kit import db, health
from service_kit.tokens import auth, revocations
from service_kit.web import errors, logs

from . import routes
from .config import SERVICE_NAME, Config

# A todo body is a few hundred bytes; anything far larger is refused (413) before it is parsed.
MAX_CONTENT_LENGTH = 64 * 1024
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    """Build the app from `config` (names as the environment's), or from the environment."""
    settings = Config.from_env(os.environ if config is None else config)
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    # faas is the one proxy in front: it sends X-Forwarded-Proto/Host/Port/Prefix, so url,
    # Location and Link name the public address (http://<host>/api/todos/<id>).
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    logs.init_app(app)
    errors.init_app(app)
    db.init_app(app, settings.database_url)
    auth.init_app(app, settings, SERVICE_NAME)
    revocations.init_app(app, settings, revocations.feed(settings.user_service_url))
    health.init_app(app, MIGRATIONS_DIR)
    app.register_blueprint(routes.bp)
    return app
