"""Password hashing: argon2id at argon2-cffi's defaults (RFC 9106, low-memory profile)."""

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; False on a mismatch or an unreadable hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """The hash was made with other parameters than the current ones."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    # Made on first use, not on import; its random password matches nothing anyone types.
    return _hasher.hash(secrets.token_urlsafe(32))


def verify_nothing(password: str) -> None:
    """Spend the work of one verification, so an unknown username costs what a known one does."""
    verify_password(_dummy_hash(), password)
