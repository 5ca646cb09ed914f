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
    assert (config.min_instances, config.max_instances, config.instance_concurrency) == (1, 4, 8)
    assert (config.idle_seconds, config.max_queued_requests, config.prewarm) == (60.0, 256, True)
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
            "FC_MIN_INSTANCES": "0",
            "FC_MAX_INSTANCES": "3",
            "FC_IDLE_SECONDS": "4.5",
            "FC_MAX_QUEUED_REQUESTS": "0",
            "FC_PREWARM": "false",
            "FC_PRE_STOP": "app.main.stop",
            "REQUEST_BODY_TIMEOUT": "2.5",
            "RESPONSE_SEND_TIMEOUT": "7",
        }
    )

    assert config.port == 8080
    assert config.code_dir == "/srv/code"
    assert config.handler == "app.main.handle"
    assert config.initialization_timeout == 2.5
    assert (config.min_instances, config.max_instances, config.idle_seconds) == (0, 3, 4.5)
    assert (config.max_queued_requests, config.prewarm) == (0, False)
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
        ("FC_MIN_INSTANCES", "-1"),
        ("FC_MAX_INSTANCES", "0"),
        ("FC_IDLE_SECONDS", "0"),
        ("FC_MAX_QUEUED_REQUESTS", "-1"),
        ("FC_PREWARM", "maybe"),
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


def test_min_instances_over_max_instances_is_refused_by_name():
    with pytest.raises(ConfigError, match="FC_MIN_INSTANCES=3 is over FC_MAX_INSTANCES=2"):
        Config.from_env({"FC_MIN_INSTANCES": "3", "FC_MAX_INSTANCES": "2"})


def test_the_old_fixed_pool_setting_is_refused_naming_its_replacements():
    with pytest.raises(ConfigError, match=r"FC_INSTANCES is gone.*FC_MIN_INSTANCES"):
        Config.from_env({"FC_INSTANCES": "2"})
