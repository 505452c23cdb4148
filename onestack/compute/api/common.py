"""What every compute router shares: the caller, policy checks, bodies, links and the manager."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from onestack.common.body import loads
from onestack.common.context import RequestContext
from onestack.common.policy import Policy
from onestack.compute import errors
from onestack.compute.manager import Caller, ComputeManager


def manager(request: Request) -> ComputeManager:
    return request.app.state.manager


def policy(request: Request) -> Policy:
    return request.app.state.policy


def caller(request: Request) -> Caller:
    ctx: RequestContext = request.user
    return Caller(ctx, policy(request).allowed("context_is_admin", ctx.credentials(), {}))


def enforce(request: Request, action: str, target: dict[str, Any] | None = None) -> Caller:
    """The caller if policy lets them do `os_compute_api:<action>` on `target` (default: their
    own project); 403 otherwise."""
    who = caller(request)
    on = target or {"project_id": who.project_id, "user_id": who.user_id}
    policy(request).enforce(
        f"os_compute_api:{action}", who.ctx.credentials(), on, errors.ActionForbidden
    )
    return who


def allowed(request: Request, who: Caller, action: str, target: dict[str, Any]) -> bool:
    return policy(request).allowed(f"os_compute_api:{action}", who.ctx.credentials(), target)


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 400 otherwise."""
    raw = await request.body()
    if not raw.strip():
        raise errors.InvalidInput("The request body is empty; a JSON object is required.")
    document = loads(raw, errors.InvalidInput)
    if not isinstance(document, dict):
        raise errors.InvalidInput("The request body must be a JSON object.")
    return document


def endpoint_url(request: Request) -> str:
    """The compute mount's root as the client addressed it (…/compute)."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def links(request: Request, collection: str, item_id: str) -> list[dict[str, str]]:
    root = endpoint_url(request)
    return [
        {"rel": "self", "href": f"{root}/v2.1/{collection}/{item_id}"},
        {"rel": "bookmark", "href": f"{root}/{collection}/{item_id}"},
    ]


def query_int(request: Request, name: str, minimum: int = 0) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value.lstrip("-").isdigit() or int(value) < minimum:
        raise errors.InvalidInput(f"Invalid {name}: {value!r} is not an integer >= {minimum}.")
    return int(value)
