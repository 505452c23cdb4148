"""CORS for browsers calling the APIs from another origin (a dashboard, a web console).

Off unless `[cors] allowed_origins` names an origin, so the common case pays nothing. The
headers are the ones OpenStack clients send and read (tokens, request ids, microversions).
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from onestack.settings import CorsSettings

ALLOW_HEADERS = (
    "Content-Type",
    "X-Auth-Token",
    "X-Subject-Token",
    "X-Service-Token",
    "X-Openstack-Request-Id",
    "OpenStack-API-Version",
    "X-OpenStack-Nova-API-Version",
    "X-Image-Meta-Store",
)
EXPOSE_HEADERS = (
    "X-Auth-Token",
    "X-Subject-Token",
    "X-Service-Token",
    "X-Openstack-Request-Id",
    "OpenStack-API-Version",
    "Location",
    "ETag",
)


def with_cors(app: ASGIApp, settings: CorsSettings) -> ASGIApp:
    if not settings.allowed_origins:
        return app
    return CORSMiddleware(
        app,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=list(ALLOW_HEADERS),
        expose_headers=list(EXPOSE_HEADERS),
        allow_credentials=settings.allow_credentials,
        max_age=settings.max_age_s,
    )
