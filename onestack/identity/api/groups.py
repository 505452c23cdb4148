"""/v3/groups and group membership."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
