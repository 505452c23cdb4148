"""Image data per store over HTTP: DELETE /v2/stores/{store_id}/{image_id}."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.image.api.common import caller, enforce_also, enforce_on_image, manager


async def delete_from_store(request: Request) -> Response:
    store_id = request.path_params["store_id"]
    caller(request)  # a NUL in the URL is a 400 before the store is looked at
    # An unknown store is a 409 before the image is looked up, as in Glance.
    manager(request).locations.check_store(store_id)
    who, image = enforce_on_image(request, "get_image_location")
    enforce_also(request, who, "delete_image_location", image)
    manager(request).locations.delete_from_store(who, image.image_id, store_id)
    return Response(status_code=204)


routes = [
    Route("/v2/stores/{store_id}/{image_id}", delete_from_store, methods=["DELETE"]),
]
