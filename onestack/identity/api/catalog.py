"""/v3/regions, /v3/services and /v3/endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, StringConstraints, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.errors import BadRequest
from onestack.common.http import JSONResponse
from onestack.identity.api.common import collection, enforce, manager, parse_body, self_link
from onestack.identity.api.fields import Attributes, Description, Envelope, Name
from onestack.identity.models import Endpoint, Region, Service

RegionId = Annotated[str, StringConstraints(min_length=1, max_length=255, strict=True)]
# Keystone's url type: a scheme, a colon, then anything.
Url = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9+.-]+:.+", max_length=225, strict=True)]
Interface = Literal["public", "internal", "admin"]


class Changes(Attributes):
    @model_validator(mode="after")
    def _not_empty(self) -> Changes:
        if not self.model_fields_set and not self.model_extra:
            raise ValueError("at least one attribute must be given")
        return self


class RegionFields(Attributes):
    description: Description | None = None
    parent_region_id: RegionId | None = None


class RegionCreate(RegionFields):
    id: RegionId | None = None


class RegionUpdate(RegionFields, Changes):
    pass


class ServiceCreate(Attributes):
    type: Name
    name: Name | None = None
    description: Description | None = None
    enabled: bool | None = None


class ServiceUpdate(Changes):
    type: Name | None = None
    name: Name | None = None
    description: Description | None = None
    enabled: bool | None = None


class EndpointCreate(Attributes):
    interface: Interface
    service_id: Name
    url: Url
    region_id: RegionId | None = None
    region: RegionId | None = None  # the legacy spelling of region_id
    enabled: bool | None = None


class EndpointUpdate(Changes):
    interface: Interface | None = None
    service_id: Name | None = None
    url: Url | None = None
    region_id: RegionId | None = None
    region: RegionId | None = None
    enabled: bool | None = None


class RegionCreateBody(Envelope):
    region: RegionCreate


class RegionUpdateBody(Envelope):
    region: RegionUpdate


class ServiceCreateBody(Envelope):
    service: ServiceCreate


class ServiceUpdateBody(Envelope):
    service: ServiceUpdate


class EndpointCreateBody(Envelope):
    endpoint: EndpointCreate


class EndpointUpdateBody(Envelope):
    endpoint: EndpointUpdate


def _fields(model: BaseModel, required_keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """The attributes the client sent; a null for a required attribute is a 400."""
    fields = model.model_dump(exclude_unset=True)
    for key in required_keys:
        if key in fields and fields[key] is None:
            raise BadRequest(f"Invalid input for field '{key}': it cannot be null.")
    return fields


# -- rendering -------------------------------------------------------------------------------


def render_region(request: Request, region: Region) -> dict[str, Any]:
    return {
        **region.extra,
        "id": region.region_id,
        "description": region.description,
        "parent_region_id": region.parent_region_id,
        "links": self_link(request, f"regions/{region.region_id}"),
    }


def render_service(request: Request, service: Service) -> dict[str, Any]:
    return {
        **service.extra,
        "id": service.service_id,
        "type": service.type,
        "name": service.name,
        "description": service.description,
        "enabled": service.enabled,
        "links": self_link(request, f"services/{service.service_id}"),
    }


def render_endpoint(request: Request, endpoint: Endpoint) -> dict[str, Any]:
    return {
        **endpoint.extra,
        "id": endpoint.endpoint_id,
        "interface": endpoint.interface,
        "service_id": endpoint.service_id,
        "region_id": endpoint.region_id,
        "region": endpoint.region_id,  # legacy, as Keystone still renders it
        "url": endpoint.url,
        "enabled": endpoint.enabled,
        "links": self_link(request, f"endpoints/{endpoint.endpoint_id}"),
    }


# -- regions ---------------------------------------------------------------------------------


async def list_regions(request: Request) -> Response:
    enforce(request, "identity:list_regions")
    regions = manager(request).catalog.list_regions(
        parent_region_id=request.query_params.get("parent_region_id")
    )
    return collection(request, "regions", (render_region(request, r) for r in regions))


async def create_region(request: Request) -> Response:
    ctx = enforce(request, "identity:create_region")
    body = await parse_body(request, RegionCreateBody)
    region = manager(request).catalog.create_region(ctx, _fields(body.region))
    return JSONResponse({"region": render_region(request, region)}, status_code=201)


async def put_region(request: Request) -> Response:
    """Create a region with the id in the URL (Keystone's PUT /v3/regions/{region_id})."""
    ctx = enforce(request, "identity:create_region")
    body = await parse_body(request, RegionCreateBody)
    region_id = request.path_params["region_id"]
    fields = _fields(body.region)
    if fields.get("id") not in (None, region_id):
        raise BadRequest(f"Conflicting region IDs specified: {fields['id']!r} != {region_id!r}.")
    fields["id"] = region_id
    region = manager(request).catalog.create_region(ctx, fields)
    return JSONResponse({"region": render_region(request, region)}, status_code=201)


async def show_region(request: Request) -> Response:
    region = manager(request).catalog.get_region(request.path_params["region_id"])
    enforce(request, "identity:get_region", {"region": {"id": region.region_id}})
    return JSONResponse({"region": render_region(request, region)})


async def update_region(request: Request) -> Response:
    catalog = manager(request).catalog
    region = catalog.get_region(request.path_params["region_id"])
    ctx = enforce(request, "identity:update_region", {"region": {"id": region.region_id}})
    body = await parse_body(request, RegionUpdateBody)
    fields = _fields(body.region)
    if "id" in fields and fields["id"] != region.region_id:
        raise BadRequest("Invalid input for field 'region.id': a region's id cannot change.")
    fields.pop("id", None)
    updated = catalog.update_region(ctx, region.region_id, fields)
    return JSONResponse({"region": render_region(request, updated)})


async def delete_region(request: Request) -> Response:
    catalog = manager(request).catalog
    region = catalog.get_region(request.path_params["region_id"])
    ctx = enforce(request, "identity:delete_region", {"region": {"id": region.region_id}})
    catalog.delete_region(ctx, region.region_id)
    return Response(status_code=204)


# -- services --------------------------------------------------------------------------------


async def list_services(request: Request) -> Response:
    enforce(request, "identity:list_services")
    services = manager(request).catalog.list_services(
        type=request.query_params.get("type"), name=request.query_params.get("name")
    )
    return collection(request, "services", (render_service(request, s) for s in services))


async def create_service(request: Request) -> Response:
    ctx = enforce(request, "identity:create_service")
    body = await parse_body(request, ServiceCreateBody)
    service = manager(request).catalog.create_service(ctx, _fields(body.service, ("enabled",)))
    return JSONResponse({"service": render_service(request, service)}, status_code=201)


async def show_service(request: Request) -> Response:
    service = manager(request).catalog.get_service(request.path_params["service_id"])
    enforce(request, "identity:get_service", {"service": {"id": service.service_id}})
    return JSONResponse({"service": render_service(request, service)})


async def update_service(request: Request) -> Response:
    catalog = manager(request).catalog
    service = catalog.get_service(request.path_params["service_id"])
    ctx = enforce(request, "identity:update_service", {"service": {"id": service.service_id}})
    body = await parse_body(request, ServiceUpdateBody)
    fields = _fields(body.service, ("type", "enabled"))
    updated = catalog.update_service(ctx, service.service_id, fields)
    return JSONResponse({"service": render_service(request, updated)})


async def delete_service(request: Request) -> Response:
    catalog = manager(request).catalog
    service = catalog.get_service(request.path_params["service_id"])
    ctx = enforce(request, "identity:delete_service", {"service": {"id": service.service_id}})
    catalog.delete_service(ctx, service.service_id)
    return Response(status_code=204)


# -- endpoints -------------------------------------------------------------------------------

ENDPOINT_REQUIRED = ("interface", "service_id", "url", "enabled")


async def list_endpoints(request: Request) -> Response:
    enforce(request, "identity:list_endpoints")
    query = request.query_params
    endpoints = manager(request).catalog.list_endpoints(
        interface=query.get("interface"),
        service_id=query.get("service_id"),
        region_id=query.get("region_id"),
    )
    return collection(request, "endpoints", (render_endpoint(request, e) for e in endpoints))


async def create_endpoint(request: Request) -> Response:
    ctx = enforce(request, "identity:create_endpoint")
    body = await parse_body(request, EndpointCreateBody)
    fields = _fields(body.endpoint, ENDPOINT_REQUIRED)
    endpoint = manager(request).catalog.create_endpoint(ctx, fields)
    return JSONResponse({"endpoint": render_endpoint(request, endpoint)}, status_code=201)


async def show_endpoint(request: Request) -> Response:
    endpoint = manager(request).catalog.get_endpoint(request.path_params["endpoint_id"])
    enforce(request, "identity:get_endpoint", {"endpoint": {"id": endpoint.endpoint_id}})
    return JSONResponse({"endpoint": render_endpoint(request, endpoint)})


async def update_endpoint(request: Request) -> Response:
    catalog = manager(request).catalog
    endpoint = catalog.get_endpoint(request.path_params["endpoint_id"])
    target = {"endpoint": {"id": endpoint.endpoint_id}}
    ctx = enforce(request, "identity:update_endpoint", target)
    body = await parse_body(request, EndpointUpdateBody)
    fields = _fields(body.endpoint, ENDPOINT_REQUIRED)
    updated = catalog.update_endpoint(ctx, endpoint.endpoint_id, fields)
    return JSONResponse({"endpoint": render_endpoint(request, updated)})


async def delete_endpoint(request: Request) -> Response:
    catalog = manager(request).catalog
    endpoint = catalog.get_endpoint(request.path_params["endpoint_id"])
    target = {"endpoint": {"id": endpoint.endpoint_id}}
    ctx = enforce(request, "identity:delete_endpoint", target)
    catalog.delete_endpoint(ctx, endpoint.endpoint_id)
    return Response(status_code=204)


routes = [
    Route("/v3/regions", list_regions, methods=["GET"]),
    Route("/v3/regions", create_region, methods=["POST"]),
    Route("/v3/regions/{region_id}", show_region, methods=["GET"]),
    Route("/v3/regions/{region_id}", put_region, methods=["PUT"]),
    Route("/v3/regions/{region_id}", update_region, methods=["PATCH"]),
    Route("/v3/regions/{region_id}", delete_region, methods=["DELETE"]),
    Route("/v3/services", list_services, methods=["GET"]),
    Route("/v3/services", create_service, methods=["POST"]),
    Route("/v3/services/{service_id}", show_service, methods=["GET"]),
    Route("/v3/services/{service_id}", update_service, methods=["PATCH"]),
    Route("/v3/services/{service_id}", delete_service, methods=["DELETE"]),
    Route("/v3/endpoints", list_endpoints, methods=["GET"]),
    Route("/v3/endpoints", create_endpoint, methods=["POST"]),
    Route("/v3/endpoints/{endpoint_id}", show_endpoint, methods=["GET"]),
    Route("/v3/endpoints/{endpoint_id}", update_endpoint, methods=["PATCH"]),
    Route("/v3/endpoints/{endpoint_id}", delete_endpoint, methods=["DELETE"]),
]
