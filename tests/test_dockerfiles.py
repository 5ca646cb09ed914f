"""Each service's Dockerfile: hadolint finds nothing, and the image follows the project's rules
(pinned slim bases, a non-root user, the shared library from its own build context) with the start
command, port and health route its code really has."""

import re
import shlex
import sys

import pytest

from support.containers import (
    LIBRARY,
    ROOT,
    SERVICES,
    Dockerfile,
    code_port,
    image_sources,
    run_tool,
)
from support.stack import PROCFILE_NAMES, procfile_commands

# Official Python image, slim, pinned to a full version and a Debian release: never a moving tag.
PINNED_BASE = re.compile(
    r"^python:(?P<minor>3\.\d+)\.\d+-slim-(bookworm|trixie)(@sha256:[0-9a-f]{64})?$"
)
ROOT_USERS = {"root", "0", "root:root", "0:0"}
STAGED_LIBRARY = f"/tmp/{LIBRARY}"  # noqa: S108 (where the build stage copies it, in the image)


def procfile_command(service: str) -> list[str]:
    """The Procfile's command for the service folder: what follows its `exec`."""
    name = next(name for name, folder in PROCFILE_NAMES.items() if folder == service)
    return shlex.split(procfile_commands()[name].split(" exec ", 1)[1])


def test_hadolint_finds_nothing_in_any_dockerfile():
    paths = [f"{service}/Dockerfile" for service in SERVICES]
    done = run_tool("hadolint", "--no-color", "--config", ".hadolint.yaml", *paths)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_every_stage_starts_from_a_pinned_slim_python_of_the_minor_version_tests_run_on(service):
    bases = [i.arguments.split()[0] for i in Dockerfile(service).all("FROM", final=False)]
    assert len(bases) >= 2, "multi-stage: a build stage, then the final one"
    for base in bases:
        match = PINNED_BASE.match(base)
        assert match, f"{base} is not python:3.X.Y-slim-<debian release>"
        assert match["minor"] == f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.parametrize("service", SERVICES)
def test_requirements_are_installed_in_their_own_layer_before_the_code(service):
    build_stage = Dockerfile(service).instructions
    steps = [f"{i.keyword} {i.arguments}" for i in build_stage]
    copy_requirements = steps.index("COPY requirements.txt /tmp/requirements.txt")
    install = next(n for n, step in enumerate(steps) if "pip install" in step)
    assert copy_requirements < install
    assert "-r /tmp/requirements.txt" in steps[install]
    # pip's cache survives rebuilds in a BuildKit cache mount, and is never in a layer.
    assert steps[install].startswith("RUN --mount=type=cache,target=/root/.cache/pip ")
    final = [f"{i.keyword} {i.arguments}" for i in Dockerfile(service).final_stage]
    assert final.index("COPY --from=build /opt/venv /opt/venv") < final.index("COPY . .")


@pytest.mark.parametrize("service", SERVICES)
def test_the_build_stage_installs_the_shared_library_from_its_context_after_the_requirements(
    service,
):
    """A change to the library reinstalls it alone; the pins stay the service's own."""
    steps = [f"{i.keyword} {i.arguments}" for i in Dockerfile(service).instructions]
    final = max(n for n, step in enumerate(steps) if step.startswith("FROM "))
    requirements = next(n for n, step in enumerate(steps) if "-r /tmp/requirements.txt" in step)
    copy = steps.index(f"COPY --from={LIBRARY} . {STAGED_LIBRARY}")
    (install,) = [
        n for n, step in enumerate(steps) if "pip install " in step and STAGED_LIBRARY in step
    ]
    assert requirements < copy < install < final
    assert "--no-deps" in steps[install], "its dependencies are the pins installed before it"


@pytest.mark.parametrize("service", SERVICES)
def test_the_header_gives_the_command_that_builds_the_image_alone(service):
    command = f"docker build --build-context {LIBRARY}={LIBRARY} {service}"
    assert command in Dockerfile(service).path.read_text()


@pytest.mark.parametrize("service", SERVICES)
def test_the_final_stage_installs_nothing_so_it_holds_no_build_tools_or_caches(service):
    runs = [i.arguments for i in Dockerfile(service).all("RUN")]
    installing = [run for run in runs if re.search(r"\b(pip|apt-get|apt|apk)\b", run)]
    assert installing == []


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_runs_as_a_numeric_non_root_user(service):
    user = Dockerfile(service).last("USER").arguments
    assert user not in ROOT_USERS
    assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", user), "numeric, so runAsNonRoot can verify it"


@pytest.mark.parametrize("service", SERVICES)
def test_the_command_is_the_procfile_command(service):
    assert Dockerfile(service).last("CMD").exec_form() == procfile_command(service)


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_exposes_the_port_its_code_listens_on(service):
    exposed = Dockerfile(service).last("EXPOSE").arguments.split()
    assert exposed[0] == str(code_port(service))


@pytest.mark.parametrize("service", SERVICES)
def test_the_healthcheck_asks_a_health_route_the_service_serves_on_its_port(service):
    probe = " ".join(Dockerfile(service).last("HEALTHCHECK").exec_form())
    assert "urllib.request" in probe, "slim images have no curl"
    route = re.search(r"'(/\w+)'", probe)[1]
    assert route == "/healthz"
    assert f"os.environ.get('PORT', '{code_port(service)}')" in probe
    assert f'.get("{route}")' in image_sources(service), f"no route {route}"


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_binds_all_interfaces_and_writes_no_bytecode(service):
    env = Dockerfile(service).env()
    assert env["HOST"] == "0.0.0.0"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"


@pytest.mark.parametrize("service", SERVICES)
def test_dockerignore_keeps_tests_local_data_and_caches_out_of_the_image(service):
    ignored = (ROOT / service / ".dockerignore").read_text().split()
    for pattern in ("tests/", ".data/", "**/__pycache__/", ".venv/"):
        assert pattern in ignored


def test_the_library_context_keeps_tests_caches_and_build_leftovers_out_of_the_images():
    ignored = (ROOT / LIBRARY / ".dockerignore").read_text().split()
    for pattern in ("tests/", "**/__pycache__/", "build/", "*.egg-info/", ".venv/"):
        assert pattern in ignored


@pytest.mark.parametrize("service", SERVICES)
def test_the_user_is_a_regular_account_with_no_login_records(service):
    """A --system account above SYS_UID_MAX (999) makes useradd warn on every build."""
    (adduser,) = [i.arguments for i in Dockerfile(service).all("RUN") if "useradd" in i.arguments]
    assert "--system" not in adduser and "--no-log-init" in adduser


@pytest.mark.parametrize("service", SERVICES)
def test_the_healthcheck_probes_every_second_while_the_service_starts(service):
    """`docker compose up --wait` then returns within a second of the service being up."""
    assert "--start-interval=1s" in Dockerfile(service).last("HEALTHCHECK").arguments


def test_faas_image_gives_its_user_the_folder_of_the_signing_key():
    dockerfile = Dockerfile("faas")
    user = dockerfile.last("USER").arguments
    runs = [i.arguments for i in dockerfile.all("RUN")]
    assert f"mkdir -m 0700 .data && chown {user} .data" in runs
    assert dockerfile.last("WORKDIR").arguments == "/app"
