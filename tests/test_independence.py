"""Each service stands alone, as its image does: installed into a fresh venv from its own
requirements.txt and the kit (service-kit, without dependencies of its own), started from a copy
of its own folder (less what its .dockerignore leaves out) with the environment its Dockerfile
and docker-compose.yml give it, compose hosts mapped to 127.0.0.1. Proof that no service imports
another's code or needs a package it does not declare.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import pytest

from support.api import registered_user
from support.containers import ROOT, SERVICES, Dockerfile, code_port, compose_config
from support.databases import postgres_database
from support.processes import ServiceProcess, free_port

INSTALL_TIMEOUT = 300
READY_TIMEOUT = 60
MIGRATIONS = {"user-service": "users-migrate", "todo-service": "todos-migrate"}
KIT_IGNORED = shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__")
# A port a service listens on besides PORT: on this machine it must be a free one.
OTHER_LISTEN_PORTS = {"METRICS_PORT"}


@pytest.fixture(scope="module")
def venvs(tmp_path_factory) -> dict[str, Path]:
    """A fresh venv per service holding only its requirements.txt (made in parallel) and the kit;
    their bin/."""
    root = tmp_path_factory.mktemp("venvs")
    # Built from a copy, as the image's context is: building leaves files beside the source.
    kit_source = shutil.copytree(ROOT / "service-kit", root / "service-kit", ignore=KIT_IGNORED)
    installs: dict[str, subprocess.Popen] = {}
    try:
        for service in SERVICES:
            venv = root / service
            subprocess.run(
                [sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=60
            )
            # Wheels only, as the image's `pip install` does; pip runs from here, into that venv.
            command = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install"]
            command += ["--quiet", "--only-binary=:all:", "-r", ROOT / service / "requirements.txt"]
            installs[service] = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        for service, install in installs.items():
            output, _ = install.communicate(timeout=INSTALL_TIMEOUT)
            assert install.returncode == 0, f"{service}: pip install failed:\n{output}"
            # The kit as the image installs it: a copy (not editable), its pins the service's.
            kit = [sys.executable, "-m", "pip", "--python", root / service / "bin" / "python"]
            kit += ["install", "--quiet", "--no-deps", kit_source]
            done = subprocess.run(kit, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
            assert done.returncode == 0, f"{service}: the kit's install failed:\n{done.stderr}"
    finally:
        for install in installs.values():
            if install.poll() is None:
                install.kill()
                install.wait()
    return {service: root / service / "bin" for service in SERVICES}


def dockerignored(service: str):
    """A copytree `ignore` for the service's .dockerignore, in the part of Docker's syntax our
    .dockerignore files use: "**/x" matches x in any folder, any other pattern a path from the root."""
    lines = (ROOT / service / ".dockerignore").read_text().splitlines()
    patterns = [line.rstrip("/") for line in lines if line.strip() and not line.startswith("#")]
    assert not [pattern for pattern in patterns if pattern.startswith("!")], "not handled here"
    source = ROOT / service

    def matches(path: PurePosixPath, pattern: str) -> bool:
        if pattern.startswith("**/"):
            return fnmatch(path.name, pattern.removeprefix("**/"))
        return fnmatch(path.as_posix(), pattern)

    def ignored(directory: str, names: list[str]) -> set[str]:
        relative = PurePosixPath(Path(directory).relative_to(source))
        return {name for name in names if any(matches(relative / name, p) for p in patterns)}

    return ignored


class Container:
    """One service as its container runs it, but as a process on this machine."""

    def __init__(self, service: str, bin_dir: Path, ports: dict[str, int], tmp: Path):
        self.bin_dir = bin_dir
        self.port = ports[service]
        self.url = f"http://127.0.0.1:{self.port}"
        self.dockerfile = Dockerfile(service)
        self.code = Path(
            shutil.copytree(ROOT / service, tmp / "app", ignore=dockerignored(service))
        )
        self.workdir = self.dockerfile.last("WORKDIR").arguments
        # compose's http://<service>:<its port> is 127.0.0.1:<a free port> here.
        self.hosts = {
            f"//{name}:{code_port(name)}": f"//127.0.0.1:{port}" for name, port in ports.items()
        }
        self.home = tmp / "home"
        self.home.mkdir()
        self.log_path = tmp / f"{service}.log"

    def environment(self, compose_env: dict[str, str]) -> dict[str, str]:
        """The image's ENV and compose's environment, on loopback and in the folder's copy."""
        env = {}
        for name, value in {**self.dockerfile.env(), **compose_env}.items():
            for compose_host, local in self.hosts.items():
                value = value.replace(compose_host, local)
            if value.startswith(self.workdir + "/"):
                value = str(self.code) + value.removeprefix(self.workdir)
            env[name] = str(free_port()) if name in OTHER_LISTEN_PORTS else value
        # The image's PATH puts its venv first; HOST stays on loopback here (the image binds all).
        return {
            **env,
            "PATH": f"{self.bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "HOME": str(self.home),
        }

    def run_once(self, command: list[str], env: dict[str, str]) -> None:
        """A one-shot command in this image (compose's *-migrate services)."""
        done = subprocess.run(
            command, cwd=self.code, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{command} failed:\n{done.stdout}{done.stderr}"

    def start(self, env: dict[str, str]) -> ServiceProcess:
        """The image's CMD, with nothing from this test process's own environment."""
        command = self.dockerfile.last("CMD").exec_form()
        only = {name: None for name in os.environ} | env
        return ServiceProcess(command, cwd=self.code, env=only, log_path=self.log_path).start()


@pytest.fixture(scope="module")
def containers(venvs, tmp_path_factory) -> Iterator[dict[str, tuple[Container, ServiceProcess]]]:
    """The three services started in compose's order (faas last), each on its own database."""
    services = compose_config()["services"]
    ports = {service: free_port() for service in SERVICES}
    started = {}
    with ExitStack() as cleanup:
        for service in SERVICES:
            container = Container(service, venvs[service], ports, tmp_path_factory.mktemp(service))
            env = container.environment(services[service].get("environment", {}))
            if service in MIGRATIONS:
                url = cleanup.enter_context(postgres_database())
                assert env["DATABASE_URL"].split("://")[0] == url.split("://")[0], "same driver"
                env["DATABASE_URL"] = url
                container.run_once(services[MIGRATIONS[service]]["command"], env)
            process = container.start(env)
            cleanup.callback(process.stop)
            started[service] = (container, process)
        yield started


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_is_ready_when_installed_and_started_alone(containers, service):
    container, process = containers[service]
    process.wait_http(f"{container.url}/readyz", timeout=READY_TIMEOUT)


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_healthcheck_command_passes_against_the_running_service(containers, service):
    container, process = containers[service]
    process.wait_http(f"{container.url}/readyz", timeout=READY_TIMEOUT)
    env = {"PATH": f"{container.bin_dir}:/usr/bin:/bin", "PORT": str(container.port)}
    probe = container.dockerfile.last("HEALTHCHECK").exec_form()
    done = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr


def test_a_user_gets_a_token_and_lists_todos_through_the_independent_services(containers):
    faas, process = containers["faas"]
    process.wait_http(f"{faas.url}/readyz", timeout=READY_TIMEOUT)
    client, _username = registered_user(faas.url, bearer=True)
    response = client.call("GET", "/api/todos")
    assert response.status_code == 200, response.text
    assert response.json() == []
