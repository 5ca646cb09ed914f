"""Makes the shared fixtures in tests/support available to every suite in the repository."""

pytest_plugins = ["support.fixtures", "support.chromium"]
