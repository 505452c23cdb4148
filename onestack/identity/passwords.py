"""Password hashing: argon2id with argon2-cffi's defaults (no weaker than Keystone's bcrypt 12).

Hashing costs ~150 ms of CPU and 64 MiB. Every argon2 computation in the process takes one of
`HASH_SLOTS`, so a burst of logins queues for the cores instead of holding 64 MiB each while
they share them; requests that hash run in `run_hashing`'s threads, off the event loop.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TypeVar, TypeVarTuple

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# One computation per core. A hash runs its 4 lanes in threads but waits for the slowest lane
# at each of its 12 sync points, so a single one leaves a core idle part of the time; one per
# core fills those gaps (one per process reached 78% of the hash limit with one worker, one per
# core 98%), and more only add 64 MiB each without adding throughput.
HASH_SLOTS = len(os.sched_getaffinity(0))
_slots = threading.BoundedSemaphore(HASH_SLOTS)

# Threads for requests that hash, apart from Starlette's shared threadpool (40), so that a queue
# of logins waits on the event loop instead of taking the threads every other request needs.
# Beyond the slots, spare threads do the logins' database work: on 2 cores, 8 per slot let a
# c=64 password flood delay a PATCH /v3/users by ~0.5 s, 4 per slot did not.
_hashing_threads = anyio.CapacityLimiter(4 * HASH_SLOTS)

T = TypeVar("T")
Args = TypeVarTuple("Args")


async def run_hashing(func: Callable[[*Args], T], *args: *Args) -> T:
    """`func(*args)`, which hashes or verifies a password, in a thread of the hashing pool."""
    return await anyio.to_thread.run_sync(func, *args, limiter=_hashing_threads)


def hash_password(password: str) -> str:
    with _slots:
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; False for a wrong password or a missing/unusable hash."""
    if not password_hash:
        # Spend the same time as a real check so a missing user is not told apart by timing.
        hash_password(password)
        return False
    try:
        with _slots:
            return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
