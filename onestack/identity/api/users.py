"""/v3/users and /v3/users/{user_id}/password."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
