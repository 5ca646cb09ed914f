"""The runtime's settings: local defaults, the platform's entry names, bad values named."""

import pytest

from runtime.config import Config, ConfigError


def test_defaults_work_locally(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    config = Config.from_env({})

    assert (config.host, config.port, config.metrics_port) == ("127.0.0.1", 9000, 9100)
    assert config.code_dir == str(tmp_path)
    assert (config.handler, config.initializer) == ("index.handler", "index.initializer")
    assert (config.pre_stop, config.pre_stop_optional) == ("index.pre_stop", True)
    assert (config.instances, config.instance_concurrency) == (2, 8)
    assert (config.initialization_timeout, config.timeout, config.memory_size) == (30.0, 60.0, 512)
    assert (config.drain_seconds, config.request_head_timeout) == (2.0, 10.0)
    assert (config.request_body_timeout, config.response_send_timeout) == (10.0, 30.0)
    assert config.prerendered_paths == ("/.well-known/jwks.json",)


def test_values_are_typed():
    config = Config.from_env(
        {
            "PORT": "8080",
            "FC_CODE_DIR": "/srv/code",
            "FC_HANDLER": "app.main.handle",
            "FC_INITIALIZATION_TIMEOUT": "2.5",
            "FC_INSTANCES": "3",
            "FC_PRE_STOP": "app.main.stop",
            "REQUEST_BODY_TIMEOUT": "2.5",
            "RESPONSE_SEND_TIMEOUT": "7",
        }
    )

    assert config.port == 8080
    assert config.code_dir == "/srv/code"
    assert config.handler == "app.main.handle"
    assert config.initialization_timeout == 2.5
    assert config.instances == 3
    assert (config.pre_stop, config.pre_stop_optional) == ("app.main.stop", False)
    assert (config.request_body_timeout, config.response_send_timeout) == (2.5, 7.0)


def test_drain_seconds_may_be_zero():
    assert Config.from_env({"DRAIN_SECONDS": "0"}).drain_seconds == 0.0


def test_empty_initializer_pre_stop_and_prerendered_paths_mean_none():
    config = Config.from_env({"FC_INITIALIZER": "", "FC_PRE_STOP": " ", "FC_PRERENDERED_PATHS": ""})

    assert config.initializer == ""
    assert config.pre_stop == ""
    assert config.prerendered_paths == ()


def test_prerendered_paths_are_a_comma_separated_list():
    config = Config.from_env({"FC_PRERENDERED_PATHS": "/a.json, /b/c"})

    assert config.prerendered_paths == ("/a.json", "/b/c")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "http"),
        ("PORT", "70000"),
        ("METRICS_PORT", "0"),
        ("FC_INSTANCES", "0"),
        ("FC_INSTANCE_CONCURRENCY", "many"),
        ("FC_INITIALIZATION_TIMEOUT", "-1"),
        ("FC_TIMEOUT", "nan"),
        ("FC_MEMORY_SIZE", "1.5"),
        ("FC_HANDLER", "handler"),
        ("FC_INITIALIZER", "index.init-ializer"),
        ("DRAIN_SECONDS", "-1"),
        ("REQUEST_HEAD_TIMEOUT", "0"),
        ("REQUEST_BODY_TIMEOUT", "-3"),
        ("RESPONSE_SEND_TIMEOUT", "inf"),
        ("FC_PRERENDERED_PATHS", "jwks.json"),
        ("FC_PRERENDERED_PATHS", "/keys?all=1"),
    ],
)
def test_bad_value_fails_by_name(name, value):
    with pytest.raises(ConfigError, match=f"^{name}="):
        Config.from_env({name: value})
