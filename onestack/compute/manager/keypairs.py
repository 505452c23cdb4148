"""Keypairs: a user's SSH public keys, imported or generated (the private half is shown once
and never kept). Fingerprints as Nova computes them: MD5 of the key blob, colon-separated hex."""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from onestack.compute import errors
from onestack.compute.manager.base import ComputeBase, now
from onestack.compute.models import Keypair

INVALID = "Keypair data is invalid: failed to generate fingerprint"
MAX_RSA_BITS = 16384
KEY_TYPES = (
    "ssh-rsa",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-dss",
)


def fingerprint(public_key: str) -> str:
    """The key's MD5 fingerprint; InvalidInput unless it is an OpenSSH public key that
    parses (RSA of at most 16384 bits, ECDSA or Ed25519)."""
    parts = public_key.strip().split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise errors.InvalidInput(INVALID)
    try:
        blob = base64.b64decode(parts[1], validate=True)
        key = serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
    except (binascii.Error, ValueError, UnsupportedAlgorithm) as exc:
        raise errors.InvalidInput(INVALID) from exc
    if isinstance(key, rsa.RSAPublicKey) and key.key_size > MAX_RSA_BITS:
        raise errors.InvalidInput(INVALID)
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def generate(key_type: str, comment: str) -> tuple[str, str]:
    """A new (public OpenSSH line, private PEM) pair: RSA 2048 for `ssh`, else ed25519."""
    if key_type == "x509":
        raise errors.InvalidInput("Generating x509 keypairs is not supported.")
    key = rsa.generate_private_key(65537, 2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return f"{public} {comment}", private


class KeypairManager(ComputeBase):
    def list(self, user_id: str) -> list[Keypair]:
        with self.db.reader() as session:
            query = select(Keypair).where(Keypair.user_id == user_id).order_by(Keypair.name)
            return list(session.scalars(query))

    def get(self, user_id: str, name: str) -> Keypair:
        with self.db.reader() as session:
            found = session.get(Keypair, (user_id, name))
        if found is None:
            raise errors.KeypairNotFound(name, user_id)
        return found

    def find(self, user_id: str, name: str) -> Keypair | None:
        with self.db.reader() as session:
            return session.get(Keypair, (user_id, name))

    def create(
        self, user_id: str, name: str, key_type: str, public_key: str | None
    ) -> tuple[Keypair, str | None]:
        """Import `public_key`, or generate one (the private key is returned, never kept)."""
        private = None
        if public_key is None:
            public_key, private = generate(key_type, "Generated-by-Nova")
        keypair = Keypair(
            user_id=user_id,
            name=name,
            key_type=key_type,
            public_key=public_key.strip(),
            fingerprint=fingerprint(public_key),
            created_at=now(),
        )
        with self.writing(errors.DuplicateKeypair(name)) as session:
            if session.get(Keypair, (user_id, name)) is not None:
                raise errors.DuplicateKeypair(name)
            session.add(keypair)
        return keypair, private

    def delete(self, user_id: str, name: str) -> None:
        with self.writing() as session:
            found = session.get(Keypair, (user_id, name))
            if found is None:
                raise errors.KeypairNotFound(name, user_id)
            session.delete(found)

    def count(self, user_id: str) -> int:
        return len(self.list(user_id))
