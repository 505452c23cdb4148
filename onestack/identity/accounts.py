"""The accounts the bootstrap creates in every cloud: who they are, not how they are made.

Below both `bootstrap.py` (which creates them) and the manager (which finds them for work the
cloud does on its own behalf, `IdentityManager.cloud_admin()`).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_DOMAIN_ID = "default"


@dataclass(frozen=True)
class Account:
    """A bootstrap user: name, project and the role it holds there."""

    user: str
    project: str
    role: str
    system_role: str | None = None


ACCOUNTS = (
    Account("admin", "admin", "admin", system_role="admin"),
    Account("demo", "demo", "member"),
)
