"""Fixtures for the FaaS runtime: the real gunicorn start command on a tiny fixture function."""

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.processes import ServiceProcess, free_port

FAAS_DIR = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"
# The start command every deployment uses, run with this virtualenv's gunicorn.
START_COMMAND = [
    sys.executable,
    "-m",
    "runtime.platform",
    "-c",
    "runtime/gunicorn.conf.py",
    "runtime.wsgi:application",
]


@dataclass
class Runtime:
    process: ServiceProcess
    url: str
    metrics_url: str

    def log_records(self) -> list[dict]:
        """The runtime's own JSON log lines (gunicorn's plain lines are left out)."""
        lines = self.process.logs().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def records(self, message: str) -> list[dict]:
        return [record for record in self.log_records() if record["message"] == message]


@pytest.fixture
def start_runtime(tmp_path: Path) -> Iterator:
    """start_runtime("ok", FC_MAX_INSTANCES="2", ...): the platform serving functions/ok, on free
    ports; one instance, always there, unless the test says otherwise."""
    started: list[ServiceProcess] = []

    def start(function: str, **env: str | None) -> Runtime:
        port, metrics_port = free_port(), free_port()
        metrics_dir = tmp_path / f"metrics-{len(started)}"
        metrics_dir.mkdir()
        defaults = {
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "METRICS_PORT": str(metrics_port),
            "FC_CODE_DIR": str(FUNCTIONS_DIR / function),
            "FC_MIN_INSTANCES": "1",
            "FC_MAX_INSTANCES": "1",
            "FC_INSTANCE_CONCURRENCY": "2",
            "FC_INITIALIZATION_TIMEOUT": "5",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        }
        process = ServiceProcess(
            START_COMMAND,
            cwd=FAAS_DIR,
            env={**defaults, **env},
            log_path=tmp_path / f"{function}-{len(started)}.log",
        )
        started.append(process.start())
        return Runtime(
            process, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics"
        )

    yield start
    for process in started:
        process.kill()


# ---------------------------------------------------------------------------------------------
# The gateway (faas/index.py, faas/gateway/): its real neighbours, served over real HTTP.
# user-service and todo-service each run on a migrated SQLite database and verify tokens
# against the gateway's own JWKS (todo-service reads user-service's revoked sessions); tests
# drive the gateway app with its test client.
# ---------------------------------------------------------------------------------------------

import secrets  # noqa: E402

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from support.databases import database, migrate  # noqa: E402
from support.wsgi import WsgiServer  # noqa: E402

ORIGIN = "http://localhost"  # the Flask test client's own origin
PASSWORD = "correct horse battery staple"


@dataclass
class GatewayStack:
    """Both services over HTTP, and the settings of gateway apps that work with them."""

    tmp_dir: Path
    faas: WsgiServer  # serves the main gateway app: its JWKS is what the services trust
    user_service: WsgiServer
    todo_service: WsgiServer
    users_database_url: str

    @property
    def key_file(self) -> Path:
        return self.tmp_dir / "jwt-private-key.pem"

    @property
    def previous_key_file(self) -> Path:
        """An older private key, still published by the main gateway (rotation)."""
        return self.tmp_dir / "previous-private-key.pem"

    def config(self, **overrides: str) -> dict[str, str]:
        return {
            "USER_SERVICE_URL": self.user_service.url,
            "TODO_SERVICE_URL": self.todo_service.url,
            "JWT_PRIVATE_KEY_FILE": str(self.key_file),
            "JWT_PREVIOUS_PUBLIC_KEY_FILES": str(self.previous_key_file),
            "SESSION_CHECK_CACHE_SECONDS": "1",
            "STATIC_DIR": str(self.tmp_dir / "static"),
            "PUBLIC_URL": ORIGIN,
            **overrides,
        }


