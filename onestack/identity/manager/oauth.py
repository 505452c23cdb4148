"""OAuth 1.0a consumers (OS-OAUTH1): applications registered to ask users for delegated access.

A consumer's secret is generated here, shown once at creation and kept encrypted with the
credential keys (the OAuth signature needs it back). Request and access tokens, and the
`oauth1` auth method, are not implemented yet: the README and docs/conformance.md say so.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.identity import errors
from onestack.identity.manager.base import IdentityBase, IdentityDeps
from onestack.identity.manager.credentials import CredentialManager
from onestack.identity.models import OAuthConsumer


@dataclass(frozen=True)
class ConsumerView:
    consumer_id: str
    description: str | None
    extra: dict[str, Any]
    secret: str | None = None  # only when just created


class OAuthManager(IdentityBase):
    def __init__(self, deps: IdentityDeps, credentials: CredentialManager) -> None:
        super().__init__(deps)
        self.credentials = credentials  # its key ring encrypts consumer secrets

    def create_consumer(self, ctx: RequestContext, fields: Mapping[str, Any]) -> ConsumerView:
        secret = secrets.token_urlsafe(32)
        row = OAuthConsumer(
            consumer_id=uuid.uuid4().hex,
            description=fields.get("description"),
            encrypted_secret=self.credentials.encrypt(secret),
            extra={k: v for k, v in fields.items() if k not in ("description", "secret", "id")},
        )
        with self.writing() as session:
            session.add(row)
        self.notify(ctx, "OS-OAUTH1:consumer", "created", row.consumer_id)
        return _view(row, secret)

    def get_consumer(self, consumer_id: str) -> ConsumerView:
        with self.db.reader() as session:
            return _view(_consumer(session, consumer_id))

    def list_consumers(self) -> list[ConsumerView]:
        with self.db.reader() as session:
            rows = session.scalars(select(OAuthConsumer).order_by(OAuthConsumer.consumer_id))
            return [_view(row) for row in rows]

    def update_consumer(
        self, ctx: RequestContext, consumer_id: str, fields: Mapping[str, Any]
    ) -> ConsumerView:
        with self.writing() as session:
            row = _consumer(session, consumer_id)
            if "description" in fields:
                row.description = fields["description"]
            extra = {k: v for k, v in fields.items() if k != "description"}
            row.extra = {**(row.extra or {}), **extra}
        self.notify(ctx, "OS-OAUTH1:consumer", "updated", consumer_id)
        return _view(row)

    def delete_consumer(self, ctx: RequestContext, consumer_id: str) -> None:
        with self.writing() as session:
            session.delete(_consumer(session, consumer_id))
        self.notify(ctx, "OS-OAUTH1:consumer", "deleted", consumer_id)


def _consumer(session: Any, consumer_id: str) -> OAuthConsumer:
    row = session.get(OAuthConsumer, consumer_id)
    if row is None:
        raise errors.ConsumerNotFound(consumer_id)
    return row


def _view(row: OAuthConsumer, secret: str | None = None) -> ConsumerView:
    return ConsumerView(row.consumer_id, row.description, dict(row.extra or {}), secret)
