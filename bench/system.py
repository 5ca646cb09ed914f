"""The system under test, prepared: the bench user's page in a 1,000-row table, a second
todo-service on a 1,000,000-row table, nginx in front of todo-service, and the wrk targets."""

import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.coldstart import check_list
from bench.data import bench_user, database_name, seed_todos, todos_database
from bench.nginx import start_nginx
from bench.wrk import Target
from support.processes import free_port
from support.stack import Stack

SMALL_TABLE, LARGE_TABLE = 1_000, 1_000_000


@dataclass(frozen=True)
class System:
    username: str
    owner: str  # the bench user's id: the owner_id of its todos
    token: str
    expected: list[str]  # the titles of the bench user's page
    proxy: dict[str, Target]  # the same page: direct, through nginx, through faas
    tables: dict[str, Target]  # the same page from a 1k-row and a 1M-row table
    pids: dict[str, int]  # each service's main process (a gunicorn master, nginx's master)
    large_table_pid: int
    databases: tuple[str, ...]  # our PostgreSQL databases, to count their backends' CPU
    seed_seconds: float


def prepare(stack: Stack, tmp: Path, cleanup: ExitStack) -> System:
    """Seed and start what the measurements need; `cleanup` stops and drops it afterwards."""
    username, owner, token = bench_user(stack.faas_url)
    expected = seed_todos(stack.env["TODOS_DATABASE_URL"], owner, SMALL_TABLE)
    large_url = cleanup.enter_context(todos_database())
    seeding = time.monotonic()
    seed_todos(large_url, owner, LARGE_TABLE)
    seed_seconds = time.monotonic() - seeding
    large_port = free_port()
    large = stack.launch(
        "todos", large_port, tmp / "todos-1M.log", env={"TODOS_DATABASE_URL": large_url}
    )
    cleanup.callback(large.stop)
    nginx, nginx_url = start_nginx(tmp / "nginx", f"127.0.0.1:{stack.ports['todos']}")
    cleanup.callback(nginx.stop)
    large.wait_http(f"http://127.0.0.1:{large_port}/readyz")

    bearer = {"Authorization": f"Bearer {token}"}
    proxy = {
        "direct": Target(f"{stack.todo_service_url}/todos", bearer),
        "nginx": Target(f"{nginx_url}/api/todos", bearer),
        "faas": Target(f"{stack.faas_url}/api/todos", bearer),
    }
    tables = {"1k": proxy["direct"], "1M": Target(f"http://127.0.0.1:{large_port}/todos", bearer)}
    for target in [*proxy.values(), tables["1M"]]:
        check_list(target.url, token, expected)
    urls = (stack.env["USERS_DATABASE_URL"], stack.env["TODOS_DATABASE_URL"], large_url)
    services = {"faas": "faas", "user-service": "users", "todo-service": "todos"}
    return System(
        username=username,
        owner=owner,
        token=token,
        expected=expected,
        proxy=proxy,
        tables=tables,
        pids={name: stack.processes[key].pid for name, key in services.items()}
        | {"nginx": nginx.pid},
        large_table_pid=large.pid,
        databases=tuple(database_name(url) for url in urls),
        seed_seconds=round(seed_seconds, 2),
    )
