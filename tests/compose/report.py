"""Prints the compose suite's report at the end of the run's output. A plugin of the run's main
process (see the root conftest.py): with pytest-xdist the suite runs in a worker, which writes the
report to REPORT_FILE, and only the main process prints the summary."""

import json

from compose.project import REPORT_FILE


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the main process, not a pytest-xdist worker
        REPORT_FILE.unlink(missing_ok=True)  # a report printed below is this run's


def pytest_terminal_summary(terminalreporter):
    report = json.loads(REPORT_FILE.read_text()) if REPORT_FILE.exists() else {}
    if not report:
        return
    terminalreporter.section("docker compose: timings, image sizes, memory")
    for key, value in report.items():
        terminalreporter.write_line(f"{key}: {value}")
