"""Servers: create, list, detail, show, update, delete, addresses and interfaces."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.body import validate
from onestack.common.http import JSONResponse
from onestack.compute import errors
from onestack.compute.api import render
from onestack.compute.api.common import (
    allowed,
    caller,
    endpoint_url,
    enforce,
    json_object,
    links,
    manager,
    query_int,
)
from onestack.compute.api.microversion import at_least
from onestack.compute.api.schemas import ServerCreate, ServerCreateBody, ServerUpdateBody
from onestack.compute.manager import Caller, ServerQuery, ServerRequest
from onestack.compute.models import Server

TRUE = ("true", "1", "t", "yes", "y", "on")
MAX_LIMIT = 1000


def _query(request: Request, who: Caller) -> ServerQuery:
    params = request.query_params
    all_projects = params.get("all_tenants", "").lower() in (*TRUE, "") and "all_tenants" in params
    if all_projects:
        enforce(request, "servers:index:get_all_tenants")
    return ServerQuery(
        all_projects=all_projects,
        project_id=params.get("project_id") or params.get("tenant_id"),
        name=params.get("name"),
        status=params.get("status"),
        image=params.get("image"),
        flavor=params.get("flavor"),
        ip=params.get("ip"),
        changes_since=_time(params.get("changes-since")),
        reservation_id=params.get("reservation_id"),
        deleted=params.get("deleted", "").lower() in TRUE and who.is_admin,
        limit=min(query_int(request, "limit") or MAX_LIMIT, MAX_LIMIT),
        marker=params.get("marker"),
    )


def _time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise errors.InvalidInput(f"Invalid changes-since value: {text}") from exc
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _next_link(request: Request, rows: list[Server], path: str) -> list[dict[str, str]]:
    """Nova's `servers_links`: present when a page is as long as the asked limit."""
    limit = query_int(request, "limit")
    if not rows or limit is None or len(rows) < limit:
        return []
    params = {**request.query_params, "marker": rows[-1].server_id}
    return [{"rel": "next", "href": f"{endpoint_url(request)}/v2.1/{path}?{urlencode(params)}"}]


async def index(request: Request) -> Response:
    who = enforce(request, "servers:index")
    query = _query(request, who)
    rows = manager(request).servers.list(who, query)
    body: dict[str, Any] = {"servers": [render.server_brief(request, r) for r in rows]}
    more = _next_link(request, rows, "servers")
    if more:
        body["servers_links"] = more
    return JSONResponse(body)


async def detail(request: Request) -> Response:
    who = enforce(request, "servers:detail")
    query = _query(request, who)
    rows = manager(request).servers.list(who, query)
    body: dict[str, Any] = {"servers": _rendered(request, who, rows)}
    more = _next_link(request, rows, "servers/detail")
    if more:
        body["servers_links"] = more
    return JSONResponse(body)


def _rendered(request: Request, who: Caller, rows: list[Server]) -> list[dict[str, Any]]:
    addresses = manager(request).servers.addresses(rows) if rows else {}
    admin = allowed(request, who, "os-extended-server-attributes", {})
    return [
        render.server(request, who, row, addresses.get(row.server_id, {}), admin) for row in rows
    ]


async def show(request: Request) -> Response:
    who, row = _target(request, "servers:show")
    return JSONResponse({"server": _rendered(request, who, [row])[0]})


def _target(request: Request, action: str) -> tuple[Caller, Server]:
    """The caller and the server in the path: 404 when invisible, then 403 by policy."""
    who = caller(request)
    row = manager(request).servers.get(who, request.path_params["server_id"])
    enforce(request, action, {"project_id": row.project_id, "user_id": row.user_id})
    return who, row


async def create(request: Request) -> Response:
    who = enforce(request, "servers:create")
    document = await json_object(request)
    body = validate(document, ServerCreateBody).server
    server_request = _server_request(request, body)
    created = manager(request).servers.create(who, server_request)
    if body.return_reservation_id:
        return JSONResponse({"reservation_id": created.reservation_id}, status_code=202)
    first = created.servers[0]
    shown: dict[str, Any] = {
        "id": first.server_id,
        "links": links(request, "servers", first.server_id),
        "OS-DCF:diskConfig": "MANUAL",
        "security_groups": [{"name": name} for name in first.security_groups],
        "adminPass": body.adminPass or created.admin_password,
    }
    location = shown["links"][0]["href"]
    return JSONResponse({"server": shown}, status_code=202, headers={"Location": location})


