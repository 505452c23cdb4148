"""Image records over HTTP: create, list, show, patch, delete, tags and (de)activation."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.image import errors
from onestack.image.api import listing, patch, render
from onestack.image.api.common import (
    enforce,
    enforce_on_image,
    json_object,
    manager,
    media_type,
)
from onestack.image.models import Image


def _image_response(record: Image, status: int = 200) -> Response:
    return JSONResponse(render.image(record), status_code=status)


async def create(request: Request) -> Response:
    who = enforce(request, "add_image")
    attributes = await json_object(request)
    record = manager(request).images.create(who, attributes)
    response = _image_response(record, 201)
    response.headers["Location"] = f"/v2/images/{record.image_id}"
    response.headers["OpenStack-image-store-ids"] = ",".join(manager(request).stores.ids)
    methods = manager(request).settings.import_methods
    if methods:
        response.headers["OpenStack-image-import-methods"] = ",".join(methods)
    return response


async def list_images(request: Request) -> Response:
    who = enforce(request, "get_images")
    query = listing.parse(request.query_params, manager(request).settings)
    records = manager(request).images.list(who, query)
    body: dict[str, Any] = {
        "images": [render.image(r) for r in records],
        "first": "/v2/images",
        "schema": "/v2/schemas/images",
    }
    if records and len(records) == query.limit:
        body["next"] = listing.next_link(request.query_params, records[-1].image_id)
    return JSONResponse(body)


async def show(request: Request) -> Response:
    _, record = enforce_on_image(request, "get_image")
    return _image_response(record)


async def update(request: Request) -> Response:
    who, record = enforce_on_image(request, "modify_image")
    given = media_type(request)
    if given not in patch.MEDIA_TYPES:
        raise errors.UnsupportedMediaType(given, patch.MEDIA_TYPE)
    changes = patch.parse(await request.body(), given)
    return _image_response(manager(request).images.update(who, record.image_id, changes))


async def delete(request: Request) -> Response:
    who, record = enforce_on_image(request, "delete_image")
    manager(request).images.delete(who, record.image_id)
    return Response(status_code=204)


async def add_tag(request: Request) -> Response:
    who, record = enforce_on_image(request, "modify_image")
    manager(request).images.add_tag(who, record.image_id, request.path_params["tag"])
    return Response(status_code=204)


async def remove_tag(request: Request) -> Response:
    who, record = enforce_on_image(request, "modify_image")
    manager(request).images.remove_tag(who, record.image_id, request.path_params["tag"])
    return Response(status_code=204)


async def deactivate(request: Request) -> Response:
    who, record = enforce_on_image(request, "deactivate")
    manager(request).images.deactivate(who, record.image_id)
    return Response(status_code=204)


async def reactivate(request: Request) -> Response:
    who, record = enforce_on_image(request, "reactivate")
    manager(request).images.reactivate(who, record.image_id)
    return Response(status_code=204)


routes = [
    Route("/v2/images", create, methods=["POST"]),
    Route("/v2/images", list_images, methods=["GET"]),
    Route("/v2/images/{image_id}", show, methods=["GET"]),
    Route("/v2/images/{image_id}", update, methods=["PATCH"]),
    Route("/v2/images/{image_id}", delete, methods=["DELETE"]),
    Route("/v2/images/{image_id}/tags/{tag}", add_tag, methods=["PUT"]),
    Route("/v2/images/{image_id}/tags/{tag}", remove_tag, methods=["DELETE"]),
    Route("/v2/images/{image_id}/actions/deactivate", deactivate, methods=["POST"]),
    Route("/v2/images/{image_id}/actions/reactivate", reactivate, methods=["POST"]),
]
