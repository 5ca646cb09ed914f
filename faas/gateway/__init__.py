"""The function's Flask app: serves the browser app, logs users in, issues JWTs, proxies todos."""

import os
from collections.abc import Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from service_kit.web import errors, logs

from . import auth, health, openapi, routes, security
from .config import Config
from .health import wait_until_ready
from .security import MAX_CONTENT_LENGTH
from .todo_proxy import TodoProxy
from .tokens import Keys, Tokens
from .upstream import Services

__all__ = ["close", "create_app", "wait_until_ready"]


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    """Build the app from `config` (names as the environment's), or from the environment.

    Loads the signing key (creating it on first start) and makes the connection pools, which
    connect on first use; wait_until_ready() then waits for the services.
    """
    settings = Config.from_env(os.environ if config is None else config)
    app = Flask(__name__, static_folder=None)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    # Werkzeug would answer `//x` with a redirect built from the client's Host header: a client
    # must never steer a Location. Such paths are simply not found.
    app.url_map.merge_slashes = False
    tokens = Tokens(
        Keys.from_config(settings),
        settings.jwt_issuer,
        settings.function_name,
        settings.jwt_ttl_seconds,
    )
    app.extensions["tokens"] = tokens
    services = Services(settings, tokens)
    app.extensions["services"] = services
    app.extensions["sessions"] = auth.Sessions(services, settings.session_check_cache_seconds)
    logs.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    health.init_app(app)
    routes.init_app(app)
    app.register_blueprint(openapi.bp)
    # The todo routes are answered before Flask (todo_proxy.py), behind ProxyFix like the rest.
    app.wsgi_app = TodoProxy(app, app.wsgi_app)
    if settings.trusted_proxies:
        # Only the client's address: URLs and the CSRF origin come from PUBLIC_URL, never from
        # headers a proxy (or a client) sends.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)
    return app


def close(app: Flask) -> None:
    """Close the app's connection pools."""
    app.extensions["services"].close()