@pytest.fixture(scope="session")
def gateway_stack(tmp_path_factory) -> Iterator[GatewayStack]:
    # Imported here, so that the runtime's tests never load the apps.
    from gateway import close, create_app, wait_until_ready
    from gateway.tokens import load_or_create_private_key
    from todo_service import create_app as create_todo_service
    from user_service import create_app as create_user_service

    tmp_dir = tmp_path_factory.mktemp("gateway")
    (tmp_dir / "static").mkdir()
    (tmp_dir / "static" / "index.html").write_text("<!doctype html><title>todos</title>")
    (tmp_dir / "static" / "app.js").write_text("console.log('todos');")
    load_or_create_private_key(tmp_dir / "previous-private-key.pem")
    faas = WsgiServer()
    jwks_url = f"{faas.url}/.well-known/jwks.json"
    with (
        database("sqlite", tmp_path_factory.mktemp("users")) as users_url,
        database("sqlite", tmp_path_factory.mktemp("todos")) as todos_url,
    ):
        migrate("user-service", users_url)
        migrate("todo-service", todos_url)
        # Every test client is 127.0.0.1: user-service's per-client and per-account limits must not
        # starve the tests.
        user_service = WsgiServer(
            create_user_service(
                {
                    "DATABASE_URL": users_url,
                    "JWKS_URL": jwks_url,
                    "CLIENT_LOGIN_FAILURE_LIMIT": "1000000",
                    "CLIENT_REGISTRATION_LIMIT": "1000000",
                    "ACCOUNT_LOGIN_LIMIT": "1000000",
                }
            )
        )
        todo_service = WsgiServer(
            create_todo_service(
                {
                    "DATABASE_URL": todos_url,
                    "JWKS_URL": jwks_url,
                    "USER_SERVICE_URL": user_service.url,
                    "REVOCATION_REFRESH_SECONDS": "1",
                }
            )
        )
        stack = GatewayStack(tmp_dir, faas, user_service, todo_service, users_url)
        faas.app = create_app(stack.config())
        wait_until_ready(faas.app, 10)
        yield stack
        close(faas.app)
        for server in (faas, user_service, todo_service):
            server.close()


@pytest.fixture(scope="session")
def gateway(gateway_stack: GatewayStack) -> Flask:
    """The main gateway app (the one served at gateway_stack.faas)."""
    return gateway_stack.faas.app


@pytest.fixture
def make_gateway(gateway_stack: GatewayStack) -> Iterator:
    """make_gateway(SETTING="value", ...): another instance with the stack's settings overridden."""
    from gateway import close, create_app

    made: list[Flask] = []

    def make(**overrides: str) -> Flask:
        made.append(create_app(gateway_stack.config(**overrides)))
        return made[-1]

    yield make
    for app in made:
        close(app)


def as_browser(app: Flask, origin: str = ORIGIN) -> FlaskClient:
    """A test client of `app` that sends Origin on every request, as a browser on its page does."""
    client = app.test_client()
    client.environ_base["HTTP_ORIGIN"] = origin
    return client


@pytest.fixture
def browser_of():
    """browser_of(app, origin="http://localhost"): a browser-like client of another instance."""
    return as_browser


@pytest.fixture
def browser(gateway: Flask) -> FlaskClient:
    return as_browser(gateway)


@pytest.fixture
def account(browser: FlaskClient) -> dict:
    """A newly registered user: {id, username, password}."""
    username = f"user_{secrets.token_hex(5)}"
    response = browser.post("/api/register", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.json
    return {**response.json, "password": PASSWORD}


@pytest.fixture
def logged_in(browser: FlaskClient, account: dict) -> FlaskClient:
    """The browser client, logged in as `account` (it holds the session cookie)."""
    credentials = {"username": account["username"], "password": PASSWORD}
    assert browser.post("/api/login", json=credentials).status_code == 200
    return browser


@pytest.fixture
def bearer(gateway: Flask, account: dict) -> dict[str, str]:
    """Authorization headers with a token for `account`, from POST /api/token."""
    credentials = {"username": account["username"], "password": PASSWORD}
    response = gateway.test_client().post("/api/token", json=credentials)
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}
