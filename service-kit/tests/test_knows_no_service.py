"""The kit knows no service: none of its modules imports faas's, user-service's or
todo-service's code, and every one of them imports where none of those can be found."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parent.parent / "service_kit"
MODULES = sorted(
    ".".join(path.relative_to(KIT.parent).with_suffix("").parts).removesuffix(".__init__")
    for path in KIT.rglob("*.py")
)
THE_PARTS = {"gateway", "runtime", "index", "user_service", "todo_service"}


def imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(KIT.rglob("*.py")), ids=lambda path: path.name)
def test_no_kit_module_imports_a_part(path):
    assert imported_names(path) & THE_PARTS == set()


def test_every_kit_module_imports_without_the_parts(tmp_path):
    # A fresh interpreter, isolated from the parts' folders (which pytest puts on sys.path),
    # started in an empty folder: the kit alone, with the parts' pinned dependencies.
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    completed = subprocess.run(
        [sys.executable, "-I", "-c", code, *MODULES],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)},
    )
    assert completed.returncode == 0, completed.stderr
