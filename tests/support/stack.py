"""The whole system as `make run` starts it: migrations, then the Procfile's three gunicorns.

Each process runs its own Procfile line (only the port is swapped for a free one), with the
environment `make run` would hand it, on throwaway databases. Use the `stack` fixture (SQLite)
or `start_stack(tmp_dir, backend)` to get one on PostgreSQL or with settings of your own.
"""

import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from support.databases import database
from support.processes import ServiceProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
PROCFILE_NAMES = {"users": "user-service", "todos": "todo-service", "faas": "faas"}


def procfile_commands() -> dict[str, str]:
    """The Procfile's commands by process name."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


class Stack:
    """Three real processes on free loopback ports; start, stop or kill each by its Procfile name."""

    def __init__(self, tmp_dir: Path, env: Mapping[str, str | None]):
        self.ports = {name: free_port() for name in PROCFILE_NAMES}
        self.user_service_url = f"http://127.0.0.1:{self.ports['users']}"
        self.todo_service_url = f"http://127.0.0.1:{self.ports['todos']}"
        self.faas_url = f"http://127.0.0.1:{self.ports['faas']}"
        metrics_port = free_port()
        self.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        self.tmp_dir = tmp_dir
        self.env = {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "JWKS_URL": f"{self.faas_url}/.well-known/jwks.json",
            "USER_SERVICE_URL": self.user_service_url,
            "TODO_SERVICE_URL": self.todo_service_url,
            "JWT_PRIVATE_KEY_FILE": str(tmp_dir / "jwt-private-key.pem"),
            "METRICS_PORT": str(metrics_port),
            # Two instances, always there; the tests of scaling start stacks of their own.
            "FC_MIN_INSTANCES": "2",
            "FC_MAX_INSTANCES": "2",
            "WEB_CONCURRENCY": "2",
            # No SIGTERM drain: stopping a test's process must be quick (tests of it set their own).
            "DRAIN_SECONDS": "0",
            "PROMETHEUS_MULTIPROC_DIR": None,  # each gunicorn makes its own
            # Every test client is 127.0.0.1, so user-service's per-client limits (a few failed logins
            # and registrations per 10 minutes) would let one test starve the next, and a shared
            # user logs in more often than its account's limit; the tests of those limits start a
            # stack with small ones of their own.
            "CLIENT_LOGIN_FAILURE_LIMIT": "1000000",
            "CLIENT_REGISTRATION_LIMIT": "1000000",
            "ACCOUNT_LOGIN_LIMIT": "1000000",
            # A seventh of the default's CPU per login or registration, still argon2id: the
            # suites log in hundreds of times on two cores (the bench and compose use the default).
            "PASSWORD_HASH_PROFILE": "owasp-minimum",
            **env,
        }
        self.processes: dict[str, ServiceProcess] = {}

    def migrate(self) -> None:
        """scripts/migrate.sh, exactly as `make run` runs it."""
        subprocess.run(
            [str(ROOT / "scripts" / "migrate.sh")],
            env={k: v for k, v in {**os.environ, **self.env}.items() if v is not None},
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self, *names: str) -> None:
        """Start the named processes (all three by default) without waiting for them."""
        for name in names or PROCFILE_NAMES:
            self.processes[name] = self.launch(name, self.ports[name], self.tmp_dir / f"{name}.log")

    def launch(
        self, name: str, port: int, log_path: Path, env: Mapping[str, str] | None = None
    ) -> ServiceProcess:
        """One more process of the Procfile line `name` on `port`: this stack's environment + env."""
        command = re.sub(r"\bPORT=\d+", f"PORT={port}", procfile_commands()[name])
        return ServiceProcess(
            ["sh", "-c", command], cwd=ROOT, env={**self.env, **(env or {})}, log_path=log_path
        ).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def wait_ready(self, *names: str, timeout: float = 60) -> None:
        for name in names or PROCFILE_NAMES:
            self.processes[name].wait_http(f"{self.url(name)}/readyz", timeout=timeout)

    def stop(self, *names: str) -> None:
        for name in names or PROCFILE_NAMES:
            if name in self.processes:
                self.processes.pop(name).stop()

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash would."""
        self.processes.pop(name).kill()

    def logs(self, name: str) -> str:
        return (self.tmp_dir / f"{name}.log").read_text(errors="replace")


@contextmanager
def start_stack(
    tmp_dir: Path, backend: str = "sqlite", env: Mapping[str, str] | None = None
) -> Iterator[Stack]:
    """A migrated, running, ready stack on `backend`, stopped and its databases dropped afterwards."""
    with ExitStack() as cleanup:
        urls = {
            name: cleanup.enter_context(database(backend, Path(tmp_dir, name)))
            for name in ("USERS_DATABASE_URL", "TODOS_DATABASE_URL")
        }
        stack = Stack(Path(tmp_dir), {**urls, **(env or {})})
        stack.migrate()
        cleanup.callback(stack.stop)
        stack.start()
        stack.wait_ready()
        yield stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """The whole system on SQLite, shared by the tests of a session that need only its public API."""
    with start_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running
