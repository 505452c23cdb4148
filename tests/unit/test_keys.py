"""Key repositories: loading, following a rotation, and retiring only unneeded keys."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from onestack.identity import keys

HOUR = 3600.0


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_rotate_adds_a_new_primary_and_keeps_the_old_keys(tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    first = keys.load_keys(key_dir)[0]

    rotation = keys.rotate(key_dir, retire_after_s=HOUR)

    assert rotation.primary == 2
    assert rotation.retired == ()
    assert rotation.kept == (1, 2)
    loaded = keys.load_keys(key_dir)
    assert loaded[1] == first and loaded[0] != first
    assert (key_dir / "2").stat().st_mode & 0o777 == 0o600


def test_a_key_is_retired_only_once_its_successor_is_older_than_the_lifetime(
    tmp_path: Path,
) -> None:
    key_dir = tmp_path / "keys"
    keys.load_keys(key_dir)
    keys.rotate(key_dir, retire_after_s=HOUR)  # 2 supersedes 1 now
    age(key_dir / "2", HOUR / 2)

    kept_young = keys.rotate(key_dir, retire_after_s=HOUR)  # 3; 2 is only half an hour old
    assert kept_young.retired == ()

    age(key_dir / "2", 2 * HOUR)
    rotation = keys.rotate(key_dir, retire_after_s=HOUR)

    assert rotation.retired == (1,)
    assert rotation.kept == (2, 3, 4)


def test_a_key_ring_follows_a_rotation_made_elsewhere(tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    ring = keys.KeyRing(key_dir)
    old_token = ring.fernet().encrypt(b"old")
    keys.rotate(key_dir, retire_after_s=HOUR)
    newest = Fernet(keys.load_keys(key_dir)[0])
    new_token = newest.encrypt(b"new")

    assert ring.refresh() is True
    assert ring.fernet().decrypt(new_token) == b"new"
    assert ring.fernet().decrypt(old_token) == b"old"
    assert newest.decrypt(ring.fernet().encrypt(b"signed now")) == b"signed now"


def test_static_keys_never_change() -> None:
    ring = keys.StaticKeys([Fernet.generate_key()])
    assert ring.refresh() is False
    with pytest.raises(InvalidToken):
        ring.fernet().decrypt(Fernet(Fernet.generate_key()).encrypt(b"x"))
