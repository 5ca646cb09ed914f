"""Makes the shared fixtures in tests/support available to every suite in the repository, and
tells pytest-xdist (`make test` runs its tests in parallel workers) which tests share a worker."""

pytest_plugins = ["support.fixtures", "support.chromium", "compose.report"]


def pytest_xdist_make_scheduler(config, log):
    """Whole test modules go to one worker each, so that a module's stacks start once; the compose
    suite is one unit, as it drives one composed system (one project name) for the session."""
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "tests/compose" if module.startswith("tests/compose/") else module

    return ModuleScheduling(config, log)
