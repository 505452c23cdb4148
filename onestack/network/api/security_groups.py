"""/v2.0/security-groups and /v2.0/security-group-rules."""

from __future__ import annotations

from onestack.network.api import crud
from onestack.network.api.schemas import (
    SecurityGroupCreateBody,
    SecurityGroupRuleCreateBody,
    SecurityGroupUpdateBody,
)

GROUPS = crud.Collection(
    singular="security_group",
    plural="security_groups",
    path="security-groups",
    records=lambda m: m.security_groups,
    create_body=SecurityGroupCreateBody,
    update_body=SecurityGroupUpdateBody,
    module=__name__,
)
RULES = crud.Collection(
    singular="security_group_rule",
    plural="security_group_rules",
    path="security-group-rules",
    records=lambda m: m.security_group_rules,
    create_body=SecurityGroupRuleCreateBody,
    update_body=None,
    module=__name__,
)
routes = crud.routes(GROUPS) + [r for r in crud.routes(RULES) if "/tags" not in r.path]
