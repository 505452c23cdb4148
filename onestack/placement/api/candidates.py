"""Allocation candidates over HTTP: GET /allocation_candidates?resources=... (from 1.10),
the basic kind: each candidate is one provider holding every requested class."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.placement import errors
from onestack.placement.api.common import (
    at_least,
    enforce,
    manager,
    parse_required,
    parse_resources,
    query_value,
    require,
)
from onestack.placement.manager import Candidate

KNOWN = {"resources", "limit", "required", "member_of", "in_tree", "group_policy"}


def _request(found: Candidate, wanted: dict[str, int], minor: int) -> dict[str, Any]:
    if minor < 12:
        item = {"resource_provider": {"uuid": found.uuid}, "resources": wanted}
        return {"allocations": [item]}
    body: dict[str, Any] = {"allocations": {found.uuid: {"resources": wanted}}}
    if minor >= 34:
        body["mappings"] = {"": [found.uuid]}
    return body


def _summary(found: Candidate, wanted: dict[str, int], minor: int) -> dict[str, Any]:
    names = list(found.capacity) if minor >= 27 else list(wanted)  # all classes from 1.27
    body: dict[str, Any] = {
        "resources": {
            name: {"capacity": found.capacity[name], "used": found.used[name]} for name in names
        }
    }
    if minor >= 17:
        body["traits"] = found.traits
    if minor >= 29:
        body["parent_provider_uuid"] = None
        body["root_provider_uuid"] = found.uuid
    return body


def _limit(request: Request) -> int | None:
    text = query_value(request, "limit")
    if text is None or not at_least(request, 16):
        return None
    if not text.isdigit() or int(text) < 1:
        raise errors.BadQuery(f"Invalid limit: {text}; it must be a positive integer.")
    return int(text)


async def list_candidates(request: Request) -> Response:
    require(request, 10)
    enforce(request, "allocation_candidates:list")
    unknown = set(request.query_params) - KNOWN
    if unknown:
        raise errors.BadQuery(f"Invalid query string parameters: {', '.join(sorted(unknown))}")
    if any(query_value(request, name) for name in KNOWN - {"resources", "limit", "required"}):
        raise errors.BadQuery(
            "Only the resources, required and limit parameters are supported yet."
        )
    text = query_value(request, "resources")
    if not text:
        raise errors.BadQuery("'resources' is a required property")
    wanted = parse_resources(text)
    for name in wanted:
        if not manager(request).classes.exists(name):
            raise errors.BadQuery(f"Invalid resource class in resources parameter: {name}")
    required, forbidden = parse_required(request)
    finder = manager(request).candidate_finder
    found = finder.find(wanted, _limit(request), required, forbidden)
    minor = request.scope["state"]["microversion"][1]
    return JSONResponse(
        {
            "allocation_requests": [_request(c, wanted, minor) for c in found],
            "provider_summaries": {c.uuid: _summary(c, wanted, minor) for c in found},
        }
    )


routes = [Route("/allocation_candidates", list_candidates, methods=["GET"])]
