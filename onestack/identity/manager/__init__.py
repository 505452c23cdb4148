"""Identity's logic and its only writes, one manager per kind of resource.

`IdentityManager` builds them all over one `IdentityDeps` (database, notifier, settings); the
API layer reaches each through it (`manager.projects.create(...)`) and never touches the
tables itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from onestack.common.bus import Notifier
from onestack.common.db import Database
from onestack.identity import keys
from onestack.identity.accounts import ACCOUNTS, DEFAULT_DOMAIN_ID
from onestack.identity.manager.access_rules import AccessRuleManager
from onestack.identity.manager.app_credentials import ApplicationCredentialManager
from onestack.identity.manager.assignments import AssignmentManager
from onestack.identity.manager.base import IdentityDeps
from onestack.identity.manager.catalog import CatalogManager
from onestack.identity.manager.credentials import CredentialManager
from onestack.identity.manager.domain_config import DomainConfigManager
from onestack.identity.manager.domains import DomainManager
from onestack.identity.manager.endpoint_filter import EndpointFilterManager
from onestack.identity.manager.groups import GroupManager
from onestack.identity.manager.limits import LimitManager
from onestack.identity.manager.lookup import NamedRef, Ref
from onestack.identity.manager.oauth import OAuthManager
from onestack.identity.manager.projects import ProjectFilters, ProjectManager
from onestack.identity.manager.roles import RoleManager
from onestack.identity.manager.stored_policies import StoredPolicyManager
from onestack.identity.manager.tokens import (
    AuthRequest,
    CatalogEndpoint,
    CatalogEntry,
    TokenManager,
    TokenView,
)
from onestack.identity.manager.trusts import TrustManager
from onestack.identity.manager.users import UserManager
from onestack.identity.tokens import TokenFormat
from onestack.settings import IdentitySettings

__all__ = [
    "AuthRequest",
    "CatalogEndpoint",
    "CatalogEntry",
    "CloudAdmin",
    "IdentityManager",
    "NamedRef",
    "Ref",
    "TokenView",
]


@dataclass(frozen=True)
class CloudAdmin:
    """The bootstrap admin user on the admin project: who owns the cloud's own resources."""

    user_id: str
    user_domain_id: str
    project_id: str
    project_domain_id: str


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
        self.stored_policies = StoredPolicyManager(deps)
        self.trusts = TrustManager(deps)
        self.endpoint_filter = EndpointFilterManager(deps)
        self.domain_config = DomainConfigManager(deps)
        self.oauth = OAuthManager(deps, self.credentials)

    def cloud_admin(self) -> CloudAdmin:
        """The bootstrap admin on the bootstrap admin project: who owns what the cloud makes
        on its own behalf (its guest images)."""
        admin = ACCOUNTS[0]
        filters = ProjectFilters(name=admin.project, domain_id=DEFAULT_DOMAIN_ID)
        project = self.projects.list(filters)[0].project
        user = self.users.list(name=admin.user, domain_id=DEFAULT_DOMAIN_ID)[0]
        return CloudAdmin(user.user_id, user.domain_id, project.project_id, DEFAULT_DOMAIN_ID)
