"""The people every fresh cloud has, as `onestack up` creates them, and a test speaking as each.

Their clouds.yaml entries are onestack's own (`onestack`, `onestack-demo`,
`onestack-system-admin`); a `RunningCloud` maps them onto its own entry's names.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.functional.cloud import Cloud
from tests.functional.identity_api import IdentityClient, issue, project_scope
from tests.functional.image_api import ImageClient


@dataclass(frozen=True)
class Persona:
    user: str
    project: str | None  # None: system scope
    entry: str  # the clouds.yaml entry `openstack --os-cloud` takes


ADMIN = Persona(user="admin", project="admin", entry="onestack")
DEMO = Persona(user="demo", project="demo", entry="onestack-demo")
SYSTEM_ADMIN = Persona(user="admin", project=None, entry="onestack-system-admin")


def token(cloud: Cloud, persona: Persona) -> str:
    scope = project_scope(persona.project) if persona.project else {"system": {"all": True}}
    return issue(cloud, persona.user, scope)


def identity_client(cloud: Cloud, persona: Persona) -> IdentityClient:
    """Plain HTTP to /identity/v3 as `persona`."""
    return IdentityClient(cloud, token(cloud, persona))


def image_client(cloud: Cloud, persona: Persona) -> ImageClient:
    """Plain HTTP to /image/v2 as `persona` (project-scoped personas only)."""
    return ImageClient(cloud, persona.user, persona.project)
