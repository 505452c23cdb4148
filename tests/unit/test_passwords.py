"""Password hashing: argon2id, verified, never stored in the clear."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from onestack.identity import passwords
from onestack.identity.passwords import hash_password, verify_password


def test_hash_verifies_the_right_password_only() -> None:
    hashed = hash_password("correct horse")

    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "correct horsE")


def test_same_password_hashes_differently_each_time() -> None:
    assert hash_password("secret") != hash_password("secret")


def test_missing_or_broken_hash_never_verifies() -> None:
    assert not verify_password(None, "anything")
    assert not verify_password("", "anything")
    assert not verify_password("not-a-hash", "anything")


class _CountingHasher:
    """Stands in for argon2: records how many computations run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = 0
        self.most_inside = 0
        self.calls = 0

    def _compute(self) -> None:
        with self.lock:
            self.inside += 1
            self.calls += 1
            self.most_inside = max(self.most_inside, self.inside)
        time.sleep(0.02)  # long enough for the other threads to try to come in
        with self.lock:
            self.inside -= 1

    def hash(self, password: str) -> str:
        self._compute()
        return "$fake$" + password

    def verify(self, password_hash: str, password: str) -> bool:
        self._compute()
        return password_hash == "$fake$" + password


def test_no_more_hashes_run_at_once_than_there_are_slots(monkeypatch) -> None:
    fake = _CountingHasher()
    monkeypatch.setattr(passwords, "_hasher", fake)
    calls = [
        lambda: hash_password("new"),  # user or application-credential creation
        lambda: verify_password("$fake$right", "right"),  # login
        lambda: verify_password(None, "anything"),  # unknown user: a dummy hash
    ] * (passwords.HASH_SLOTS + 2)

    with ThreadPoolExecutor(len(calls)) as pool:
        for future in [pool.submit(call) for call in calls]:
            future.result()

    assert fake.calls == len(calls)
    assert fake.most_inside == passwords.HASH_SLOTS


def test_generated_passwords_never_look_like_a_command_line_option() -> None:
    # Regression: one in 64 generated passwords began with "-", and
    # `openstack user password set --original-password <it>` then failed to parse.
    from onestack.identity.bootstrap import _new_password

    passwords = [_new_password() for _ in range(2000)]
    assert not [p for p in passwords if p.startswith("-")]
    assert len(set(passwords)) == len(passwords)
