"""Static files come from faas's static folder only: no traversal in any encoding, no source
file, no key, no dotfile. Paths go out byte for byte (http.client), never normalised."""

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from hardening.web import assert_problem, extra_faas, raw

FAAS_DIR = Path(__file__).resolve().parents[2] / "faas"
# What the files behind the traversals below hold: none of it may ever be in an answer.
LEAKS = (b"def initializer", b"PRIVATE KEY", b"root:", b"[core]", b"SECRET", b"gunicorn==")

TRAVERSALS = [
    "/../index.py",
    "/%2e%2e/index.py",
    "/%2e%2e%2findex.py",
    "/%2E%2E%2Findex.py",
    "/..%2findex.py",
    "/.%2e/index.py",
    "/%2e./index.py",
    "/%252e%252e/index.py",
    "/%252e%252e%252findex.py",
    "/..\\index.py",
    "/..%5cindex.py",
    "/%5c..%5cindex.py",
    "/js/../../index.py",
    "/js/%2e%2e/%2e%2e/index.py",
    "/js/..%2f..%2findex.py",
    "/..;/index.py",
    "/%c0%ae%c0%ae/index.py",  # an overlong UTF-8 dot
    "/index.html%00/../../index.py",
    "/app.css%00.py",
    "/%00",
    "/../../../../../../etc/passwd",
    "//etc/passwd",
    "///etc/passwd",
    "/%2fetc/passwd",
    "/etc/passwd",
    "/static/../index.py",
]
SOURCES_KEYS_AND_DOTFILES = [
    "/index.py",
    "/gateway/routes.py",
    "/gateway/tokens.py",
    "/requirements.txt",
    "/runtime/config.py",
    "/Dockerfile",
    "/.data/jwt-private-key.pem",
    "/.env",
    "/.git/config",
    "/.gitignore",
    "/.well-known/../.data/jwt-private-key.pem",
    "/.well-known/../../index.py",
]


def assert_unreachable(base_url: str, target: str) -> None:
    answer = raw(base_url, "GET", target)
    assert_problem(answer, 404)
    assert not [leak for leak in LEAKS if leak in answer.content], target


def test_the_app_and_its_assets_are_served(pg_stack):
    for path, type_ in [
        ("/", "text/html"),
        ("/app.css", "text/css"),
        ("/js/app.js", "text/javascript"),
        ("/favicon.svg", "image/svg+xml"),
    ]:
        answer = raw(pg_stack.faas_url, "GET", path)
        assert answer.status_code == 200, path
        assert answer.headers["Content-Type"].startswith(type_)


@pytest.mark.parametrize("target", TRAVERSALS)
def test_path_traversal_in_any_encoding_is_a_404_problem(pg_stack, target: str):
    assert_unreachable(pg_stack.faas_url, target)


@pytest.mark.parametrize("target", SOURCES_KEYS_AND_DOTFILES)
def test_source_files_keys_and_dotfiles_are_a_404_problem(pg_stack, target: str):
    assert_unreachable(pg_stack.faas_url, target)


def test_the_running_signing_key_is_unreachable_by_absolute_or_relative_path(pg_stack):
    key = Path(pg_stack.env["JWT_PRIVATE_KEY_FILE"])
    assert key.is_file()
    relative = os.path.relpath(key, FAAS_DIR / "static")
    for target in (str(key), f"/{key}", "/" + quote(str(key), safe=""), f"/{relative}"):
        assert_unreachable(pg_stack.faas_url, target)


@pytest.fixture(scope="module")
def planted_faas(pg_stack, tmp_path_factory) -> Iterator[str]:
    """A faas whose static folder also holds a key, an .env and a .git: as if they were deployed
    there by mistake."""
    static = tmp_path_factory.mktemp("static")
    (static / "index.html").write_text("<!doctype html><title>planted</title>")
    (static / ".env").write_text("SECRET=1\n")
    (static / ".git").mkdir()
    (static / ".git" / "config").write_text("[core]\n")
    (static / ".data").mkdir()
    (static / ".data" / "jwt-private-key.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    (static / "js").mkdir()
    (static / "js" / ".hidden.js").write_text("SECRET")
    with extra_faas(pg_stack, static.parent, STATIC_DIR=str(static)) as (url, _):
        yield url


@pytest.mark.parametrize(
    "target",
    [
        "/.env",
        "/.git/config",
        "/.data/jwt-private-key.pem",
        "/js/.hidden.js",
        "/%2eenv",
        "/js/%2ehidden.js",
        "/js/../.env",
        "/.well-known/../.env",
    ],
)
def test_dotfiles_in_the_static_folder_itself_are_a_404_problem(planted_faas, target: str):
    assert raw(planted_faas, "GET", "/").status_code == 200  # the folder is served
    assert_unreachable(planted_faas, target)
