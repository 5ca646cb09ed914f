"""argon2id at the library's defaults; old parameters are detected; bad hashes never match."""

from argon2 import PasswordHasher

from user_service import passwords


def test_hashes_are_argon2id_at_the_default_cost():
    password_hash = passwords.hash_password("correct horse")
    assert password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "correct horse" not in password_hash


def test_verify_accepts_the_password_and_nothing_else():
    password_hash = passwords.hash_password("correct horse")
    assert passwords.verify_password(password_hash, "correct horse")
    assert not passwords.verify_password(password_hash, "correct horse ")
    assert not passwords.verify_password(password_hash, "Correct horse")


def test_an_unreadable_hash_matches_nothing():
    assert not passwords.verify_password("not a hash", "anything")
    assert not passwords.verify_password("", "")


def test_weaker_parameters_need_a_rehash():
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("correct horse")
    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(passwords.hash_password("correct horse"))


def test_the_dummy_hash_costs_what_a_real_one_does():
    # Same parameters, so verifying an unknown user's password does the same work.
    passwords.verify_nothing("anything")
    assert not passwords.needs_rehash(passwords._dummy_hash())
