#!/bin/sh
# Installs what the tests need beyond the venv: Debian's Chromium for the browser tests,
# and the linters and validators of the deployment files (deploy/install-tools.sh, into .tools/).
set -eu
cd "$(dirname "$0")/.."
deploy/install-tools.sh
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "WARNING: /usr/bin/chromium is missing and this is not root: browser tests will skip (fail under CI)." >&2
    fi
fi
