"""The three services share one internal shape; the deliberate mirrors stay identical."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "user-service": ROOT / "user-service" / "user_service",
    "todo-service": ROOT / "todo-service" / "todo_service",
    "faas": ROOT / "faas" / "gateway",
}
SHAPE = ["__init__.py", "config.py", "errors.py", "logs.py", "routes.py", "auth.py", "health.py"]
MIRRORED_EVERYWHERE = ["errors.py", "logs.py"]
MIRRORED_IN_MICROSERVICES = ["auth.py", "db.py", "health.py", "keys.py", "revocations.py"]


@pytest.mark.parametrize("service", PACKAGES)
def test_every_package_has_the_same_module_names(service):
    missing = [name for name in SHAPE if not (PACKAGES[service] / name).is_file()]
    assert missing == []


@pytest.mark.parametrize("module", MIRRORED_EVERYWHERE)
def test_mirrored_modules_are_identical_in_every_service(module):
    copies = {service: (package / module).read_text() for service, package in PACKAGES.items()}
    assert len(set(copies.values())) == 1, f"{module} differs between {sorted(copies)}"


@pytest.mark.parametrize("module", MIRRORED_IN_MICROSERVICES)
def test_mirrored_modules_are_identical_in_both_microservices(module):
    users = (PACKAGES["user-service"] / module).read_text()
    todos = (PACKAGES["todo-service"] / module).read_text()
    assert users == todos, f"{module} differs between user-service and todo-service"


# The gunicorn worker and the sum of its processes' metrics: the runtime's and the services'.
MIRRORED_WITH_THE_RUNTIME = ["worker.py", "framing.py", "connections.py", "metrics_files.py"]


@pytest.mark.parametrize("module", MIRRORED_WITH_THE_RUNTIME)
def test_the_runtime_modules_are_identical_in_every_service(module):
    copies = {
        (ROOT / "faas" / "runtime" / module).read_text(),
        (PACKAGES["user-service"] / module).read_text(),
        (PACKAGES["todo-service"] / module).read_text(),
    }
    assert len(copies) == 1, f"{module} differs between the services"


@pytest.mark.parametrize("service", PACKAGES)
def test_no_service_imports_another_services_package(service):
    others = {"user_service", "todo_service", "gateway"} - {PACKAGES[service].name}
    for source in PACKAGES[service].parent.rglob("*.py"):
        if "tests" in source.parts:
            continue
        text = source.read_text()
        for other in others:
            assert f"import {other}" not in text and f"from {other}" not in text, source


# Files each microservice has a copy of, as each is built and installed alone: the same but for
# the service's names and its default port.
MIRRORED_BUT_FOR_NAMES = ["Dockerfile", "gunicorn.conf.py", "alembic.ini", "migrations/env.py"]
USER_TO_TODO_NAMES = [
    ("user_service", "todo_service"),
    ("user-service", "todo-service"),
    ("users-migrate", "todos-migrate"),
    ("8001", "8002"),
]


@pytest.mark.parametrize("path", MIRRORED_BUT_FOR_NAMES)
def test_the_microservices_own_copies_differ_only_in_their_names(path):
    users = (ROOT / "user-service" / path).read_text()
    for user_name, todo_name in USER_TO_TODO_NAMES:
        users = users.replace(user_name, todo_name)
    assert users == (ROOT / "todo-service" / path).read_text()
