"""Makes the shared fixtures in tests/support available to every suite in the repository, and
tells pytest-xdist (`make test` runs its tests in parallel workers) which tests share a worker."""

pytest_plugins = ["support.fixtures", "support.chromium", "compose.report"]


def pytest_xdist_make_scheduler(config, log):
    """A test module's tests on one database backend go to one worker, so that the module's
    stacks start once per backend; the compose suite is one unit, as it drives one composed
    system (one project name) for the session."""
    from xdist.scheduler import LoadScopeScheduling

    from support.fixtures import BACKENDS

    # Only for --dist loadscope (scripts/test.sh asks for it): xdist turns a bare `-n 4` into
    # --dist load, and `make test-fast` asks for load by name (test by test, the unit suites).
    if config.getoption("dist") != "loadscope":
        return None

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module, _, test = nodeid.partition("::")
            if module.startswith("tests/compose/"):
                return "tests/compose"
            params = test.partition("[")[2].rstrip("]").split("-")
            backend = next((param for param in params if param in BACKENDS), None)
            return f"{module}[{backend}]" if backend else module

    return ModuleScheduling(config, log)
