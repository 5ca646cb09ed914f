"""The profile's summary: each function's share of the samples, running and on the stack."""

import pytest

from bench.profile import function_shares, summary

STACKS = [
    "process 7:gunicorn;run (worker.py:10);handle (worker.py:20);recv (socket.py:5) 6",
    "process 7:gunicorn;run (worker.py:10);handle (worker.py:21);parse (http.py:3) 3",
    "process 8:gunicorn;run (worker.py:12) 1",
]


def test_self_counts_the_running_function_and_total_every_function_on_the_stack_once():
    own, total, samples = function_shares(STACKS)

    assert samples == 10
    assert own["recv (socket.py)"] == 6 and own["run (worker.py)"] == 1
    # handle ran on two lines: one function; run is on every stack: all samples.
    assert total["handle (worker.py)"] == 9 and total["run (worker.py)"] == 10


def test_the_summary_gives_percentages_of_all_samples():
    text = summary(STACKS)

    assert text.startswith("10 samples")
    assert "60.0 %  recv (socket.py)" in text
    assert "100.0 %  run (worker.py)" in text


def test_lines_that_are_not_stacks_are_skipped():
    assert function_shares(["", "no count here"]) == (pytest.approx({}), pytest.approx({}), 0)
