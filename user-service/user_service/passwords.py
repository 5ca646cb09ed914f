"""Passwords: the policy a new one must meet (NIST SP 800-63B) and argon2id hashing.

A password is taken exactly as typed: its length counts Unicode code points, nothing is
normalised or trimmed, and any character is allowed (spaces and emoji too) except NUL and
unpaired surrogates, which no client types and which cannot be hashed as UTF-8.

Hashing is argon2id with the parameters of the profile PASSWORD_HASH_PROFILE names: by default
RFC 9106's low-memory one (m=64 MiB, t=3, p=4, argon2-cffi's defaults), or OWASP's minimum
(m=19 MiB, t=2, p=1) for hosts short of memory or CPU; nothing weaker. A hash made with other
parameters is made again at the user's next login.
"""

import secrets
from dataclasses import replace
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH, MAX_LENGTH = 8, 128

# argon2id's parameters by PASSWORD_HASH_PROFILE's names; the first is the default.
PROFILES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    "owasp-minimum": replace(
        profiles.RFC_9106_LOW_MEMORY, time_cost=2, memory_cost=19 * 1024, parallelism=1
    ),
}


@cache
def hasher(profile: str) -> PasswordHasher:
    """The hasher of a profile of PROFILES, one per process."""
    return PasswordHasher.from_parameters(PROFILES[profile])


def _hasher() -> PasswordHasher:
    return current_app.extensions["password_hasher"]


@cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn's list of the 30,000 passwords most frequent in real leaks, lower-cased. Imported
    # on first use, not on import: building the set takes a few tens of milliseconds.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def is_typeable(password: str) -> bool:
    """Within the length limits and free of NUL and unpaired surrogates: it could be a password."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH or "\x00" in password:
        return False
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def policy_problem(password: str, username: str) -> str | None:
    """Why `username` may not choose `password`, or None when it may."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"password must be {MIN_LENGTH} to {MAX_LENGTH} characters"
    if not is_typeable(password):
        return "password must not contain NUL characters or unpaired surrogates"
    # Case-insensitively: "Password1" is guessed right after "password1".
    folded = password.lower()
    if folded in _common_passwords():
        return "password is one of the most commonly used passwords; choose another"
    if folded == username:
        return "password must not be the username"
    return None


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; False on a mismatch or an unreadable hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """The hash was made with other parameters than the current ones."""
    return _hasher().check_needs_rehash(password_hash)


@cache
def _dummy_hash(with_hasher: PasswordHasher) -> str:
    # Made on first use, not on import; its random password matches nothing anyone types.
    return with_hasher.hash(secrets.token_urlsafe(32))


def verify_nothing() -> None:
    """Spend the work of one verification, so an unknown username costs what a known one does.

    argon2's cost does not depend on the password, so a fixed one serves for any (even one that
    could not be hashed).
    """
    verify_password(_dummy_hash(_hasher()), "no password matches this hash")
