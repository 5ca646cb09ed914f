"""The sum of every process's metrics files (prometheus_client multiprocess mode): what faas's
metrics port and the services' /metrics serve."""

import glob
import os

from prometheus_client import CollectorRegistry, multiprocess


class SettledFilesCollector(multiprocess.MultiProcessCollector):
    """prometheus_client's sum of every process's files, without the files still empty: a
    process creates its file before it sizes it, and one read in that moment failed the whole
    scrape (prometheus/client_python#1199), whenever a worker or an instance started."""

    def __init__(self, registry: CollectorRegistry, folder: str) -> None:
        self.folder = folder
        super().__init__(registry, folder)

    def collect(self):
        files = [path for path in glob.glob(os.path.join(self.folder, "*.db")) if _sized(path)]
        return self.merge(files, accumulate=True)


def _sized(path: str) -> bool:
    try:
        return os.path.getsize(path) > 0
    except FileNotFoundError:  # a live gauge's file, removed as its process died
        return False
