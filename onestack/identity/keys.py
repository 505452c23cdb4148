"""Fernet key repositories on disk (token keys, credential keys), and their rotation.

A repository is a directory of numbered key files: the highest number encrypts, every key
decrypts. `KeyRing` is a process's view of one: it re-reads the directory when the set of files
changes (looked at no more than once a second, and at once when something fails to decrypt), so
`onestack token rotate-keys` reaches every running process without a restart. `rotate()` adds
a new primary key and retires only keys that nothing still valid can depend on.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

from onestack.common.files import write_private

CHECK_INTERVAL_S = 1.0
TOKEN_KEYS = "fernet-keys"  # directory names under the state dir
CREDENTIAL_KEYS = "credential-keys"


def numbered_keys(key_dir: Path) -> list[tuple[int, Path]]:
    """The key files, lowest number first."""
    return sorted((int(p.name), p) for p in key_dir.iterdir() if p.name.isdigit())


def load_keys(key_dir: Path) -> list[bytes]:
    """The keys in `key_dir`, newest (highest number) first; creates the first key if none."""
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    numbered = numbered_keys(key_dir)
    if not numbered:
        write_private(key_dir / "1", Fernet.generate_key())
        numbered = [(1, key_dir / "1")]
    return [path.read_bytes().strip() for _, path in reversed(numbered)]


class KeyRing:
    """One process's view of a key repository, following rotations made by any process."""

    def __init__(self, key_dir: Path) -> None:
        self.key_dir = key_dir
        self._names: list[str] = []
        self._fernet: MultiFernet | None = None
        self._checked = 0.0
        self.refresh()

    def fernet(self) -> MultiFernet:
        """The keys to use now; looks for a rotation at most once a second."""
        if time.monotonic() - self._checked >= CHECK_INTERVAL_S:
            self.refresh()
        assert self._fernet is not None
        return self._fernet

    def refresh(self) -> bool:
        """Re-read the keys if the repository changed; True when it did."""
        self._checked = time.monotonic()
        names = sorted(p.name for p in self.key_dir.iterdir()) if self.key_dir.is_dir() else []
        if names == self._names and self._fernet is not None:
            return False
        self._fernet = MultiFernet([Fernet(key) for key in load_keys(self.key_dir)])
        self._names = sorted(p.name for p in self.key_dir.iterdir())
        return True


class StaticKeys:
    """Keys held in memory only (tests, tools): the same interface, never rotating."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is required")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def fernet(self) -> MultiFernet:
        return self._fernet

    def refresh(self) -> bool:
        return False


@dataclass(frozen=True)
class Rotation:
    primary: int
    retired: tuple[int, ...]
    kept: tuple[int, ...]


def rotate(key_dir: Path, retire_after_s: float, now: float | None = None) -> Rotation:
    """Add a new primary key; remove old keys superseded more than `retire_after_s` ago.

    A key encrypts until its successor appears (and at most CHECK_INTERVAL_S longer in a
    process that has not looked yet), so whatever it encrypted lives no longer than the
    successor's age plus the longest lifetime of what it encrypts: `retire_after_s` must cover
    that (the token lifetime, for token keys).
    """
    load_keys(key_dir)  # a repository always has a key to rotate from
    numbered = numbered_keys(key_dir)
    primary = numbered[-1][0] + 1
    write_private(key_dir / str(primary), Fernet.generate_key())
    now = time.time() if now is None else now
    retired = []
    for (number, path), (_, successor) in itertools.pairwise(numbered):
        if now - successor.stat().st_mtime > retire_after_s + CHECK_INTERVAL_S:
            path.unlink()
            retired.append(number)
    kept = tuple(number for number, _ in numbered_keys(key_dir))
    return Rotation(primary=primary, retired=tuple(retired), kept=kept)
