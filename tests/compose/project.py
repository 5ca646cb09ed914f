"""The composed system as a user runs it: `docker compose` in the repository, with only the
variables the README documents (COMPOSE_PROJECT_NAME, FAAS_PORT, PUBLIC_URL) set apart, so a run
cannot collide with a user's own `make up`."""

import json
import os
import subprocess
import time
from pathlib import Path

from support.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
BUILT = ("faas", "user-service", "todo-service")  # the services built here, one per folder
REPORT: dict[str, object] = {}  # timings, sizes, memory: printed at the end of the run
REPORT_FILE = ROOT / "test-artifacts" / "compose-report.json"  # REPORT, once the suite is done


def engine_problem() -> str | None:
    """Why no Docker engine can be used from here, or None when one answers."""
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=20)
    except FileNotFoundError:
        return "the docker command is missing"
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer in 20 s"
    if done.returncode != 0:
        return f"`docker info` failed: {done.stderr.strip()[-300:]}"
    done = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    return None if done.returncode == 0 else "the Compose v2 plugin is missing"


class ComposeProject:
    """`docker compose ...` in the repository under a project name and port of its own."""

    def __init__(self, name: str):
        self.name = name
        self.port = free_port()
        self.faas_url = f"http://localhost:{self.port}"
        self.env = {
            **os.environ,
            "COMPOSE_PROJECT_NAME": name,
            "FAAS_PORT": str(self.port),
            "PUBLIC_URL": self.faas_url,  # the address the browser opens (README: Docker)
        }

    def compose(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        """`docker compose <args>`, failing with its output when it fails."""
        done = subprocess.run(
            ["docker", "compose", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"docker compose {' '.join(args)}:\n{done.stderr[-4000:]}"
        return done

    def up(self, *args: str) -> float:
        """The README's `docker compose up --build --wait` (plus args); its duration in seconds."""
        started = time.monotonic()
        self.compose("up", "--build", "--wait", *args)
        return time.monotonic() - started

    def containers(self, service: str | None = None, all_states: bool = True) -> list[dict]:
        """`docker inspect` of the project's containers (of one service), running or not."""
        filters = ["--filter", f"label=com.docker.compose.project={self.name}"]
        if service:
            filters += ["--filter", f"label=com.docker.compose.service={service}"]
        ids = docker("ps", "--quiet", *(["--all"] if all_states else []), *filters).split()
        return json.loads(docker("inspect", *ids)) if ids else []

    def logs(self, container: dict) -> str:
        done = subprocess.run(
            ["docker", "logs", container["Id"]], capture_output=True, text=True, timeout=30
        )
        return done.stdout + done.stderr

    def exec(self, container: dict, *command: str) -> str:
        """The output of a command run in a running container."""
        return docker("exec", container["Id"], *command)

    def health(self, container_id: str) -> str:
        state = json.loads(docker("inspect", container_id))[0]["State"]
        return state.get("Health", {}).get("Status") or state["Status"]


def docker(*args: str, timeout: float = 60) -> str:
    """`docker <args>`'s output; fails with its error."""
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"docker {' '.join(args)}: {done.stderr[-2000:]}"
    return done.stdout


def service(container: dict) -> str:
    return container["Config"]["Labels"]["com.docker.compose.service"]


def built_containers(project: ComposeProject) -> list[dict]:
    """The containers of the images built here (all but PostgreSQL's), running or exited."""
    return [c for c in project.containers() if service(c) != "postgres"]


def image_sizes(project: ComposeProject) -> dict[str, str]:
    images = {c["Config"]["Image"]: c["Image"] for c in project.containers()}
    sizes = {}
    for name, image in sorted(images.items()):
        size = int(docker("image", "inspect", "--format", "{{.Size}}", image))
        sizes[name] = f"{size / 1e6:.0f} MB"
    return sizes


def memory(project: ComposeProject) -> dict[str, str]:
    """Each running container's memory use and limit, as `docker stats` shows them."""
    ids = [c["Id"] for c in project.containers(all_states=False)]
    lines = docker("stats", "--no-stream", "--format", "{{json .}}", *ids).splitlines()
    return {row["Name"]: row["MemUsage"] for row in map(json.loads, lines)}
