"""gateway/config.py: the documented names, working local defaults, bad values refused by name."""

from pathlib import Path

import pytest

from gateway.config import Config

FAAS_DIR = Path(__file__).resolve().parents[1]


def test_every_setting_has_a_working_local_default():
    config = Config.from_env({})

    assert config.user_service_url == "http://127.0.0.1:8001"
    assert config.todo_service_url == "http://127.0.0.1:8002"
    assert config.jwt_issuer == "todo-faas" and config.function_name == "todo-faas"
    assert config.jwt_private_key_file == FAAS_DIR / ".data" / "jwt-private-key.pem"
    assert config.jwt_previous_public_key_files == ()
    assert config.jwt_ttl_seconds == 900
    assert config.cookie_secure is False and config.cookie_name == "jwtToken"
    assert config.initialization_timeout == 30 and config.instance_concurrency == 8
    assert config.session_check_cache_seconds == 2
    assert (config.service_timeout_seconds, config.service_connect_timeout_seconds) == (5, 1)
    assert config.static_dir == FAAS_DIR / "static"
    assert config.public_url == config.public_origin == "http://127.0.0.1:9000"
    assert config.trusted_proxies == 0


def test_settings_are_read_from_their_design_names():
    config = Config.from_env(
        {
            "JWT_PREVIOUS_PUBLIC_KEY_FILES": "/keys/a.pem, /keys/b.pem,",
            "COOKIE_SECURE": "true",
            "JWT_TTL_SECONDS": "60",
            "FC_INSTANCE_CONCURRENCY": "16",
            "SESSION_CHECK_CACHE_SECONDS": "0",
            "TRUSTED_PROXIES": "2",
        }
    )

    assert config.jwt_previous_public_key_files == (Path("/keys/a.pem"), Path("/keys/b.pem"))
    assert config.cookie_secure is True and config.cookie_name == "__Host-jwtToken"
    assert config.jwt_ttl_seconds == 60 and config.instance_concurrency == 16
    assert config.session_check_cache_seconds == 0
    assert config.trusted_proxies == 2


@pytest.mark.parametrize(
    ("environ", "public_url", "origin"),
    [
        ({"HOST": "10.0.0.5", "PORT": "8080"}, "http://10.0.0.5:8080", "http://10.0.0.5:8080"),
        ({"HOST": "0.0.0.0"}, "http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ({"HOST": "::1"}, "http://[::1]:9000", "http://[::1]:9000"),
        ({"COOKIE_SECURE": "true"}, "https://127.0.0.1:9000", "https://127.0.0.1:9000"),
        (
            {"PUBLIC_URL": "HTTPS://Todos.Example:443/"},
            "https://todos.example",
            "https://todos.example",
        ),
        (
            {"PUBLIC_URL": "http://todos.example:80/app/"},
            "http://todos.example/app",
            "http://todos.example",
        ),
        (
            {"PUBLIC_URL": "https://todos.example:8443/app", "COOKIE_SECURE": "true"},
            "https://todos.example:8443/app",
            "https://todos.example:8443",
        ),
    ],
)
def test_public_url_defaults_to_the_bind_address_and_is_normalised(environ, public_url, origin):
    config = Config.from_env(environ)

    assert config.public_url == public_url
    assert config.public_origin == origin


@pytest.mark.parametrize(
    "environ",
    [
        {"PUBLIC_URL": "todos.example"},
        {"PUBLIC_URL": "ftp://todos.example"},
        {"PUBLIC_URL": "http://"},
        {"PUBLIC_URL": "http://user@todos.example"},
        {"PUBLIC_URL": "http://todos.example/?x=1"},
        {"PUBLIC_URL": "http://todos.example:99999"},
        {"PUBLIC_URL": "http://todos.example", "COOKIE_SECURE": "true"},
    ],
)
def test_a_bad_public_url_fails_naming_it(environ):
    with pytest.raises(ValueError, match="PUBLIC_URL"):
        Config.from_env(environ)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JWT_TTL_SECONDS", "soon"),
        ("JWT_TTL_SECONDS", "0"),
        ("FC_INSTANCE_CONCURRENCY", "-1"),
        ("SERVICE_TIMEOUT_SECONDS", "0"),
        ("FC_INITIALIZATION_TIMEOUT", "inf"),
        ("COOKIE_SECURE", "maybe"),
        ("TRUSTED_PROXIES", "-1"),
        ("TRUSTED_PROXIES", "10.0.0.0/8"),
    ],
)
def test_a_bad_value_fails_naming_its_setting(name: str, value: str):
    with pytest.raises(ValueError, match=name):
        Config.from_env({name: value})
