"""Each process of the stack cleans up after itself: what it makes in the temporary folder (its
metrics' files, shared between its workers) is gone once it has stopped."""

from support.stack import start_stack


def test_each_gunicorn_makes_its_own_metrics_folder_and_removes_it_when_stopped(
    tmp_path_factory,
):
    temporary = tmp_path_factory.mktemp("temporary")
    with start_stack(tmp_path_factory.mktemp("processes"), "sqlite", {"TMPDIR": str(temporary)}):
        made = sorted(path.name.rsplit("-", 1)[0] for path in temporary.iterdir())
        assert made == ["fc-metrics", "todo-service-metrics", "user-service-metrics"]
    assert list(temporary.iterdir()) == []
