"""index.py: the function's entries, called the way Function Compute (and faas/runtime) calls them."""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from werkzeug.test import Client

from support.processes import free_port

FAAS_DIR = Path(__file__).resolve().parents[1]

# Records what importing index does: name lookups, connections and data sent, new folders, files
# opened for writing, and what it leaves open.
AUDITED_IMPORT = textwrap.dedent(
    """
    import json, os, sys
    seen = []
    WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
    NETWORK = {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
               "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo"}

    def audit(event, args):
        if event in NETWORK or event in ("os.mkdir", "subprocess.Popen"):
            seen.append(event)
        elif event == "open" and isinstance(args[2], int) and args[2] & WRITING:
            seen.append(f"open {args[0]}")

    open_before = set(os.listdir("/proc/self/fd"))
    sys.addaudithook(audit)
    import index
    left_open = set(os.listdir("/proc/self/fd")) - open_before
    entries = [callable(index.initializer), callable(index.handler), callable(index.pre_stop)]
    print(json.dumps({"seen": seen, "left_open": len(left_open), "entries": entries}))
    """
)


def context(**function: float) -> SimpleNamespace:
    """A context shaped like Function Compute's: a request id and the function's settings."""
    return SimpleNamespace(
        request_id="init-1", function=SimpleNamespace(name="todo-faas", **function)
    )


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch, gateway_stack) -> Iterator[ModuleType]:
    """A fresh copy of faas/index.py (its own instance), configured as on the platform: by the
    environment of the instance."""
    for name, value in gateway_stack.config().items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("index_under_test", FAAS_DIR / "index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    module.pre_stop(context())


def test_importing_index_does_no_io(tmp_path: Path):
    key_file = tmp_path / "keys" / "jwt-private-key.pem"
    environment = {
        **os.environ,
        "PYTHONPATH": str(FAAS_DIR),
        "PYTHONDONTWRITEBYTECODE": "1",
        "JWT_PRIVATE_KEY_FILE": str(key_file),
        "USER_SERVICE_URL": f"http://127.0.0.1:{free_port()}",
    }

    result = subprocess.run(
        [sys.executable, "-c", AUDITED_IMPORT],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert json.loads(result.stdout) == {"seen": [], "left_open": 0, "entries": [True, True, True]}
    assert not key_file.parent.exists()


def test_the_handler_answers_503_before_the_initializer_has_run(index: ModuleType):
    response = Client(index.handler).get("/api/todos")

    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert json.loads(response.data)["status"] == 503


def test_the_initializer_makes_the_key_and_waits_for_both_services(
    index: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    key_file = tmp_path / "fresh" / "jwt-private-key.pem"
    monkeypatch.setenv("JWT_PRIVATE_KEY_FILE", str(key_file))

    index.initializer(context(initialization_timeout=10))
    client = Client(index.handler)

    assert key_file.stat().st_mode & 0o777 == 0o600
    assert client.get("/readyz").status_code == 200
    assert client.get("/.well-known/jwks.json").status_code == 200


def test_the_initializer_raises_in_time_naming_an_unreachable_service(
    index: ModuleType, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TODO_SERVICE_URL", f"http://127.0.0.1:{free_port()}")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="todo-service") as failure:
        index.initializer(context(initialization_timeout=1.5))

    assert time.monotonic() - started < 1.5
    assert "user-service" not in str(failure.value)
    assert Client(index.handler).get("/api/me").status_code == 503


def test_without_a_timeout_in_the_context_fc_initialization_timeout_bounds_the_wait(
    index: ModuleType, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("USER_SERVICE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("FC_INITIALIZATION_TIMEOUT", "1")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="user-service"):
        index.initializer(context())

    assert time.monotonic() - started < 1.5


def test_a_retried_initializer_succeeds_once_the_services_are_there(
    index: ModuleType, monkeypatch: pytest.MonkeyPatch, gateway_stack
):
    monkeypatch.setenv("USER_SERVICE_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RuntimeError):
        index.initializer(context(initialization_timeout=0.5))

    monkeypatch.setenv("USER_SERVICE_URL", gateway_stack.user_service.url)
    index.initializer(context(initialization_timeout=5))

    assert Client(index.handler).get("/readyz").status_code == 200


def test_pre_stop_closes_the_connection_pools(index: ModuleType):
    index.initializer(context(initialization_timeout=5))
    services = index._app.extensions["services"]

    index.pre_stop(context())

    assert services.user.idle_connections == 0 and services.todo.idle_connections == 0
