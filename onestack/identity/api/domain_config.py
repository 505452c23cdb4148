"""/v3/domains/{domain_id}/config: a domain's own [identity] and [ldap] options, and the
defaults at /v3/domains/config/default. The cloud admin writes; cloud readers read."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.identity.api.common import check, enforce, manager, parse_body
from onestack.identity.api.fields import Envelope
from onestack.identity.manager import domain_config


class ConfigBody(Envelope):
    config: dict[str, Any]


def _wrapped(found: Any, group: str | None, option: str | None) -> JSONResponse:
    """{"config": ...} as deep as the path went: all groups, one group, or one option."""
    if option is not None:
        return JSONResponse({"config": {option: found}})
    return JSONResponse({"config": {group: found} if group is not None else found})


def _where(request: Request) -> tuple[str, str | None, str | None]:
    params = request.path_params
    return params["domain_id"], params.get("group"), params.get("option")


async def show_config(request: Request) -> Response:
    check(request, "identity:get_domain_config")
    domain_id, group, option = _where(request)
    found = manager(request).domain_config.get(domain_id, group, option)
    return JSONResponse(
        {"config": {option: found} if option else {group: found} if group else found}
    )


async def put_config(request: Request) -> Response:
    ctx = enforce(request, "identity:create_domain_config")
    body = await parse_body(request, ConfigBody)
    stored, created = manager(request).domain_config.replace(
        ctx, request.path_params["domain_id"], body.config
    )
    return JSONResponse({"config": stored}, status_code=201 if created else 200)


async def update_config(request: Request) -> Response:
    ctx = enforce(request, "identity:update_domain_config")
    domain_id, group, option = _where(request)
    body = await parse_body(request, ConfigBody)
    config = body.config
    if option is not None:
        # PATCH .../config/{group}/{option} sends {"config": {option: value}}.
        config = {group: config}
    # Keystone answers every PATCH with the domain's whole configuration.
    return JSONResponse(
        {"config": manager(request).domain_config.update(ctx, domain_id, config, group)}
    )


async def delete_config(request: Request) -> Response:
    ctx = enforce(request, "identity:delete_domain_config")
    domain_id, group, option = _where(request)
    manager(request).domain_config.delete(ctx, domain_id, group, option)
    return Response(status_code=204)


async def show_default(request: Request) -> Response:
    check(request, "identity:get_domain_config_default")
    group, option = request.path_params.get("group"), request.path_params.get("option")
    found = domain_config.default(group, option)
    return JSONResponse(
        {"config": {option: found} if option else {group: found} if group else found}
    )


CONFIG = "/v3/domains/{domain_id}/config"
routes = [
    Route("/v3/domains/config/default", show_default, methods=["GET"]),
    Route("/v3/domains/config/{group}/default", show_default, methods=["GET"]),
    Route("/v3/domains/config/{group}/{option}/default", show_default, methods=["GET"]),
    Route(CONFIG, show_config, methods=["GET", "HEAD"]),
    Route(CONFIG, put_config, methods=["PUT"]),
    Route(CONFIG, update_config, methods=["PATCH"]),
    Route(CONFIG, delete_config, methods=["DELETE"]),
    Route(CONFIG + "/{group}", show_config, methods=["GET", "HEAD"]),
    Route(CONFIG + "/{group}", update_config, methods=["PATCH"]),
    Route(CONFIG + "/{group}", delete_config, methods=["DELETE"]),
    Route(CONFIG + "/{group}/{option}", show_config, methods=["GET", "HEAD"]),
    Route(CONFIG + "/{group}/{option}", update_config, methods=["PATCH"]),
    Route(CONFIG + "/{group}/{option}", delete_config, methods=["DELETE"]),
]
