"""Password hashing: argon2id with argon2-cffi's defaults (no weaker than Keystone's bcrypt 12).

Hashing costs ~150 ms of CPU; callers on the event loop run these in a worker thread.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; False for a wrong password or a missing/unusable hash."""
    if not password_hash:
        # Spend the same time as a real check so a missing user is not told apart by timing.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
