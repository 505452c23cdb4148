"""Stored policy blobs (/v3/policies): opaque documents with a MIME type, kept and served.

Keystone's policy API is storage only: nothing here is ever evaluated (the rules onestack
enforces are each service's policy.yaml). Unknown attributes are kept in `extra`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.identity import errors
from onestack.identity.manager.base import IdentityBase
from onestack.identity.models import StoredPolicy

COLUMNS = frozenset({"type", "blob"})


class StoredPolicyManager(IdentityBase):
    def get(self, policy_id: str) -> StoredPolicy:
        with self.db.reader() as session:
            row = session.get(StoredPolicy, policy_id)
            if row is None:
                raise errors.PolicyNotFound(policy_id)
            return row

    def list(self, type: str | None = None) -> list[StoredPolicy]:
        query = select(StoredPolicy).order_by(StoredPolicy.policy_id)
        if type is not None:
            query = query.where(StoredPolicy.type == type)
        with self.db.reader() as session:
            return list(session.scalars(query))

    def create(self, ctx: RequestContext, fields: Mapping[str, Any]) -> StoredPolicy:
        row = StoredPolicy(policy_id=uuid.uuid4().hex, extra={})
        _apply(row, fields)
        with self.writing() as session:
            session.add(row)
        self.notify(ctx, "policy", "created", row.policy_id)
        return row

    def update(
        self, ctx: RequestContext, policy_id: str, fields: Mapping[str, Any]
    ) -> StoredPolicy:
        with self.writing() as session:
            row = session.get(StoredPolicy, policy_id)
            if row is None:
                raise errors.PolicyNotFound(policy_id)
            _apply(row, fields)
        self.notify(ctx, "policy", "updated", policy_id)
        return row

    def delete(self, ctx: RequestContext, policy_id: str) -> None:
        with self.writing() as session:
            row = session.get(StoredPolicy, policy_id)
            if row is None:
                raise errors.PolicyNotFound(policy_id)
            session.delete(row)
        self.notify(ctx, "policy", "deleted", policy_id)


def _apply(row: StoredPolicy, fields: Mapping[str, Any]) -> None:
    for key, value in fields.items():
        if key in COLUMNS:
            setattr(row, key, value)
    extra = {k: v for k, v in fields.items() if k not in COLUMNS and k != "id"}
    row.extra = {**(row.extra or {}), **extra}
