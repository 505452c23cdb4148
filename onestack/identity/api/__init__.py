"""The identity API (Keystone v3) as an ASGI app, mounted at /identity."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from onestack.common.auth import TokenReader
from onestack.common.errors import OneStackError
from onestack.common.http import service_app
from onestack.common.policy import Policy
from onestack.identity.api import (
    application_credentials,
    assignments,
    auth,
    catalog,
    common,
    credentials,
    domain_config,
    domains,
    ec2,
    endpoint_filter,
    groups,
    limits,
    oauth,
    policies,
    projects,
    roles,
    trusts,
    users,
    versions,
)
from onestack.identity.api.repeat_validations import RepeatValidations, ValidationMemo
from onestack.identity.manager import IdentityManager

MOUNT_PATH = "/identity"

# Every route needs a valid X-Auth-Token before anything else is looked at, but those whose
# endpoint is marked `@public` (version discovery, logging in, EC2 tokens, password change).
ROUTERS = (
    versions,
    auth,
    domain_config,
    domains,
    projects,
    users,
    groups,
    roles,
    assignments,
    catalog,
    credentials,
    limits,
    ec2,
    application_credentials,
    policies,
    trusts,
    endpoint_filter,
    oauth,
)


def render_error(error: OneStackError) -> dict[str, Any]:
    """Keystone's error body."""
    return {"error": {"code": error.status, "title": error.title, "message": error.message}}


def routes() -> list[BaseRoute]:
    """Every route of the identity API, below its mount path."""
    return [route for router in ROUTERS for route in router.routes]


def build_app(manager: IdentityManager, policy: Policy) -> ASGIApp:
    memo = ValidationMemo(auth.validate_route)  # see auth._validation_response
    repeats = RepeatValidations(memo, manager.tokens)
    reader = TokenReader(common.validate_caller, fast_path=repeats)
    app = service_app(routes(), render_error, reader)
    app.state.manager = manager
    app.state.policy = policy
    app.state.validations = memo
    return app
