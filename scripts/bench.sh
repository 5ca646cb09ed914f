#!/bin/sh
# `make bench`: installs wrk and nginx where missing, makes sure PostgreSQL is up, runs the bench.
# Arguments go to `python -m bench` (see --help); results land in bench/results.json and .png.
set -eu
cd "$(dirname "$0")/.."

# Debian puts nginx in /usr/sbin, which a user's PATH may lack.
export PATH="$PATH:/usr/sbin"
missing=""
for tool in wrk nginx; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "bench needs:$missing (apt-get install$missing, as root)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

# The bench runs on PostgreSQL, as CI does: start the machine's server when it is down.
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

export REQUIRE_POSTGRES=1  # no PostgreSQL is an error here, never a skip
export PYTHONPATH="tests"  # the bench starts the stack with the system tests' support code
exec .venv/bin/python -m bench "$@"
