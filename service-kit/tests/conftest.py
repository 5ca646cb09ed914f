"""Fixture ladder for the kit: an app made of the kit alone, wired as a microservice wires it
(logs, errors, token checks, revoked sessions from an HTTP feed), on a real JWKS over HTTP."""

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, g, jsonify
from flask.testing import FlaskClient

from service_kit.settings import ServiceConfig
from service_kit.tokens import auth, revocations
from service_kit.tokens.auth import require_service, require_user
from service_kit.web import errors, logs
from service_kit.web.errors import json_object
from support.tokens import JwksServer, RevocationFeed, SigningKey, service_claims, user_claims

AUDIENCE = "kit-test"
SCOPE = "things:read"


def create_kit_app(environ: dict[str, str], feed_url: str) -> Flask:
    """A service of the kit alone: who is calling (/user, /service, /either) and a JSON echo."""
    settings = ServiceConfig(**ServiceConfig.read(environ, "sqlite://"))
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1024
    logs.init_app(app)
    errors.init_app(app)
    auth.init_app(app, settings, AUDIENCE)
    revocations.init_app(app, settings, revocations.feed(feed_url))

    @app.get("/user")
    @require_user
    def who_is_the_user():
        return jsonify(user_id=g.user_id)

    @app.get("/service")
    @require_service(SCOPE)
    def which_service():
        return jsonify(user_id=g.user_id)

    @app.get("/either")
    @require_service(SCOPE, allow_user=True)
    def user_or_service():
        return jsonify(user_id=g.user_id)

    @app.post("/echo")
    def echo():
        return jsonify(json_object())

    @app.get("/fail")
    def fail():
        raise RuntimeError("a secret detail")

    return app


@pytest.fixture(scope="session")
def make_app(jwks: JwksServer, revocation_feed: RevocationFeed) -> Callable[..., Flask]:
    """A kit app on the suite's JWKS and feed; keyword settings (environment names) override,
    FEED_URL names another feed."""

    def make(FEED_URL: str = revocation_feed.url, **settings: str) -> Flask:  # noqa: N803
        return create_kit_app({"JWKS_URL": jwks.url, **settings}, FEED_URL)

    return make


@pytest.fixture(scope="session")
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def user_id() -> str:
    return str(secrets.randbelow(10**12) + 1)


@pytest.fixture
def bearer(signing_key: SigningKey) -> Callable[[dict[str, Any]], dict[str, str]]:
    """The Authorization header of a token of these claims, signed by the suite's key."""
    return lambda claims: {"Authorization": f"Bearer {signing_key.sign(claims)}"}


@pytest.fixture
def user_auth(bearer, user_id: str) -> dict[str, str]:
    """The Authorization header of a user token for this test's user."""
    return bearer(user_claims(user_id, AUDIENCE))


@pytest.fixture
def service_auth(bearer) -> dict[str, str]:
    """The Authorization header of a service token with the scope the app asks for."""
    return bearer(service_claims(SCOPE, AUDIENCE))
