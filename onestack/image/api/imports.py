"""Interoperable import over HTTP: PUT /v2/images/{id}/stage, POST /v2/images/{id}/import
(202; an image agent does the work, `common.agent`) and GET /v2/images/{id}/tasks."""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.errors import NotFound
from onestack.common.http import JSONResponse
from onestack.image import errors
from onestack.image.api import render
from onestack.image.api.common import enforce_on_image, json_object, manager, media_type
from onestack.image.api.data import OCTET_STREAM, _body, _content_length
from onestack.image.manager import ImportRequest
from onestack.settings import ImageSettings


async def stage(request: Request) -> Response:
    if "glance-direct" not in manager(request).settings.import_methods:
        raise NotFound("'glance-direct' method is not available at this site.")
    who, image = enforce_on_image(request, "modify_image")
    if media_type(request) != OCTET_STREAM:
        raise errors.UnsupportedMediaType(media_type(request), OCTET_STREAM)
    declared = _declared_size(request)
    try:
        await manager(request).staging.stage(
            who, image.image_id, _body(request), _content_length(request), declared
        )
    except ClientDisconnect as exc:
        raise errors.UploadInterrupted() from exc
    return Response(status_code=204)


def _declared_size(request: Request) -> int | None:
    raw = request.headers.get("x-openstack-image-size")
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise errors.InvalidParameter("X-OpenStack-Image-Size must be a number of bytes.")
    return int(raw)


async def import_image(request: Request) -> Response:
    body = await json_object(request)
    wanted = parse_import(body, request.headers.get("x-image-meta-store"), _settings(request))
    action = "copy_image" if wanted.method == "copy-image" else "modify_image"
    who, image = enforce_on_image(request, action)
    manager(request).imports.start(who, image.image_id, wanted)  # queued for the agent
    return Response(status_code=202)


def _settings(request: Request) -> ImageSettings:
    return manager(request).settings


def parse_import(
    body: dict[str, Any], header_store: str | None, settings: ImageSettings
) -> ImportRequest:
    """The import body checked as Glance checks it (400 naming what is wrong)."""
    method = body.get("method")
    if not isinstance(method, dict):
        raise errors.InvalidParameter("Import request requires a 'method' field.")
    name = method.get("name")
    if not isinstance(name, str):
        raise errors.InvalidParameter("Import request requires a 'name' field.")
    if name not in settings.import_methods:
        raise errors.ImportMethodNotEnabled(name, settings.import_methods)
    for flag in ("all_stores", "all_stores_must_succeed"):
        if flag in body and not isinstance(body[flag], bool):
            raise errors.InvalidParameter(f"'{flag}' must be boolean value only")
    stores = body.get("stores")
    if stores is not None and (
        not isinstance(stores, list) or not all(isinstance(s, str) for s in stores) or not stores
    ):
        raise errors.InvalidParameter("'stores' must be a non-empty list of store identifiers.")
    return ImportRequest(
        method=name,
        stores=stores,
        all_stores=body.get("all_stores", False),
        all_stores_must_succeed=body.get("all_stores_must_succeed", True),
        header_store=header_store,
        body=body,
    )


async def list_tasks(request: Request) -> Response:
    who, image = enforce_on_image(request, "get_image")
    tasks = manager(request).imports.tasks(who, image.image_id)
    return JSONResponse({"tasks": [render.task(task) for task in tasks]})


routes = [
    Route("/v2/images/{image_id}/stage", stage, methods=["PUT"]),
    Route("/v2/images/{image_id}/import", import_image, methods=["POST"]),
    Route("/v2/images/{image_id}/tasks", list_tasks, methods=["GET"]),
]