def _server_request(request: Request, body: ServerCreate) -> ServerRequest:
    networks: Any = body.networks
    if networks is None:
        if at_least(request, 2, 37):
            raise errors.InvalidInput(
                "Invalid input for field/attribute networks: 'networks' is a required property."
            )
        networks = "auto"
    elif isinstance(networks, str) and not at_least(request, 2, 37):
        raise errors.InvalidInput(
            f"Invalid input for field/attribute networks: '{networks}' is not of type 'array'."
        )
    elif isinstance(networks, list):
        networks = [_network_item(item.model_dump(exclude_none=True)) for item in networks]
    max_count = body.max_count or body.min_count
    if max_count < body.min_count:
        raise errors.InvalidInput("min_count must be <= max_count")
    groups = [g.name for g in body.security_groups] if body.security_groups else ["default"]
    return ServerRequest(
        name=body.name,
        image_id=_ref(body.imageRef),
        flavor_id=_ref(str(body.flavorRef)),
        networks=networks,
        key_name=body.key_name,
        user_data=body.user_data,
        metadata=dict(body.metadata),
        security_groups=groups,
        availability_zone=body.availability_zone,
        min_count=body.min_count,
        max_count=max_count,
        config_drive=str(body.config_drive).lower() == "true",
        description=body.description if at_least(request, 2, 19) else None,
        access_ipv4=body.accessIPv4,
        access_ipv6=body.accessIPv6,
        hostname=body.hostname if at_least(request, 2, 90) else None,
    )


def _ref(value: str) -> str:
    """An id, or the id at the end of an href (Nova takes both for imageRef and flavorRef)."""
    return value.rstrip("/").rsplit("/", 1)[-1] if "://" in value else value


def _network_item(item: dict[str, Any]) -> dict[str, Any]:
    item.pop("tag", None)
    if "port" in item and ("uuid" in item or "fixed_ip" in item):
        raise errors.InvalidInput("A network request names either a port or a network, not both.")
    if "port" not in item and "uuid" not in item:
        raise errors.InvalidInput("Bad networks format: a network request needs a uuid or a port.")
    return item


async def update(request: Request) -> Response:
    who, row = _target(request, "servers:update")
    body = validate(await json_object(request), ServerUpdateBody).server
    changes: dict[str, Any] = {}
    if body.name is not None:
        changes["name"] = body.name
    if body.description is not None or "description" in body.model_fields_set:
        if not at_least(request, 2, 19):
            raise errors.InvalidInput(
                "Additional properties are not allowed ('description' was unexpected)"
            )
        changes["description"] = body.description
    if body.accessIPv4 is not None:
        changes["access_ipv4"] = body.accessIPv4
    if body.accessIPv6 is not None:
        changes["access_ipv6"] = body.accessIPv6
    if body.hostname is not None and at_least(request, 2, 90):
        changes["hostname"] = body.hostname
    row = manager(request).servers.update(who, row.server_id, changes)
    return JSONResponse({"server": _rendered(request, who, [row])[0]})


async def delete(request: Request) -> Response:
    who, row = _target(request, "servers:delete")
    manager(request).servers.delete(who, row.server_id)
    return Response(status_code=204)


async def ips(request: Request) -> Response:
    _, row = _target(request, "ips:index")
    addresses = manager(request).servers.addresses([row]).get(row.server_id, {})
    return JSONResponse({"addresses": addresses})


async def interfaces(request: Request) -> Response:
    _, row = _target(request, "os-attach-interfaces:list")
    ports = manager(request).servers.ports(row)
    return JSONResponse({"interfaceAttachments": [_interface(request, p) for p in ports]})


def _interface(request: Request, port: dict[str, Any]) -> dict[str, Any]:
    body = {
        "port_state": port.get("status"),
        "fixed_ips": [
            {"subnet_id": ip.get("subnet_id"), "ip_address": ip.get("ip_address")}
            for ip in port.get("fixed_ips", [])
        ],
        "port_id": port.get("id"),
        "net_id": port.get("network_id"),
        "mac_addr": port.get("mac_address"),
    }
    if at_least(request, 2, 70):
        body["tag"] = None
    return body


routes = [
    Route("/v2.1/servers", index, methods=["GET"]),
    Route("/v2.1/servers", create, methods=["POST"]),
    Route("/v2.1/servers/detail", detail, methods=["GET"]),
    Route("/v2.1/servers/{server_id}", show, methods=["GET"]),
    Route("/v2.1/servers/{server_id}", update, methods=["PUT"]),
    Route("/v2.1/servers/{server_id}", delete, methods=["DELETE"]),
    Route("/v2.1/servers/{server_id}/ips", ips, methods=["GET"]),
    Route("/v2.1/servers/{server_id}/os-interface", interfaces, methods=["GET"]),
]
