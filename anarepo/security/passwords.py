"""Password hashing with argon2id; parameters are settings so tests can go fast."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()


def configure(time_cost: int | None = None, memory_cost: int | None = None) -> None:
    """Set the argon2 cost once at start-up (``anarepo.argon2.*`` settings)."""
    global _hasher
    kwargs = {}
    if time_cost:
        kwargs["time_cost"] = int(time_cost)
    if memory_cost:
        kwargs["memory_cost"] = int(memory_cost)
    _hasher = PasswordHasher(**kwargs)


class WeakPassword(ValueError):
    pass


def check_password_policy(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"passwords have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"passwords have at most {MAX_PASSWORD_LENGTH} characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    if not stored_hash or not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_password(user, password: str) -> None:
    user.password_hash = hash_password(check_password_policy(password))
