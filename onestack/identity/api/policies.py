"""/v3/policies: stored policy blobs, managed by the cloud admin and readable by its readers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.identity.api.common import collection, enforce, manager, parse_body, self_link
from onestack.identity.api.fields import Attributes, Envelope
from onestack.identity.models import StoredPolicy

Type = Annotated[str, StringConstraints(min_length=1, max_length=255, strict=True)]
Blob = Annotated[str, StringConstraints(strict=True)]


class PolicyCreate(Attributes):
    type: Type
    blob: Blob


class PolicyUpdate(Attributes):
    type: Type | None = None
    blob: Blob | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> PolicyUpdate:
        if not self.model_fields_set and not self.model_extra:
            raise ValueError("at least one attribute must be given")
        if "type" in self.model_fields_set and self.type is None:
            raise ValueError("'type' cannot be null")
        if "blob" in self.model_fields_set and self.blob is None:
            raise ValueError("'blob' cannot be null")
        return self


class CreateBody(Envelope):
    policy: PolicyCreate


class UpdateBody(Envelope):
    policy: PolicyUpdate


def render(request: Request, policy: StoredPolicy) -> dict[str, Any]:
    return {
        **policy.extra,
        "id": policy.policy_id,
        "type": policy.type,
        "blob": policy.blob,
        "links": self_link(request, f"policies/{policy.policy_id}"),
    }


async def list_policies(request: Request) -> Response:
    enforce(request, "identity:list_policies")
    found = manager(request).stored_policies.list(type=request.query_params.get("type"))
    return collection(request, "policies", (render(request, p) for p in found))


async def create_policy(request: Request) -> Response:
    ctx = enforce(request, "identity:create_policy")
    body = await parse_body(request, CreateBody)
    policy = manager(request).stored_policies.create(ctx, body.policy.model_dump())
    return JSONResponse({"policy": render(request, policy)}, status_code=201)


async def show_policy(request: Request) -> Response:
    enforce(request, "identity:get_policy")
    policy = manager(request).stored_policies.get(request.path_params["policy_id"])
    return JSONResponse({"policy": render(request, policy)})


async def update_policy(request: Request) -> Response:
    ctx = enforce(request, "identity:update_policy")
    body = await parse_body(request, UpdateBody)
    fields = body.policy.model_dump(exclude_unset=True)
    policy = manager(request).stored_policies.update(ctx, request.path_params["policy_id"], fields)
    return JSONResponse({"policy": render(request, policy)})


async def delete_policy(request: Request) -> Response:
    ctx = enforce(request, "identity:delete_policy")
    manager(request).stored_policies.delete(ctx, request.path_params["policy_id"])
    return Response(status_code=204)


routes = [
    Route("/v3/policies", list_policies, methods=["GET"]),
    Route("/v3/policies", create_policy, methods=["POST"]),
    Route("/v3/policies/{policy_id}", show_policy, methods=["GET"]),
    Route("/v3/policies/{policy_id}", update_policy, methods=["PATCH"]),
    Route("/v3/policies/{policy_id}", delete_policy, methods=["DELETE"]),
]
