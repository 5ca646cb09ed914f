#!/bin/sh
# The README's test command (`make test`) runs this: tools first, then every suite in one pytest run.
set -eu
cd "$(dirname "$0")/.."
scripts/test-tools.sh
exec .venv/bin/pytest "$@"
