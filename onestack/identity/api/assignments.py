"""Grants (/v3/projects|domains/.../roles, /v3/system/..., OS-INHERIT) and /v3/role_assignments."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
