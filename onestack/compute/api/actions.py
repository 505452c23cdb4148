"""POST /servers/{id}/action: power actions (queued for the compute agent, 202) and
os-getConsoleOutput (asked of the server's host, 200)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.body import validate
from onestack.common.http import JSONResponse
from onestack.compute import errors
from onestack.compute.api.common import caller, enforce, json_object, manager
from onestack.compute.api.schemas import ConsoleLength, RebootType
from onestack.compute.models import Server

# Action name in the body -> (policy rule, manager action).
POWER = {
    "os-stop": ("servers:stop", "stop"),
    "os-start": ("servers:start", "start"),
    "pause": ("os-pause-server:pause", "pause"),
    "unpause": ("os-pause-server:unpause", "unpause"),
    "suspend": ("os-suspend-server:suspend", "suspend"),
    "resume": ("os-suspend-server:resume", "resume"),
}


async def action(request: Request) -> Response:
    document = await json_object(request)
    if len(document) != 1:
        raise errors.InvalidInput("An action body names exactly one action.")
    name, argument = next(iter(document.items()))
    if name in POWER:
        rule, act = POWER[name]
        _act(request, rule, act)
        return Response(status_code=202)
    if name == "reboot":
        kind = validate(argument, RebootType).type.upper()
        _act(request, "servers:reboot", f"reboot_{kind.lower()}")
        return Response(status_code=202)
    if name == "os-getConsoleOutput":
        return _console(request, argument)
    raise errors.InvalidInput(f"There is no such action: {name}")


def _server(request: Request, rule: str) -> Server:
    who = caller(request)
    row = manager(request).servers.get(who, request.path_params["server_id"])
    enforce(request, rule, {"project_id": row.project_id, "user_id": row.user_id})
    return row


def _act(request: Request, rule: str, act: str) -> None:
    row = _server(request, rule)
    manager(request).servers.act(caller(request), row.server_id, act)


def _console(request: Request, argument: Any) -> Response:
    length = validate(argument if argument is not None else {}, ConsoleLength).length
    row = _server(request, "os-console-output")
    lines = None if length is None or length < 0 else length
    output = manager(request).console_output(row, lines)
    if lines == 0:
        output = ""
    return JSONResponse({"output": output})


routes = [Route("/v2.1/servers/{server_id}/action", action, methods=["POST"])]
