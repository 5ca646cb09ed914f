"""argon2id at or above OWASP's minimum, by profile; the NIST SP 800-63B policy; old parameters
are detected."""

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2.low_level import Type
from flask import Flask

from user_service import passwords

OWASP_MIN_MEMORY_KIB, OWASP_MIN_TIME_COST = 19 * 1024, 2
# What each profile's hashes start with: RFC 9106's low-memory profile is argon2-cffi's default.
HASH_PREFIXES = {
    "rfc9106-low-memory": "$argon2id$v=19$m=65536,t=3,p=4$",
    "owasp-minimum": "$argon2id$v=19$m=19456,t=2,p=1$",
}


@pytest.fixture(params=list(HASH_PREFIXES))
def profile(request) -> Iterator[str]:
    """Each profile's hasher, installed as create_app does."""
    app = Flask(__name__)
    app.extensions["password_hasher"] = passwords.hasher(request.param)
    with app.app_context():
        yield request.param


def test_the_profiles_are_the_documented_ones():
    assert list(passwords.PROFILES) == list(HASH_PREFIXES)


def test_hashes_are_argon2id_at_or_above_owasps_minimum_with_the_profiles_parameters(profile):
    password_hash = passwords.hash_password("correct horse")
    assert "correct horse" not in password_hash
    params = extract_parameters(password_hash)
    assert params.type is Type.ID
    assert params.memory_cost >= OWASP_MIN_MEMORY_KIB
    assert params.time_cost >= OWASP_MIN_TIME_COST
    assert params.parallelism >= 1
    assert password_hash.startswith(HASH_PREFIXES[profile])


def test_a_hash_of_the_other_profile_is_made_again(profile):
    (other,) = set(HASH_PREFIXES) - {profile}
    assert passwords.needs_rehash(passwords.hasher(other).hash("correct horse"))


def test_verify_accepts_the_password_and_nothing_else(profile):
    password_hash = passwords.hash_password("correct horse")
    assert passwords.verify_password(password_hash, "correct horse")
    assert not passwords.verify_password(password_hash, "correct horse ")
    assert not passwords.verify_password(password_hash, "Correct horse")


def test_an_unreadable_hash_matches_nothing(profile):
    assert not passwords.verify_password("not a hash", "anything")
    assert not passwords.verify_password("", "")


def test_weaker_parameters_need_a_rehash(profile):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("correct horse")
    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(passwords.hash_password("correct horse"))


def test_the_dummy_hash_costs_what_a_real_one_does(profile):
    # Same parameters, so verifying an unknown user's password does the same work.
    passwords.verify_nothing()
    assert not passwords.needs_rehash(passwords._dummy_hash(passwords._hasher()))


@pytest.mark.parametrize(
    "password",
    [
        "8 chars!",
        "p" * 128,
        "🔑" * 8,  # 8 code points, 32 bytes
        "𝄞" * 128,  # 128 code points, 512 bytes
        "e\u0301" * 4,  # 8 code points; its NFC form would be 4
        "  spaces   around  ",
        "עברית ורוסית русский",
        "quote\"back\\slash'",
    ],
    ids=["ascii", "128", "emoji", "128 four-byte", "combining", "spaces", "rtl", "quotes"],
)
def test_the_policy_accepts_any_8_to_128_code_points(password):
    assert passwords.policy_problem(password, "alice") is None


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("7 chars", "8 to 128 characters"),
        ("p" * 129, "8 to 128 characters"),
        ("🔑" * 7, "8 to 128 characters"),  # 28 bytes, but 7 characters
        ("é" * 4 + "abc", "8 to 128 characters"),  # NFC: 7 characters, however it was typed
        ("nul\x00inside", "NUL"),
        ("half a pair \ud83d", "unpaired surrogates"),
        ("password1", "most commonly used"),
        ("PassWord1", "most commonly used"),
        ("trustno1", "most commonly used"),
        ("qwertyuiop", "most commonly used"),
        ("Alice-in-chains", "username"),
    ],
)
def test_the_policy_refuses_with_a_reason(password, problem):
    assert problem in passwords.policy_problem(password, "alice-in-chains")


def test_a_common_password_with_a_trailing_space_is_another_password():
    # Exactly as typed: the space makes it another (and uncommon) password.
    assert passwords.policy_problem("password1 ", "alice") is None


@pytest.mark.parametrize(
    ("password", "typeable"),
    [("8 chars!", True), ("short", False), ("x" * 129, False), ("a\x00bcdefgh", False)],
)
def test_is_typeable_is_the_length_and_character_rule(password, typeable):
    assert passwords.is_typeable(password) is typeable
