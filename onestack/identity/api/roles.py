"""/v3/roles, domain-specific roles, implied roles and /v3/role_inferences."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
