"""What the running system keeps to itself: the public /readyz names no internal service, a
client cannot grow the services' metrics, and the embedded databases are the user's alone."""

import stat
from pathlib import Path

import requests

from support.processes import free_port
from support.stack import Stack

UNKNOWN_METHODS = ("BREW", "PROPFIND", "X-GROW-LABELS")


def test_the_public_readyz_says_not_ready_without_naming_internal_services(pg_stack, tmp_path):
    todos_port, faas_port = free_port(), free_port()
    todos = pg_stack.launch("todos", todos_port, tmp_path / "todos.log")
    env = {"TODO_SERVICE_URL": f"http://127.0.0.1:{todos_port}", "METRICS_PORT": str(free_port())}
    faas = pg_stack.launch("faas", faas_port, tmp_path / "faas.log", env)
    try:
        todos.wait_http(f"http://127.0.0.1:{todos_port}/readyz", timeout=60)
        faas.wait_http(f"http://127.0.0.1:{faas_port}/readyz", timeout=60)
        todos.kill()

        answer = requests.get(f"http://127.0.0.1:{faas_port}/readyz", timeout=10)

        assert answer.status_code == 503
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json()["detail"] == "not ready"
        for internal in ("todo-service", "user-service", str(todos_port), "127.0.0.1"):
            assert internal not in answer.text
        assert "todo-service" in faas.wait_log('"not ready"')  # the operator is told why
    finally:
        faas.stop()
        todos.stop()


def test_unknown_methods_share_one_label_in_the_services_metrics(pg_stack):
    for url in (pg_stack.user_service_url, pg_stack.todo_service_url):
        for method in UNKNOWN_METHODS:
            requests.request(method, f"{url}/healthz", timeout=10)

        metrics = requests.get(f"{url}/metrics", timeout=10).text

        assert not [method for method in UNKNOWN_METHODS if f'method="{method}"' in metrics]
        assert 'method="other"' in metrics


def test_the_embedded_databases_are_private_to_the_user(tmp_path):
    folder = tmp_path / "data"  # made by the services themselves, as `make run` makes .data/
    files = {name: folder / name / f"{name}.sqlite3" for name in ("users", "todos")}
    env = {
        "USERS_DATABASE_URL": f"sqlite:///{files['users']}",
        "TODOS_DATABASE_URL": f"sqlite:///{files['todos']}",
    }
    stack = Stack(tmp_path, env)
    stack.migrate()
    try:
        stack.start("users", "todos")
        stack.wait_ready("users", "todos")

        for path in files.values():
            assert mode(path.parent) == 0o700, path.parent
            for made in path.parent.iterdir():  # the database, and SQLite's -wal and -shm
                assert mode(made) == 0o600, made
    finally:
        stack.stop()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)
