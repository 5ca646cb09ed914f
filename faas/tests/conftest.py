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
    str(Path(sys.executable).parent / "gunicorn"),
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
    """start_runtime("ok", FC_INSTANCES="2", ...): gunicorn serving functions/ok, on free ports."""
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
            "FC_INSTANCES": "1",
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
