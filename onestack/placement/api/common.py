"""What every placement router shares: the manager, policy, the microversion, bodies, links."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.requests import Request

from onestack.common.body import loads, validate
from onestack.common.context import RequestContext
from onestack.placement import errors
from onestack.placement.manager import PlacementManager

Model = TypeVar("Model", bound=BaseModel)


def manager(request: Request) -> PlacementManager:
    return request.app.state.manager


def enforce(request: Request, action: str) -> None:
    """403 unless policy lets the caller do `placement:<action>` (admin or service role)."""
    ctx: RequestContext = request.user
    request.app.state.policy.enforce(
        f"placement:{action}", ctx.credentials(), {}, errors.PlacementForbidden
    )


def version(request: Request) -> tuple[int, int]:
    return request.scope.get("state", {}).get("microversion", (1, 0))


def at_least(request: Request, minor: int) -> bool:
    return version(request) >= (1, minor)


def require(request: Request, minor: int) -> None:
    """A route that exists only from 1.<minor> is a 404 below it, as in placement."""
    if not at_least(request, minor):
        raise errors.PlacementNotFound("The resource could not be found.")


async def body(request: Request, model: type[Model]) -> Model:
    """The JSON body as `model`; placement's 400 when it is not JSON or does not fit."""
    raw = await request.body()
    document: Any = loads(raw, errors.InvalidRequest) if raw.strip() else None
    if not isinstance(document, dict):
        raise errors.InvalidRequest("Malformed JSON: the request body must be a JSON object.")
    try:
        return validate(document, model)
    except errors.BadRequest as exc:
        raise errors.InvalidRequest(f"JSON does not validate: {exc.message}") from exc


def base_path(request: Request) -> str:
    """Placement's root as a path ("/placement"), for the relative links it publishes."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def query_value(request: Request, name: str) -> str | None:
    """A query parameter given at most once; placement's 400 when it repeats."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise errors.BadQuery(f"Query parameter {name!r} may be given only once.")
    return values[0] if values else None


def parse_resources(text: str) -> dict[str, int]:
    """`VCPU:1,MEMORY_MB:512` as {"VCPU": 1, "MEMORY_MB": 512}; 400 when malformed."""
    wanted: dict[str, int] = {}
    for part in text.split(","):
        name, _, amount = part.strip().partition(":")
        if not name or not amount.isdigit() or int(amount) < 1 or name in wanted:
            raise errors.BadQuery(
                f"Badly formed resources parameter. Expected resources query string parameter "
                f"in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: {text}."
            )
        wanted[name] = int(amount)
    return wanted


def parse_required(request: Request) -> tuple[frozenset[str], frozenset[str]]:
    """`required=A,!B` (1.18; `!` forbids from 1.22) as (required, forbidden) trait names;
    400 for a trait that does not exist."""
    text = query_value(request, "required")
    if text is None or not at_least(request, 18):
        return frozenset(), frozenset()
    required, forbidden = set(), set()
    for name in (part.strip() for part in text.split(",")):
        into = required
        if name.startswith("!") and at_least(request, 22):
            name, into = name[1:], forbidden
        if not name or not manager(request).traits.exists(name):
            raise errors.BadQuery(f"No such trait(s): {name or text}")
        into.add(name)
    return frozenset(required), frozenset(forbidden)
