"""/v3/credentials: a user manages their own credentials; the cloud admin manages all."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.errors import BadRequest
from onestack.common.http import JSONResponse
from onestack.identity.api.common import (
    allowed,
    collection,
    context,
    enforce,
    manager,
    parse_body,
    self_link,
)
from onestack.identity.api.fields import Attributes, Envelope, Id
from onestack.identity.manager.credentials import CredentialView

Type = Annotated[str, StringConstraints(min_length=1, max_length=255, strict=True)]
Blob = Annotated[str, StringConstraints(strict=True)]


class CredentialCreate(Attributes):
    # Keystone keeps attributes it does not know; so do we (they come back on read).
    type: Type
    blob: Blob
    user_id: Id | None = None  # the caller when absent
    project_id: Id | None = None


class CredentialUpdate(Attributes):
    type: Type | None = None
    blob: Blob | None = None
    user_id: Id | None = None
    project_id: Id | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> CredentialUpdate:
        if not self.model_fields_set and not self.model_extra:
            raise ValueError("at least one attribute must be given")
        return self


class CreateBody(Envelope):
    credential: CredentialCreate


class UpdateBody(Envelope):
    credential: CredentialUpdate


def render(request: Request, credential: CredentialView) -> dict[str, Any]:
    return {
        **credential.extra,
        "id": credential.credential_id,
        "user_id": credential.user_id,
        "project_id": credential.project_id,
        "type": credential.type,
        "blob": credential.blob,
        "links": self_link(request, f"credentials/{credential.credential_id}"),
    }


def _target(user_id: str) -> dict[str, Any]:
    return {"credential": {"user_id": user_id}}


async def list_credentials(request: Request) -> Response:
    query = request.query_params
    found = manager(request).credentials.list(user_id=query.get("user_id"), type=query.get("type"))
    # Keystone's rule: a user who may not read every credential sees only their own.
    visible = [
        c for c in found if allowed(request, "identity:list_credentials", _target(c.user_id))
    ]
    return collection(request, "credentials", (render(request, c) for c in visible))


async def create_credential(request: Request) -> Response:
    body = await parse_body(request, CreateBody)
    fields = body.credential.model_dump(exclude_unset=True)
    fields["user_id"] = fields.get("user_id") or context(request).user_id
    ctx = enforce(request, "identity:create_credential", _target(fields["user_id"]))
    credential = manager(request).credentials.create(ctx, fields)
    return JSONResponse({"credential": render(request, credential)}, status_code=201)


async def show_credential(request: Request) -> Response:
    credential = manager(request).credentials.get(request.path_params["credential_id"])
    enforce(request, "identity:get_credential", _target(credential.user_id))
    return JSONResponse({"credential": render(request, credential)})


async def update_credential(request: Request) -> Response:
    credentials = manager(request).credentials
    credential = credentials.get(request.path_params["credential_id"])
    ctx = enforce(request, "identity:update_credential", _target(credential.user_id))
    body = await parse_body(request, UpdateBody)
    fields = body.credential.model_dump(exclude_unset=True)
    for key in ("type", "blob", "user_id"):
        if key in fields and fields[key] is None:
            raise BadRequest(f"Invalid input for field 'credential.{key}': it cannot be null.")
    if fields.get("user_id", credential.user_id) != credential.user_id:
        # Handing a credential to someone else is creating one for them.
        enforce(request, "identity:create_credential", _target(fields["user_id"]))
    updated = credentials.update(ctx, credential.credential_id, fields)
    return JSONResponse({"credential": render(request, updated)})


async def delete_credential(request: Request) -> Response:
    credentials = manager(request).credentials
    credential = credentials.get(request.path_params["credential_id"])
    ctx = enforce(request, "identity:delete_credential", _target(credential.user_id))
    credentials.delete(ctx, credential.credential_id)
    return Response(status_code=204)


routes = [
    Route("/v3/credentials", list_credentials, methods=["GET"]),
    Route("/v3/credentials", create_credential, methods=["POST"]),
    Route("/v3/credentials/{credential_id}", show_credential, methods=["GET"]),
    Route("/v3/credentials/{credential_id}", update_credential, methods=["PATCH"]),
    Route("/v3/credentials/{credential_id}", delete_credential, methods=["DELETE"]),
]
