"""Real processes for tests: start a command, wait for it over HTTP, read its log, stop it.

    port = free_port()
    with ServiceProcess(["gunicorn", ...], cwd=..., env={"PORT": str(port)}, log_path=...) as app:
        app.wait_http(f"http://127.0.0.1:{port}/healthz")
        ...

Each command runs in its own process group, so stopping it also ends the processes it started
(gunicorn's workers, for one). Every wait is bounded, and a failed wait shows the log's tail.
"""

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import requests

LOG_TAIL_CHARS = 4000
T = TypeVar("T")


# Ports are handed out from a block below the OS's ephemeral range (32768 and up), which the OS
# reuses at once for its own picks and for outgoing connections. Each test process, the main one
# or a pytest-xdist worker, has a block of its own and walks it once, so no two servers of a run
# ever share a port: not two of one stack, nor two started by parallel workers.
FIRST_PORT, END_PORT = 12000, 32768


def _port_block() -> range:
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ...; unset without xdist
    index = int(worker.removeprefix("gw")) + 1 if worker else 0
    size = (END_PORT - FIRST_PORT) // (workers + 1)
    return range(FIRST_PORT + index * size, FIRST_PORT + (index + 1) * size)


_ports = iter(_port_block())


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now, never one given out before in this run."""
    for port in _ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue  # something else of this machine's has it
            return port
    raise RuntimeError(f"this process has handed out every port of {_port_block()}")


def wait_until(
    check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05
) -> T:
    """check()'s first result that is not None, polling for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(interval)


class ServiceProcess:
    """A command running in its own process group, its stdout and stderr in one log file.

    env adds to the current environment; a None value removes that variable.
    """

    def __init__(
        self,
        args: Sequence[str],
        *,
        cwd: str | os.PathLike,
        env: Mapping[str, str | None] | None = None,
        log_path: str | os.PathLike | None = None,
    ) -> None:
        self.args = list(args)
        self.cwd = Path(cwd)
        merged = {**os.environ, **(env or {})}
        self.env = {name: value for name, value in merged.items() if value is not None}
        if log_path is None:
            handle, log_path = tempfile.mkstemp(prefix="service-", suffix=".log")
            os.close(handle)
        self.log_path = Path(log_path)
        self.process: subprocess.Popen | None = None

    def start(self) -> "ServiceProcess":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.args,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: see stop() and kill()
            )
        return self

    def __enter__(self) -> "ServiceProcess":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def logs(self) -> str:
        """Everything the process has written to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def describe(self) -> str:
        """The command, its state and its log's tail: for assertion messages."""
        state = "running" if self.running() else f"exited with {self.process.returncode}"
        return f"{self.args} {state}; log tail:\n{self.logs()[-LOG_TAIL_CHARS:]}"

    def wait_http(
        self, url: str, status: int | None = 200, timeout: float = 30.0, **request
    ) -> requests.Response:
        """The first answer from GET url with `status` (any status when None), within timeout.

        Fails at once, with the log, if the process exits meanwhile.
        """
        last = "no answer"

        def answered() -> requests.Response | None:
            nonlocal last
            if not self.running():
                raise AssertionError(f"process ended while waiting for {url}: {self.describe()}")
            try:
                response = requests.get(url, timeout=2, **request)
            except requests.RequestException as error:
                last = f"{type(error).__name__}"
                return None
            last = f"status {response.status_code}"
            return response if status is None or response.status_code == status else None

        try:
            return wait_until(answered, timeout, f"GET {url} answering {status or 'at all'}")
        except TimeoutError as error:
            raise AssertionError(f"{error} (last: {last}); {self.describe()}") from None

    def wait_log(self, text: str, timeout: float = 30.0, count: int = 1) -> str:
        """The log, once `text` appears in it `count` times, within timeout."""

        def found() -> str | None:
            logs = self.logs()
            return logs if logs.count(text) >= count else None

        try:
            return wait_until(found, timeout, f"{text!r} x{count} in the log")
        except TimeoutError as error:
            raise AssertionError(f"{error}; {self.describe()}") from None

    def wait(self, timeout: float) -> int:
        """The exit code, once the process has exited within timeout."""
        return self.process.wait(timeout=timeout)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, as a platform stops a container, then SIGKILL to what is left after timeout.

        The signal goes to the command only (a wrapper such as `sh -c` must `exec` its server,
        as the Procfile does); the stop lasts until every process of its group has exited.
        Returns the command's exit code.
        """
        if self.process is None:
            return None
        if self.running():
            self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            wait_until(lambda: None if self._group_alive() else True, timeout, "group exit")
        self.kill()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would, and reap the command."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
            os.killpg(self.process.pid, signum)

    def _group_alive(self) -> bool:
        self.process.poll()  # reap the command itself, or it lingers in the group as a zombie
        try:
            os.killpg(self.process.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
