"""Hardening tests: black-box against the real running stack, on PostgreSQL as in production."""

from collections.abc import Iterator

import pytest
from schemathesis.pytest.plugin import SchemathesisFunction

from support.stack import Stack, start_stack


@pytest.fixture(scope="session")
def pg_stack(tmp_path_factory) -> Iterator[Stack]:
    """The whole system on PostgreSQL, shared by the tests that neither stop nor reconfigure it.

    A test that needs other settings (short lifetimes, a service stopped) starts its own with
    support.stack.start_stack(tmp_path, "postgresql", env={...}).
    """
    with start_stack(tmp_path_factory.mktemp("hardening"), "postgresql") as running:
        yield running


def pytest_collection_modifyitems(items):
    """Gives each of schemathesis's tests (one per operation) an id of its own. pytest builds a
    test's id from its function's name and parameters, and schemathesis puts the operation in
    the name only, so every operation's test had one id: pytest-xdist, which hands out tests by
    id, then ran one operation of each test and dropped the others."""
    for item in items:
        if isinstance(item, SchemathesisFunction) and item.operation_label not in item.nodeid:
            item._id = item._id.with_params(item.operation_label)
