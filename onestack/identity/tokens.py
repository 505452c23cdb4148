"""The token format: non-persistent, authenticated and encrypted (Fernet over msgpack).

A token carries who (user id), how (methods), for what (scope), when (issued/expires), its
audit ids and the application credential or trust it was obtained with, if any; everything else
(roles, catalog) is looked up at validation, as Keystone does, so a removed role takes effect
at once. Keys live in `<state_dir>/fernet-keys` (see `keys.py`): the highest-numbered key
signs, every key verifies, so keys rotate without breaking tokens.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgpack
from cryptography.fernet import InvalidToken

from onestack.identity.errors import InvalidToken as InvalidTokenError
from onestack.identity.keys import KeyRing, StaticKeys

FORMAT_VERSION = 1
SCOPES = ("unscoped", "project", "domain", "system")


@dataclass(frozen=True)
class TokenPayload:
    """What a token says, once decrypted."""

    user_id: str
    methods: tuple[str, ...]
    scope: str
    target_id: str | None
    issued_at: datetime
    expires_at: datetime
    audit_ids: tuple[str, ...] = field(default_factory=tuple)
    # The application credential the token was obtained with; validation re-checks it.
    app_cred_id: str | None = None
    # The trust a trust-scoped token uses (OS-TRUST); validation re-checks it.
    trust_id: str | None = None

    @property
    def audit_id(self) -> str:
        return self.audit_ids[0]


def new_audit_id() -> str:
    """16 random bytes as unpadded URL-safe base64, the shape Keystone's audit ids have."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


class TokenFormat:
    """Turns payloads into token strings and back; `decode` rejects tampered or expired ones."""

    def __init__(self, keys: KeyRing | StaticKeys | list[bytes]) -> None:
        self._keys = StaticKeys(keys) if isinstance(keys, list) else keys

    def encode(self, payload: TokenPayload) -> str:
        packed = msgpack.packb(
            [
                FORMAT_VERSION,
                _pack_id(payload.user_id),
                list(payload.methods),
                SCOPES.index(payload.scope),
                _pack_id(payload.target_id) if payload.target_id else None,
                payload.issued_at.timestamp(),
                payload.expires_at.timestamp(),
                [_unb64(audit_id) for audit_id in payload.audit_ids],
                # Optional trailing fields: tokens without them (issued before) still decode.
                *_optional(payload),
            ]
        )
        return self._keys.fernet().encrypt(packed).rstrip(b"=").decode()

    def decode(self, token: str, now: datetime | None = None) -> TokenPayload:
        try:
            raw = token.encode("ascii")
            packed = self._decrypt(raw + b"=" * (-len(raw) % 4))
            fields = msgpack.unpackb(packed)
            payload = _unpack(fields)
        except (InvalidToken, UnicodeError, ValueError, TypeError, IndexError) as exc:
            raise InvalidTokenError() from exc
        if payload.expires_at <= (now or datetime.now(UTC)):
            raise InvalidTokenError("The token has expired.")
        return payload

    def _decrypt(self, token: bytes) -> bytes:
        try:
            return self._keys.fernet().decrypt(token)
        except InvalidToken:
            # Perhaps signed by a key another process just rotated in, unseen here so far.
            if not self._keys.refresh():
                raise
            return self._keys.fernet().decrypt(token)


def _unpack(fields: list) -> TokenPayload:  # type: ignore[type-arg]
    version, user_id, methods, scope, target, issued, expires, audit_ids, *optional = fields
    if len(optional) > 2:
        raise ValueError("too many token fields")
    app_cred, trust = (*optional, None, None)[:2]
    if version != FORMAT_VERSION:
        raise ValueError(f"unknown token format {version}")
    return TokenPayload(
        user_id=_unpack_id(user_id),
        methods=tuple(methods),
        scope=SCOPES[scope],
        target_id=_unpack_id(target) if target is not None else None,
        issued_at=datetime.fromtimestamp(issued, UTC),
        expires_at=datetime.fromtimestamp(expires, UTC),
        audit_ids=tuple(_b64(audit_id) for audit_id in audit_ids),
        app_cred_id=_unpack_id(app_cred) if app_cred is not None else None,
        trust_id=_unpack_id(trust) if trust is not None else None,
    )


def _optional(payload: TokenPayload) -> list[bytes | str | None]:
    """[app credential] or [app credential or None, trust]: nothing when neither is set."""
    if payload.trust_id:
        app_cred = _pack_id(payload.app_cred_id) if payload.app_cred_id else None
        return [app_cred, _pack_id(payload.trust_id)]
    return [_pack_id(payload.app_cred_id)] if payload.app_cred_id else []


def _pack_id(value: str) -> bytes | str:
    """UUID-hex ids travel as 16 bytes, anything else (like "default") as text."""
    if len(value) == 32:
        try:
            packed = bytes.fromhex(value)
        except ValueError:
            return value
        if packed.hex() == value:
            return packed
    return value


def _unpack_id(value: bytes | str) -> str:
    return value.hex() if isinstance(value, bytes) else value


def _unb64(audit_id: str) -> bytes:
    return base64.urlsafe_b64decode(audit_id + "=" * (-len(audit_id) % 4))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
