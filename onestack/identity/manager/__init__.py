"""Identity's logic and its only writes, one manager per kind of resource.

`IdentityManager` builds them all over one `IdentityDeps` (database, notifier, settings); the
API layer reaches each through it (`manager.projects.create(...)`) and never touches the
tables itself.
"""

from __future__ import annotations

from pathlib import Path

from onestack.common.bus import Notifier
from onestack.common.db import Database
from onestack.identity import keys
from onestack.identity.manager.access_rules import AccessRuleManager
from onestack.identity.manager.app_credentials import ApplicationCredentialManager
from onestack.identity.manager.assignments import AssignmentManager
from onestack.identity.manager.base import IdentityDeps
from onestack.identity.manager.catalog import CatalogManager
from onestack.identity.manager.credentials import CredentialManager
from onestack.identity.manager.domains import DomainManager
from onestack.identity.manager.groups import GroupManager
from onestack.identity.manager.limits import LimitManager
from onestack.identity.manager.lookup import NamedRef, Ref
from onestack.identity.manager.projects import ProjectManager
from onestack.identity.manager.roles import RoleManager
from onestack.identity.manager.tokens import (
    AuthRequest,
    CatalogEndpoint,
    CatalogEntry,
    TokenManager,
    TokenView,
)
from onestack.identity.manager.users import UserManager
from onestack.identity.tokens import TokenFormat
from onestack.settings import IdentitySettings

__all__ = [
    "AuthRequest",
    "CatalogEndpoint",
    "CatalogEntry",
    "IdentityManager",
    "NamedRef",
    "Ref",
    "TokenView",
]


class IdentityManager:
    """Every identity manager over one database, notifier and settings."""

    def __init__(
        self,
        db: Database,
        token_format: TokenFormat,
        settings: IdentitySettings,
        notifier: Notifier,
        state_dir: Path,
    ) -> None:
        self.db = db
        self.settings = settings
        self.state_dir = state_dir  # where key repositories live (tokens, credentials)
        deps = IdentityDeps(db, notifier, settings)
        self.tokens = TokenManager(deps, token_format)
        self.domains = DomainManager(deps)
        self.projects = ProjectManager(deps)
        self.users = UserManager(deps)
        self.groups = GroupManager(deps)
        self.roles = RoleManager(deps)
        self.assignments = AssignmentManager(deps)
        self.catalog = CatalogManager(deps)
        self.credentials = CredentialManager(deps, key_dir=state_dir / keys.CREDENTIAL_KEYS)
        # Unified limits; also the quota LimitSource other services enforce with.
        self.limits = LimitManager(deps)
        self.app_credentials = ApplicationCredentialManager(deps)
        self.access_rules = AccessRuleManager(deps)
