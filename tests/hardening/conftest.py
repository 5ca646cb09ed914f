"""Hardening tests: black-box against the real running stack, on PostgreSQL as in production."""

from collections.abc import Iterator

import pytest

from support.stack import Stack, start_stack


@pytest.fixture(scope="session")
def pg_stack(tmp_path_factory) -> Iterator[Stack]:
    """The whole system on PostgreSQL, shared by the tests that neither stop nor reconfigure it.

    A test that needs other settings (short lifetimes, a service stopped) starts its own with
    support.stack.start_stack(tmp_path, "postgresql", env={...}).
    """
    with start_stack(tmp_path_factory.mktemp("hardening"), "postgresql") as running:
        yield running
