"""What every image router shares: the caller, policy checks, JSON bodies and the manager."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from onestack.common.body import loads
from onestack.common.context import RequestContext
from onestack.common.policy import Policy
from onestack.image import errors
from onestack.image.manager import Caller, ImageManager
from onestack.image.models import Image

JSON_TYPES = ("application/json", "")


def media_type(request: Request) -> str:
    """The request's Content-Type without parameters, lower-cased ("" when absent)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 415 for another media type, 400 when it is not one."""
    if media_type(request) not in JSON_TYPES:
        raise errors.UnsupportedMediaType(media_type(request), "application/json")
    document = loads(await request.body() or b"{}", errors.InvalidParameter)
    if not isinstance(document, dict):
        raise errors.InvalidParameter("The request body must be a JSON object.")
    return document


def manager(request: Request) -> ImageManager:
    return request.app.state.manager


def policy(request: Request) -> Policy:
    return request.app.state.policy


def caller(request: Request) -> Caller:
    """The caller the token reader authenticated, and whether policy makes them an image admin."""
    ctx: RequestContext = request.user
    return Caller(ctx, policy(request).allowed("context_is_admin", ctx.credentials(), {}))


def enforce(request: Request, action: str) -> Caller:
    """The caller if policy lets them do `image:<action>`; 401 or 403 otherwise."""
    who = caller(request)
    _check(request, who, action, {})
    return who


def enforce_on_image(request: Request, action: str, **more: Any) -> tuple[Caller, Image]:
    """The caller and the image in the path: 401, then 404 if invisible, then 403 by policy.

    `more` adds to the policy target (the member id of a membership being changed).
    """
    who = caller(request)
    image = manager(request).images.get(who, request.path_params["image_id"])
    _check(request, who, action, {**target(image), **more})
    return who, image


def enforce_also(request: Request, who: Caller, action: str, image: Image) -> None:
    """A further rule for an image already fetched with `enforce_on_image` (403)."""
    _check(request, who, action, target(image))


def _check(request: Request, who: Caller, action: str, on: dict[str, Any]) -> None:
    policy(request).enforce(f"image:{action}", who.ctx.credentials(), on, errors.ActionForbidden)


def target(image: Image) -> dict[str, Any]:
    return {"owner": image.owner, "visibility": image.visibility, "id": image.image_id}


def endpoint_url(request: Request) -> str:
    """The image endpoint's root as the client addressed it, without a trailing slash."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"
