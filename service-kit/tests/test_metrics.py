"""Metrics summed over processes (serving/metrics_files.py, metrics.py): a file a starting
process has not sized yet never fails the scrape (prometheus/client_python#1199)."""

from flask import Flask
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from service_kit import metrics
from service_kit.serving.metrics_files import SettledFilesCollector


def write_counter(path, name: str, labels: tuple[list[str], list[str]], value: float) -> None:
    counter = MmapedDict(str(path))
    counter.write_value(mmap_key(name, f"{name}_total", *labels, "A counter."), value, 0.0)
    counter.close()


def test_a_file_a_starting_process_has_not_sized_yet_does_not_fail_the_sum(tmp_path):
    write_counter(tmp_path / "counter_100.db", "fc_cold_starts", ([], []), 1.0)
    (tmp_path / "counter_200.db").touch()  # created, not yet sized: a process a moment old
    registry = CollectorRegistry()

    SettledFilesCollector(registry, str(tmp_path))

    assert b"fc_cold_starts_total 1.0" in generate_latest(registry)


def test_the_scrape_sums_every_workers_files_when_there_are_several(tmp_path, monkeypatch):
    labels = (["method", "route", "status"], ["GET", "/healthz", "200"])
    write_counter(tmp_path / "counter_100.db", "http_requests", labels, 3.0)
    write_counter(tmp_path / "counter_101.db", "http_requests", labels, 2.0)
    (tmp_path / "counter_200.db").touch()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    with Flask(__name__).test_request_context():
        response = metrics.scrape()

    assert response.mimetype == "text/plain"
    assert 'http_requests_total{method="GET",route="/healthz",status="200"} 5.0' in (
        response.get_data(as_text=True)
    )
