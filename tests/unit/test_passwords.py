"""Password hashing: argon2id, verified, never stored in the clear."""

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
