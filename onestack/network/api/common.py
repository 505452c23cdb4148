"""What every network router shares: the caller, policy checks, bodies and the manager."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.requests import Request

from onestack.common.body import parse_body
from onestack.common.context import RequestContext
from onestack.common.policy import Policy
from onestack.network import errors
from onestack.network.manager import Caller, NetworkManager

Model = TypeVar("Model", bound=BaseModel)


def manager(request: Request) -> NetworkManager:
    return request.app.state.manager


def policy(request: Request) -> Policy:
    return request.app.state.policy


def caller(request: Request) -> Caller:
    ctx: RequestContext = request.user
    return Caller(ctx, policy(request).allowed("context_is_admin", ctx.credentials(), {}))


def enforce(request: Request, action: str, target: dict[str, Any] | None = None) -> Caller:
    """The caller if policy lets them do `<action>` on `target` (403 otherwise)."""
    who = caller(request)
    check(request, who, action, target or {"project_id": who.project_id})
    return who


def check(request: Request, who: Caller, action: str, target: dict[str, Any]) -> None:
    policy(request).enforce(action, who.ctx.credentials(), target, errors.PolicyNotAuthorized)


def check_attributes(
    request: Request, who: Caller, action: str, body: dict[str, Any], guarded: tuple[str, ...]
) -> None:
    """Attributes only some may set (`shared`, `provider:*`, ...) each have a rule
    `<action>:<attribute>`, checked when the body sets them; `a:b` also names attribute `b`
    inside the object `a` (`external_gateway_info:enable_snat`)."""
    for name in guarded:
        if _sets(body, name):
            check(request, who, f"{action}:{name}", {"project_id": who.project_id})


def _sets(body: dict[str, Any], name: str) -> bool:
    if name in body:
        return body[name] not in (None, False)
    head, _, tail = name.partition(":")
    inner = body.get(head)
    return isinstance(inner, dict) and inner.get(tail) is not None


async def resource(request: Request, model: type[Model], key: str) -> dict[str, Any]:
    """The `{key: {...}}` body's inner object with Neutron's attribute names, only the
    attributes the client sent."""
    parsed = await parse_body(request, model)
    inner = getattr(parsed, key)
    return inner.model_dump(exclude_unset=True, by_alias=True)


def endpoint_url(request: Request) -> str:
    """The network endpoint's root as the client addressed it, without a trailing slash."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"
