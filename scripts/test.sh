#!/bin/sh
# The README's test command (`make test`) runs this: tools first, then every suite in one pytest run.
set -eu
cd "$(dirname "$0")/.."
scripts/test-tools.sh
# Four workers on any machine: most tests wait on processes, sockets and timers, not on the CPU.
# A module's tests (per database backend) share a worker, so its stacks start once, and the compose
# suite is one unit: conftest.py's scheduler, which --dist loadscope selects.
exec .venv/bin/pytest -n 4 --dist loadscope "$@"
