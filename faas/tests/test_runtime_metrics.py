"""The platform's metrics: the sum of its instances' files (runtime/metrics_files.py)."""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from runtime.metrics_files import SettledFilesCollector


def test_a_file_a_starting_instance_has_not_sized_yet_does_not_fail_the_scrape(tmp_path):
    started = MmapedDict(str(tmp_path / "counter_100.db"))
    key = mmap_key("fc_cold_starts_total", "fc_cold_starts_total", [], [], "Instances started.")
    started.write_value(key, 1.0, 0.0)
    started.close()
    (tmp_path / "counter_200.db").touch()  # created, not yet sized: a process a moment old
    registry = CollectorRegistry()

    SettledFilesCollector(registry, str(tmp_path))

    assert b"fc_cold_starts_total 1.0" in generate_latest(registry)
