"""/v2.0/quotas/{project_id}: a project's network limits (identity's unified limits, under
service `network`) and, with /details, its usage. PUT and DELETE set and clear the
project's own limits through identity; the registered defaults stay identity's business."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.body import parse_body
from onestack.common.http import JSONResponse
from onestack.network.api.common import enforce, manager
from onestack.network.api.schemas import QuotaUpdateBody


def _target(request: Request) -> dict[str, str]:
    return {"project_id": request.path_params["project_id"]}


async def show(request: Request) -> Response:
    enforce(request, "get_quota", _target(request))
    limits = manager(request).quotas.limits(request.path_params["project_id"])
    return JSONResponse({"quota": limits})


async def details(request: Request) -> Response:
    enforce(request, "get_quota", _target(request))
    found = manager(request).quotas.details(request.path_params["project_id"])
    return JSONResponse({"quota": found})


async def update(request: Request) -> Response:
    body = await parse_body(request, QuotaUpdateBody)
    who = enforce(request, "update_quota", _target(request))
    project_id = request.path_params["project_id"]
    values = body.quota.model_dump(exclude_none=True, exclude={"check_limit", "force"})
    check = bool(body.quota.check_limit) and not body.quota.force
    limits = manager(request).quotas.set_limits(who.ctx, project_id, values, check)
    return JSONResponse({"quota": limits})


async def reset(request: Request) -> Response:
    who = enforce(request, "delete_quota", _target(request))
    manager(request).quotas.clear_limits(who.ctx, request.path_params["project_id"])
    return Response(status_code=204)


routes = [
    Route("/v2.0/quotas/{project_id}", show, methods=["GET"]),
    Route("/v2.0/quotas/{project_id}", update, methods=["PUT"]),
    Route("/v2.0/quotas/{project_id}", reset, methods=["DELETE"]),
    Route("/v2.0/quotas/{project_id}/details", details, methods=["GET"]),
]
