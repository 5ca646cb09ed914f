"""Which throughput runs had their work spread over a service's workers."""

import pytest

from bench.wrk import run_wrk, worker_skew


def test_even_work_over_two_workers_has_a_skew_of_one_half():
    before = {"todo-service": {101: 1.0, 102: 2.0}}
    after = {"todo-service": {101: 2.0, 102: 3.0}}
    assert worker_skew(before, after) == 0.5


def test_the_most_lopsided_service_sets_the_skew():
    before = {"faas": {1: 0.0, 2: 0.0}, "todo-service": {3: 0.0, 4: 0.0}}
    after = {"faas": {1: 1.0, 2: 1.0}, "todo-service": {3: 1.9, 4: 0.1}}
    assert worker_skew(before, after) == pytest.approx(0.95)


def test_services_that_did_almost_nothing_or_have_one_worker_do_not_count():
    before = {"user-service": {1: 0.0, 2: 0.0}, "nginx": {3: 0.0}}
    after = {"user-service": {1: 0.01, 2: 0.0}, "nginx": {3: 5.0}}
    assert worker_skew(before, after) == 0.0


def test_a_worker_started_during_the_run_counts_from_zero():
    assert worker_skew({"faas": {1: 1.0}}, {"faas": {1: 1.5, 2: 0.5}}) == 0.5


def test_loads_go_to_the_loopback_address_only():
    with pytest.raises(ValueError, match=r"127\.0\.0\.1 only"):
        run_wrk("http://example.com/", 1, 1)
