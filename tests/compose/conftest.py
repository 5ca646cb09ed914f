"""The README's `docker compose up --build --wait`, for real, once per session; then every test
drives the composed system through faas's one published port, as a user does.

Without a Docker engine the suite skips, loudly; under REQUIRE_DOCKER=1 (CI) it fails instead.
A test that stops, scales or restarts something leaves the system as it found it: up, healthy,
one replica of each service. At the end `down --volumes` and the removal of the three built
images leave nothing behind but BuildKit's cache.
"""

import json
import os
from collections.abc import Iterator

import pytest
from compose.project import (
    REPORT,
    REPORT_FILE,
    ComposeProject,
    built_containers,
    docker,
    engine_problem,
    image_sizes,
)

from browser.conftest import open_app  # noqa: F401  (the browser suite's, on this system's URL)
from support.api import PublicClient, registered_user

PROJECT = "todo-faas-compose-test"


@pytest.fixture(scope="session")
def project() -> Iterator[ComposeProject]:
    problem = engine_problem()
    if problem:
        if os.environ.get("REQUIRE_DOCKER"):
            pytest.fail(f"REQUIRE_DOCKER is set but {problem}")
        pytest.skip(f"COMPOSE TESTS SKIPPED: {problem} (set REQUIRE_DOCKER=1 to fail instead)")
    running = ComposeProject(PROJECT)
    running.compose("down", "--volumes", "--remove-orphans")  # what an interrupted run left
    images: set[str] = set()
    try:
        REPORT["up --build --wait (first)"] = f"{running.up():.1f} s"
        images = {c["Config"]["Image"] for c in built_containers(running)}
        REPORT["image sizes"] = image_sizes(running)
        yield running
    finally:
        running.compose("down", "--volumes", "--remove-orphans")
        for image in images:
            docker("image", "rm", image)
        REPORT_FILE.parent.mkdir(exist_ok=True)
        REPORT_FILE.write_text(json.dumps(REPORT, indent=2) + "\n")


@pytest.fixture(scope="session")
def stack(project: ComposeProject) -> ComposeProject:
    """What the browser suite's `open_app` opens: here, the composed system."""
    return project


@pytest.fixture(scope="session")
def bearer(project: ComposeProject) -> PublicClient:
    """One API client (Bearer token) with a user of its own, shared by the suite."""
    client, username = registered_user(project.faas_url, bearer=True)
    client.username = username  # to log in again, on another replica
    return client
