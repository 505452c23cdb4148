"""The token format: round trip, tamper detection, expiry and key rotation."""

from datetime import UTC, datetime, timedelta

import msgpack
import pytest
from cryptography.fernet import Fernet

from onestack.identity.errors import InvalidToken
from onestack.identity.keys import load_keys
from onestack.identity.tokens import TokenFormat, TokenPayload, new_audit_id

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def payload(**changes: object) -> TokenPayload:
    fields = dict(
        user_id="36497b44ce144324b9be7dec4a13bebe",
        methods=("password",),
        scope="project",
        target_id="f896fd0e539646148eeaae155c7cb710",
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        audit_ids=(new_audit_id(),),
    )
    fields.update(changes)
    return TokenPayload(**fields)  # type: ignore[arg-type]


def test_round_trip_keeps_every_field() -> None:
    fmt = TokenFormat([Fernet.generate_key()])
    original = payload(methods=("password", "token"), audit_ids=(new_audit_id(), new_audit_id()))

    decoded = fmt.decode(fmt.encode(original), now=NOW)

    assert decoded == original


def test_non_uuid_ids_round_trip() -> None:
    fmt = TokenFormat([Fernet.generate_key()])
    original = payload(scope="domain", target_id="default", user_id="not-a-uuid")

    assert fmt.decode(fmt.encode(original), now=NOW) == original


def test_system_and_unscoped_tokens_round_trip() -> None:
    fmt = TokenFormat([Fernet.generate_key()])
    for scope, target in (("system", "system"), ("unscoped", None)):
        original = payload(scope=scope, target_id=target)
        assert fmt.decode(fmt.encode(original), now=NOW) == original


def test_application_credential_id_round_trips() -> None:
    fmt = TokenFormat([Fernet.generate_key()])
    for app_cred_id in ("0b8a1c5e7f2d4e6a9c3b1d0e2f4a6c8e", "not-a-uuid"):
        original = payload(methods=("application_credential",), app_cred_id=app_cred_id)
        assert fmt.decode(fmt.encode(original), now=NOW) == original


def test_token_without_application_credential_has_the_old_layout() -> None:
    """Tokens issued before the optional field existed still decode, and new ones without an
    application credential are byte-for-byte the old layout (eight fields)."""
    key = Fernet.generate_key()
    fmt = TokenFormat([key])
    token = fmt.encode(payload())

    fields = msgpack.unpackb(Fernet(key).decrypt(token + "=" * (-len(token) % 4)))

    assert len(fields) == 8
    assert fmt.decode(token, now=NOW).app_cred_id is None


def test_token_with_unknown_trailing_fields_is_rejected() -> None:
    key = Fernet.generate_key()
    stamp = NOW.timestamp()
    packed = msgpack.packb([1, "u", ["password"], 0, None, stamp, stamp + 60, [], "a", "b", "c"])
    token = Fernet(key).encrypt(packed).rstrip(b"=").decode()

    with pytest.raises(InvalidToken):
        TokenFormat([key]).decode(token, now=NOW)


@pytest.mark.parametrize(
    ("app_cred_id", "trust_id"),
    [(None, None), ("a" * 32, None), (None, "b" * 32), ("c" * 32, "trust-not-hex")],
)
def test_optional_app_credential_and_trust_round_trip(
    app_cred_id: str | None, trust_id: str | None
) -> None:
    fmt = TokenFormat([Fernet.generate_key()])
    token = fmt.encode(payload(app_cred_id=app_cred_id, trust_id=trust_id))

    decoded = fmt.decode(token, now=NOW)

    assert (decoded.app_cred_id, decoded.trust_id) == (app_cred_id, trust_id)


def test_token_is_url_safe_without_padding() -> None:
    token = TokenFormat([Fernet.generate_key()]).encode(payload())

    assert "=" not in token
    assert len(token) < 255


@pytest.mark.parametrize("position", [0, 10, 60, -1])
def test_tampered_token_is_rejected(position: int) -> None:
    fmt = TokenFormat([Fernet.generate_key()])
    token = fmt.encode(payload())
    flipped = "A" if token[position] != "A" else "B"
    tampered = token[:position] + flipped + token[position + 1 :] if position != -1 else token[:-1]

    with pytest.raises(InvalidToken):
        fmt.decode(tampered, now=NOW)


def test_token_from_another_key_is_rejected() -> None:
    token = TokenFormat([Fernet.generate_key()]).encode(payload())

    with pytest.raises(InvalidToken):
        TokenFormat([Fernet.generate_key()]).decode(token, now=NOW)


def test_expired_token_is_rejected() -> None:
    fmt = TokenFormat([Fernet.generate_key()])
    token = fmt.encode(payload())

    with pytest.raises(InvalidToken, match="expired"):
        fmt.decode(token, now=NOW + timedelta(hours=1, seconds=1))


def test_garbage_is_rejected() -> None:
    fmt = TokenFormat([Fernet.generate_key()])
    for garbage in ("", "x", "gAAAAA", "é" * 40):
        with pytest.raises(InvalidToken):
            fmt.decode(garbage, now=NOW)


def test_old_key_still_verifies_after_a_new_primary_key() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = TokenFormat([old]).encode(payload())

    assert TokenFormat([new, old]).decode(token, now=NOW) == payload(
        audit_ids=TokenFormat([old]).decode(token, now=NOW).audit_ids
    )


def test_load_keys_creates_one_private_key_and_reuses_it(tmp_path) -> None:
    first = load_keys(tmp_path / "keys")
    second = load_keys(tmp_path / "keys")

    assert first == second and len(first) == 1
    assert (tmp_path / "keys" / "1").stat().st_mode & 0o777 == 0o600


def test_load_keys_puts_the_highest_numbered_key_first(tmp_path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "1").write_bytes(b"one")
    (keys / "2").write_bytes(b"two")

    assert load_keys(keys) == [b"two", b"one"]
