"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
_HASHER = PasswordHasher()


class WeakPassword(ValueError):
    """A new password is too short or trivially guessable."""


def check_strength(password: str, *, user_name: str = "") -> None:
    """Raise :class:`WeakPassword` for a password shorter than :data:`MIN_LENGTH` or equal to the name."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if user_name and password.lower() == user_name.lower():
        raise WeakPassword("the password must not be the user name")


def hash_password(password: str) -> str:
    """An Argon2id hash string (salted; encodes its own parameters)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches `stored_hash`; False for a wrong password or a bad hash."""
    if not stored_hash:
        # spend the same time as a real check so a missing user is not told apart by timing
        _HASHER.hash(password)
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
