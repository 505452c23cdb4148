"""Credentials, with the blob encrypted at rest."""

from __future__ import annotations

from onestack.identity.manager.base import Store


class CredentialManager(Store):
    pass
