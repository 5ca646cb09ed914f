"""System tests: the real processes, black-box over HTTP, on SQLite and on PostgreSQL."""

from collections.abc import Iterator

import pytest

from support.stack import Stack, start_stack


@pytest.fixture(scope="session")
def system_stack(backend: str, tmp_path_factory) -> Iterator[Stack]:
    """A running stack per backend, shared by the tests that do not stop or break it."""
    with start_stack(tmp_path_factory.mktemp(f"system-{backend}"), backend) as running:
        yield running
