"""Settings: documented defaults without any environment, and a bad value fails by its name."""

import pytest

from user_service.config import Config


def test_the_defaults_are_the_documented_limits():
    config = Config.from_env({})
    assert (config.login_failure_limit, config.login_failure_window_seconds) == (5, 900)
    assert config.account_login_failure_limit == 100
    assert config.account_login_limit == 60
    assert config.session_max_seconds == 12 * 3600
    assert config.client_login_failure_limit == 20
    assert config.client_registration_limit == 10
    assert config.client_limit_window_seconds == 600
    assert config.password_hash_profile == "rfc9106-low-memory"


@pytest.mark.parametrize("value", ["OWASP-MINIMUM", "cheapest", "none"])
def test_a_password_hash_profile_not_of_the_documented_ones_fails_by_name(value):
    with pytest.raises(ValueError, match="PASSWORD_HASH_PROFILE"):
        Config.from_env({"PASSWORD_HASH_PROFILE": value})


@pytest.mark.parametrize("value", ["0", "-1", "ten", "1.5"])
@pytest.mark.parametrize(
    "name",
    [
        "CLIENT_LOGIN_FAILURE_LIMIT",
        "CLIENT_REGISTRATION_LIMIT",
        "LOGIN_FAILURE_LIMIT",
        "LOGIN_FAILURE_WINDOW_SECONDS",
        "ACCOUNT_LOGIN_FAILURE_LIMIT",
        "ACCOUNT_LOGIN_LIMIT",
    ],
)
def test_a_limit_below_one_or_not_a_whole_number_fails_by_name(name, value):
    with pytest.raises(ValueError, match=name):
        Config.from_env({name: value})


def test_the_revoked_sessions_are_read_every_two_seconds_and_kept_30_s_by_default():
    config = Config.from_env({})
    assert config.revocation_refresh_seconds == 2
    assert config.revocation_max_staleness_seconds == 30


@pytest.mark.parametrize("name", ["REVOCATION_REFRESH_SECONDS", "REVOCATION_MAX_STALENESS_SECONDS"])
def test_a_revocation_period_below_one_second_fails_by_name(name):
    with pytest.raises(ValueError, match=name):
        Config.from_env({name: "0"})
