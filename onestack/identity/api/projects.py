"""/v3/projects (hierarchy, tags) and /v3/users/{user_id}/projects."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
