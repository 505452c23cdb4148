"""/v3/domains."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.identity.api.common import (
    bool_query,
    enforce,
    manager,
    parse_body,
    self_link,
)
from onestack.identity.api.fields import Attributes, Description, Envelope, ResourceName
from onestack.identity.api.paging import paged_collection
from onestack.identity.models import Domain


class DomainFields(Attributes):
    # Keystone keeps attributes it does not know; so do we (they come back on read).
    description: Description | None = None
    enabled: bool | None = None


class DomainCreate(DomainFields):
    name: ResourceName
    explicit_domain_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = None


class DomainUpdate(DomainFields):
    name: ResourceName | None = None


class CreateBody(Envelope):
    domain: DomainCreate


class UpdateBody(Envelope):
    domain: DomainUpdate


def render(request: Request, domain: Domain) -> dict[str, Any]:
    return {
        "tags": [],
        **domain.extra,
        "id": domain.domain_id,
        "name": domain.name,
        "description": domain.description,
        "enabled": domain.enabled,
        "links": self_link(request, f"domains/{domain.domain_id}"),
    }


def _target(domain: Domain) -> dict[str, Any]:
    return {"domain": {"id": domain.domain_id}}


async def list_domains(request: Request) -> Response:
    enforce(request, "identity:list_domains")
    domains = manager(request).domains.list(
        name=request.query_params.get("name"), enabled=bool_query(request, "enabled")
    )
    items = (render(request, d) for d in domains)
    return paged_collection(request, "domains", items, manager(request).domains.get)


async def create_domain(request: Request) -> Response:
    ctx = enforce(request, "identity:create_domain")
    body = await parse_body(request, CreateBody)
    domain = manager(request).domains.create(ctx, body.domain.model_dump(exclude_unset=True))
    return JSONResponse({"domain": render(request, domain)}, status_code=201)


async def show_domain(request: Request) -> Response:
    domain = manager(request).domains.get(request.path_params["domain_id"])
    enforce(request, "identity:get_domain", _target(domain))
    return JSONResponse({"domain": render(request, domain)})


async def update_domain(request: Request) -> Response:
    domains = manager(request).domains
    domain = domains.get(request.path_params["domain_id"])
    ctx = enforce(request, "identity:update_domain", _target(domain))
    body = await parse_body(request, UpdateBody)
    updated = domains.update(ctx, domain.domain_id, body.domain.model_dump(exclude_unset=True))
    return JSONResponse({"domain": render(request, updated)})


async def delete_domain(request: Request) -> Response:
    domains = manager(request).domains
    domain = domains.get(request.path_params["domain_id"])
    ctx = enforce(request, "identity:delete_domain", _target(domain))
    domains.delete(ctx, domain.domain_id)
    return Response(status_code=204)


routes = [
    Route("/v3/domains", list_domains, methods=["GET"]),
    Route("/v3/domains", create_domain, methods=["POST"]),
    Route("/v3/domains/{domain_id}", show_domain, methods=["GET"]),
    Route("/v3/domains/{domain_id}", update_domain, methods=["PATCH"]),
    Route("/v3/domains/{domain_id}", delete_domain, methods=["DELETE"]),
]
