"""The folder where a gunicorn's processes write their metrics files (prometheus_client's
multiprocess mode): PROMETHEUS_MULTIPROC_DIR when it is set, else a folder of this gunicorn's
own, removed when it exits. prometheus_client chooses multiprocess mode when first imported, so
this module imports none of it: gunicorn.conf.py calls use_own_metrics_dir() before anything that
does."""

import os
import shutil
import tempfile

own_metrics_dir: str | None = None


def use_own_metrics_dir(name: str) -> None:
    """Unless PROMETHEUS_MULTIPROC_DIR names a folder, make one named after `name` and set it."""
    global own_metrics_dir
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own_metrics_dir = tempfile.mkdtemp(prefix=f"{name}-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_metrics_dir


def remove_own_metrics_dir() -> None:
    """Remove the folder use_own_metrics_dir() made, if it made one (gunicorn's on_exit)."""
    if own_metrics_dir:
        shutil.rmtree(own_metrics_dir, ignore_errors=True)
