"""The three parts share one internal shape, and what they share lives once, in service-kit."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KIT = ROOT / "service-kit" / "service_kit"
PACKAGES = {
    "user-service": ROOT / "user-service" / "user_service",
    "todo-service": ROOT / "todo-service" / "todo_service",
    "faas": ROOT / "faas" / "gateway",
}
SHAPE = ["__init__.py", "config.py", "routes.py"]
MICROSERVICE_SHAPE = [*SHAPE, "models.py"]
# Modules that are the kit's alone: a part with one of these names again would hold a copy.
# (faas's gateway has an auth.py and a health.py of its own, for users and for its proxying,
# and its runtime a logs.py for the platform's lines: not the kit's.)
SERVING = ["worker.py", "framing.py", "connections.py", "metrics_files.py"]
WEB = ["errors.py", "logs.py"]
MICROSERVICE = ["auth.py", "keys.py", "revocations.py", "health.py", "metrics.py", "db.py"]
KIT_ONLY = {
    PACKAGES["user-service"]: SERVING + WEB + MICROSERVICE,
    PACKAGES["todo-service"]: SERVING + WEB + MICROSERVICE,
    PACKAGES["faas"]: SERVING + WEB,
    ROOT / "faas" / "runtime": SERVING,
}


@pytest.mark.parametrize("service", PACKAGES)
def test_every_package_has_the_same_module_names(service):
    shape = SHAPE if service == "faas" else MICROSERVICE_SHAPE
    missing = [name for name in shape if not (PACKAGES[service] / name).is_file()]
    assert missing == []


@pytest.mark.parametrize("folder", KIT_ONLY, ids=lambda folder: folder.relative_to(ROOT).as_posix())
def test_no_part_keeps_its_own_copy_of_a_kit_module(folder):
    assert [name for name in KIT_ONLY[folder] if (folder / name).exists()] == []
    assert all((KIT / "serving" / name).is_file() for name in SERVING)


@pytest.mark.parametrize("service", PACKAGES)
def test_no_service_imports_another_services_package(service):
    others = {"user_service", "todo_service", "gateway"} - {PACKAGES[service].name}
    for source in PACKAGES[service].parent.rglob("*.py"):
        if "tests" in source.parts:
            continue
        text = source.read_text()
        for other in others:
            assert f"import {other}" not in text and f"from {other}" not in text, source
