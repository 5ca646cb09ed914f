"""What the container tests read: docker-compose.yml as Compose resolves it, the Dockerfiles, the
linters in .tools/ (deploy/install-tools.sh), the code each image runs, and the port each
service's own code listens on."""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools" / "bin"
# One folder = one image = one compose service, under the same name.
SERVICES = ("user-service", "todo-service", "faas")
# The shared library's folder, which every image installs from a second build context of that name.
LIBRARY = "service-kit"
# Folders that hold no code an image runs: tests, a local venv, and faas/python/ (what Function
# Compute's packaging installs there: deploy/fc/s.yaml).
NOT_RUN = {"tests", ".venv", "python"}


def tool(name: str) -> Path:
    """A linter installed by deploy/install-tools.sh; a missing one fails, naming the fix."""
    path = TOOLS / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: run deploy/install-tools.sh (`make test` does)")
    return path


def run_tool(name: str, *args: str, env: dict[str, str] | None = None):
    """The tool's completed run from the repository root, with only PATH and HOME from outside."""
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(
        [str(tool(name)), *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def compose_config(*files: str, env: dict[str, str] | None = None) -> dict:
    """The compose model exactly as `docker compose` resolves it, from the file's own defaults
    (${VAR:-default}) and `env`: a developer's .env or shell does not change what is tested."""
    args = [arg for file in files or ("docker-compose.yml",) for arg in ("-f", file)]
    done = run_tool(
        "docker-compose", "--env-file", os.devnull, *args, "config", "--format", "json", env=env
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def image_sources(service: str) -> str:
    """The Python the service's image runs: its folder's and the shared library's."""
    paths = [*(ROOT / service).rglob("*.py"), *(ROOT / LIBRARY / "service_kit").rglob("*.py")]
    return "\n".join(
        path.read_text() for path in paths if not NOT_RUN & set(path.relative_to(ROOT).parts)
    )


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY...
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON array of CMD/HEALTHCHECK ... CMD/ENTRYPOINT; fails on the shell form."""
        text = (
            self.arguments.split(" CMD ", 1)[-1]
            if self.keyword == "HEALTHCHECK"
            else self.arguments
        )
        return json.loads(text)


class Dockerfile:
    """A Dockerfile's instructions (continuations joined, comments dropped), and its last stage."""

    def __init__(self, service: str):
        self.path = ROOT / service / "Dockerfile"
        text = re.sub(r"\\\n(\s*#.*\n)*", " ", self.path.read_text())
        lines = [line.strip() for line in text.splitlines()]
        words = [[*line.split(None, 1), ""][:2] for line in lines if line and line[0] != "#"]
        self.instructions = [Instruction(keyword.upper(), rest) for keyword, rest in words]
        last_from = max(n for n, i in enumerate(self.instructions) if i.keyword == "FROM")
        self.final_stage = self.instructions[last_from:]

    def all(self, keyword: str, final: bool = True) -> list[Instruction]:
        found = self.final_stage if final else self.instructions
        return [instruction for instruction in found if instruction.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"{self.path} has no {keyword} in its final stage"
        return found[-1]

    def env(self) -> dict[str, str]:
        """The final stage's ENV (NAME=value form)."""
        pairs = [pair for i in self.all("ENV") for pair in shlex.split(i.arguments)]
        return dict(pair.split("=", 1) for pair in pairs)


@cache
def code_port(service: str) -> int:
    """The port the service's gunicorn settings bind when PORT is not set: read by running them."""
    command = Dockerfile(service).last("CMD").exec_form()  # gunicorn ... -c <file> ...
    config_file = command[command.index("-c") + 1]
    probe = (
        "import runpy; settings = runpy.run_path(" + repr(config_file) + "); "
        "print(settings['bind'].rsplit(':', 1)[1])"
    )
    with tempfile.TemporaryDirectory() as metrics_dir:  # the settings make one if none is given
        done = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=ROOT / service,
            env={"PATH": os.environ["PATH"], "PROMETHEUS_MULTIPROC_DIR": metrics_dir},
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])
