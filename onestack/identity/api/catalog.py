"""/v3/regions, /v3/services and /v3/endpoints."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
