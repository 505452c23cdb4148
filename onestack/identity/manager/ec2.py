"""EC2 credentials (Keystone's OS-EC2) and EC2 token issue.

An EC2 credential is an access/secret pair kept as a credential of type "ec2" (blob
`{"access", "secret", "trust_id"}`, id = sha256 of the access key), so /v3/credentials shows
the same records. Writes go through `CredentialManager`, tokens through `TokenManager`;
signatures are checked by `identity.ec2sig`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from onestack.common.context import RequestContext
from onestack.identity import ec2sig, errors
from onestack.identity.manager.credentials import CredentialManager, CredentialView
from onestack.identity.manager.tokens import TokenManager, TokenView
from onestack.identity.models import Project, User

TOKEN_METHOD = "ec2credential"


@dataclass(frozen=True)
class Ec2Credential:
    access: str
    secret: str | None
    user_id: str
    project_id: str | None
    trust_id: str | None = None


def credential_id(access: str) -> str:
    return hashlib.sha256(access.encode()).hexdigest()


class Ec2Manager:
    """EC2 access/secret pairs of one user, and tokens for requests signed with them."""

    def __init__(self, credentials: CredentialManager, tokens: TokenManager) -> None:
        self.credentials = credentials
        self.tokens = tokens

    def create(self, ctx: RequestContext, user_id: str, project_id: str) -> Ec2Credential:
        """A new random pair for `user_id` on `project_id`; 404 when either is unknown."""
        self._check_exists(user_id, project_id)
        blob = {"access": uuid.uuid4().hex, "secret": uuid.uuid4().hex, "trust_id": None}
        fields = {
            "user_id": user_id,
            "project_id": project_id,
            "type": "ec2",
            "blob": json.dumps(blob),
        }
        return _ec2(self.credentials.create(ctx, fields))

    def list(self, user_id: str) -> list[Ec2Credential]:
        self._check_exists(user_id)
        return [_ec2(c) for c in self.credentials.list(user_id=user_id, type="ec2")]

    def get(self, user_id: str, access: str) -> Ec2Credential:
        """The user's pair with this access key; CredentialNotFound (404) otherwise."""
        self._check_exists(user_id)
        found = self._find(access)
        if found is None or found.user_id != user_id:
            raise errors.CredentialNotFound(access)
        return found

    def delete(self, ctx: RequestContext, user_id: str, access: str) -> None:
        self.get(user_id, access)
        self.credentials.delete(ctx, credential_id(access))

    def authenticate(self, request: ec2sig.SignedRequest) -> TokenView:
        """A project-scoped token when `request` is signed with a stored secret; 401 if not."""
        found = self._find(request.access)
        if found is None or not found.secret or not found.project_id:
            raise errors.AuthFailed("EC2 access key not found.")
        try:
            ec2sig.verify(request, found.secret)
        except ec2sig.InvalidSignature as exc:
            raise errors.AuthFailed("EC2 signature does not match or has expired.") from exc
        return self.tokens.issue_for_project(found.user_id, found.project_id, TOKEN_METHOD)

    def authenticate_s3(self, access: str, string_to_sign: bytes, signature: str) -> TokenView:
        """POST /v3/s3tokens: a project-scoped token when an S3 front end's string to sign was
        signed with the stored secret of `access`; 401 if not."""
        found = self._find(access)
        if found is None or not found.secret or not found.project_id:
            raise errors.AuthFailed("EC2 access key not found.")
        try:
            ec2sig.verify_s3_token(string_to_sign, signature, found.secret)
        except ec2sig.InvalidSignature as exc:
            raise errors.AuthFailed("S3 signature does not match.") from exc
        return self.tokens.issue_for_project(found.user_id, found.project_id, TOKEN_METHOD)

    def _find(self, access: str) -> Ec2Credential | None:
        try:
            view = self.credentials.get(credential_id(access))
        except errors.CredentialNotFound:
            return None
        if view.type.lower() != "ec2":
            return None
        found = _ec2(view)
        return found if found.access == access else None

    def _check_exists(self, user_id: str, project_id: str | None = None) -> None:
        with self.credentials.db.reader() as session:
            if session.get(User, user_id) is None:
                raise errors.UserNotFound(user_id)
            if project_id is not None and session.get(Project, project_id) is None:
                raise errors.ProjectNotFound(project_id)


def _ec2(view: CredentialView) -> Ec2Credential:
    blob = _blob(view.blob)
    return Ec2Credential(
        access=str(blob.get("access", "")),
        secret=_str_or_none(blob.get("secret")),
        user_id=view.user_id,
        project_id=view.project_id,
        trust_id=_str_or_none(blob.get("trust_id")),
    )


def _blob(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
