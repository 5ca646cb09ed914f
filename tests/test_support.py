"""The test support itself: what every stack's processes rely on."""

import subprocess
import sys
from collections import Counter

from support.processes import _port_block, free_port
from support.stack import ROOT


def test_free_port_never_hands_out_the_same_port_twice():
    # The OS often picks a just-closed probe's port again; two servers of one stack would collide.
    ports = [free_port() for _ in range(2000)]

    assert len(set(ports)) == len(ports)


def test_parallel_workers_hand_out_ports_from_blocks_that_never_overlap(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "4")
    blocks = []
    for worker in ("gw0", "gw1", "gw2", "gw3"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        blocks.append(set(_port_block()))

    assert all(len(block) >= 4000 for block in blocks)
    assert len(set().union(*blocks)) == sum(len(block) for block in blocks)
    assert max(set().union(*blocks)) < 32768  # below the OS's own picks


def test_every_test_of_the_repository_has_an_id_of_its_own():
    # pytest-xdist hands tests to its workers by id: of tests sharing one, only one would run.
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    ids = [line for line in listing.stdout.splitlines() if "::" in line]

    assert listing.returncode == 0, listing.stdout[-2000:] + listing.stderr[-2000:]
    assert len(ids) > 1000
    assert [test for test, count in Counter(ids).items() if count > 1] == []
