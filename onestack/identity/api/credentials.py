"""/v3/credentials."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
