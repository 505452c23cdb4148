"""Credentials, with the blob encrypted at rest.

The blob is encrypted with Fernet keys kept in `<state_dir>/credential-keys` (the same layout
as the token keys: numbered files, the highest encrypts, every key decrypts, so keys can be
rotated). The repository is created, owner-only, the first time a credential is touched.
An ec2 credential's blob is JSON with an `access` key; its id is the sha256 of that key, so
an EC2 signature can find it, and it must name a project. As in Keystone, an update may
replace the key pair and the id stays (an EC2 signature then finds it no more).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.errors import BadRequest, Conflict, OneStackError
from onestack.identity import errors
from onestack.identity.keys import KeyRing
from onestack.identity.manager.base import IdentityBase, IdentityDeps
from onestack.identity.models import Credential, Project, User

COLUMNS = frozenset({"user_id", "project_id", "type", "blob"})


@dataclass(frozen=True)
class CredentialView:
    """A credential as the API shows it: the blob decrypted."""

    credential_id: str
    user_id: str
    project_id: str | None
    type: str
    blob: str
    extra: dict[str, Any]


class CredentialManager(IdentityBase):
    def __init__(self, deps: IdentityDeps, key_dir: Path) -> None:
        super().__init__(deps)
        self.key_dir = key_dir
        self._keys: KeyRing | None = None

    @property
    def keys(self) -> KeyRing:
        if self._keys is None:
            self._keys = KeyRing(self.key_dir)
        return self._keys

    def encrypt(self, blob: str) -> str:
        return self.keys.fernet().encrypt(blob.encode()).decode()

    def decrypt(self, encrypted: str) -> str:
        try:
            try:
                return self.keys.fernet().decrypt(encrypted.encode()).decode()
            except InvalidToken:
                if not self.keys.refresh():  # encrypted under a key rotated in elsewhere?
                    raise
                return self.keys.fernet().decrypt(encrypted.encode()).decode()
        except InvalidToken as exc:
            # A lost or replaced key repository: nothing the client can fix.
            raise OneStackError(
                "The credential cannot be decrypted with the current keys."
            ) from exc

    def reencrypt_all(self) -> int:
        """Encrypt every blob again under the primary key, after a rotation; returns how many."""
        self.keys.refresh()
        with self.writing() as session:
            rows = session.scalars(select(Credential)).all()
            for row in rows:
                row.encrypted_blob = self.encrypt(self.decrypt(row.encrypted_blob))
        return len(rows)

    def _view(self, row: Credential) -> CredentialView:
        return CredentialView(
            credential_id=row.credential_id,
            user_id=row.user_id,
            project_id=row.project_id,
            type=row.type,
            blob=self.decrypt(row.encrypted_blob),
            extra=dict(row.extra or {}),
        )

    def get(self, credential_id: str) -> CredentialView:
        with self.db.reader() as session:
            row = session.get(Credential, credential_id)
        if row is None:
            raise errors.CredentialNotFound(credential_id)
        return self._view(row)

    def list(self, user_id: str | None = None, type: str | None = None) -> list[CredentialView]:
        query = select(Credential).order_by(Credential.user_id, Credential.credential_id)
        if user_id is not None:
            query = query.where(Credential.user_id == user_id)
        if type is not None:
            query = query.where(Credential.type == type)
        with self.db.reader() as session:
            rows = list(session.scalars(query))
        return [self._view(row) for row in rows]

    def create(self, ctx: RequestContext, fields: Mapping[str, Any]) -> CredentialView:
        values = dict(fields)
        credential_id = _credential_id(values)
        row = Credential(credential_id=credential_id, project_id=None, extra={})
        self._apply(row, values)
        with self.writing(f"Duplicate ID, {credential_id}.") as session:
            _check_references(session, row)
            if session.get(Credential, credential_id) is not None:
                raise Conflict(f"Duplicate ID, {credential_id}.")
            session.add(row)
        self.notify(ctx, "credential", "created", credential_id)
        return self._view(row)

    def update(
        self, ctx: RequestContext, credential_id: str, changes: Mapping[str, Any]
    ) -> CredentialView:
        with self.writing() as session:
            row = session.get(Credential, credential_id)
            if row is None:
                raise errors.CredentialNotFound(credential_id)
            old_type, old_blob = row.type, self.decrypt(row.encrypted_blob)
            self._apply(row, dict(changes))
            if row.type.lower() == "ec2":
                new_blob = changes.get("blob", old_blob)
                _check_ec2({"project_id": row.project_id, "blob": new_blob})
                if old_type.lower() != "ec2":
                    # An ec2 credential's id is the hash of its access key.
                    raise BadRequest(
                        "A credential cannot become an ec2 credential by an update; "
                        "create a new ec2 credential instead."
                    )
                _check_bound_keys(old_blob, new_blob)
            with session.no_autoflush:  # check before the changed row reaches the database
                _check_references(session, row)
        self.notify(ctx, "credential", "updated", credential_id)
        return self._view(row)

    def delete(self, ctx: RequestContext, credential_id: str) -> None:
        with self.writing() as session:
            row = session.get(Credential, credential_id)
            if row is None:
                raise errors.CredentialNotFound(credential_id)
            session.delete(row)
        self.notify(ctx, "credential", "deleted", credential_id)

    def _apply(self, row: Credential, values: dict[str, Any]) -> None:
        extra = dict(row.extra or {})
        for key, value in values.items():
            if key == "blob":
                row.encrypted_blob = self.encrypt(value)
            elif key in COLUMNS:
                setattr(row, key, value)
            else:
                extra[key] = value
        row.extra = extra


def _credential_id(values: Mapping[str, Any]) -> str:
    if str(values.get("type", "")).lower() != "ec2":
        return uuid.uuid4().hex
    _check_ec2(values)
    return hashlib.sha256(_ec2_access(values["blob"]).encode()).hexdigest()


def _check_ec2(values: Mapping[str, Any]) -> None:
    """An ec2 credential names a project and its blob is a JSON object with `access`."""
    if not values.get("project_id"):
        raise BadRequest(
            "Invalid input for field 'credential.project_id': an ec2 credential "
            "requires a project_id."
        )
    _ec2_access(values.get("blob"))


# What ties an ec2 credential to a trust, application credential or OAuth token (Keystone's
# list): an update may change the key pair itself (the id stays), never these.
BOUND_KEYS = ("trust_id", "app_cred_id", "access_token_id", "access_id")


def _check_bound_keys(old_blob: Any, new_blob: Any) -> None:
    old, new = _as_object(old_blob), _as_object(new_blob)
    for key in BOUND_KEYS:
        if old.get(key) != new.get(key):
            raise BadRequest(f"Invalid blob in credential: '{key}' cannot be changed.")


def _as_object(blob: Any) -> dict[str, Any]:
    value = json.loads(blob) if isinstance(blob, str) else blob
    return value if isinstance(value, dict) else {}


def _ec2_access(blob: Any) -> str:
    try:
        document = json.loads(blob) if isinstance(blob, str) else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise BadRequest("Invalid blob in credential: an ec2 blob must be a JSON object.")
    access = document.get("access")
    if not isinstance(access, str) or not access:
        raise BadRequest("Invalid blob in credential: an ec2 blob needs an 'access' key.")
    return access


def _check_references(session: Session, row: Credential) -> None:
    if session.get(User, row.user_id) is None:
        raise BadRequest(f"Invalid input for field 'credential.user_id': no user {row.user_id}.")
    if row.project_id is not None and session.get(Project, row.project_id) is None:
        raise BadRequest(
            f"Invalid input for field 'credential.project_id': no project {row.project_id}."
        )
