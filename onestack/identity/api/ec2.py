"""OS-EC2: /v3/users/{user_id}/credentials/OS-EC2 (a user's EC2 access/secret pairs) and
POST /v3/ec2tokens (a token for a request signed with one of them, as EC2/S3 front ends ask)
and POST /v3/s3tokens (the same for an S3 front end that sends its string to sign).

HTTP only: parse, enforce policy, call `manager.ec2.Ec2Manager`, render.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.auth import public
from onestack.common.context import RequestContext
from onestack.common.errors import BadRequest
from onestack.common.http import JSONResponse
from onestack.identity.api import render
from onestack.identity.api.common import collection, enforce, manager, parse_body, self_link
from onestack.identity.api.fields import Id
from onestack.identity.ec2sig import SignedRequest
from onestack.identity.manager.ec2 import Ec2Credential, Ec2Manager

Text = Annotated[str, StringConstraints(max_length=65535, strict=True)]


class CreateBody(BaseModel):
    # keystoneclient sends the project as `tenant_id`, even on v3.
    model_config = ConfigDict(extra="allow", strict=True)
    tenant_id: Id


class Credentials(BaseModel):
    """What the front end saw of the signed request."""

    model_config = ConfigDict(extra="allow", strict=True)
    access: Annotated[str, StringConstraints(min_length=1, max_length=255, strict=True)]
    signature: Text | None = None
    host: Text = ""
    verb: Text = "GET"
    path: Text = "/"
    params: dict[str, Text] = Field(default_factory=dict)
    headers: dict[str, Text] = Field(default_factory=dict)
    body_hash: Text | None = None


class Ec2TokensBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    credentials: Credentials | None = None
    ec2_credentials: Credentials | None = Field(default=None, alias="ec2Credentials")

    @model_validator(mode="after")
    def _one_given(self) -> Ec2TokensBody:
        if self.credentials is None and self.ec2_credentials is None:
            raise ValueError("'credentials' is required")
        return self

    def signed_request(self) -> SignedRequest:
        given = self.credentials or self.ec2_credentials
        assert given is not None
        return SignedRequest(
            access=given.access,
            verb=given.verb,
            host=given.host,
            path=given.path,
            params=given.params,
            headers=given.headers,
            body_hash=given.body_hash,
            signature=given.signature,
        )


def _ec2(request: Request) -> Ec2Manager:
    identity = manager(request)
    return Ec2Manager(identity.credentials, identity.tokens)


def _render(request: Request, credential: Ec2Credential) -> dict[str, Any]:
    path = f"users/{credential.user_id}/credentials/OS-EC2/{credential.access}"
    return {
        "user_id": credential.user_id,
        "tenant_id": credential.project_id,
        "access": credential.access,
        "secret": credential.secret,
        "trust_id": credential.trust_id,
        "links": self_link(request, path),
    }


def _enforce(request: Request, action: str) -> tuple[RequestContext, str]:
    user_id = request.path_params["user_id"]
    return enforce(request, action, {"credential": {"user_id": user_id}}), user_id


async def create_ec2_credential(request: Request) -> Response:
    ctx, user_id = _enforce(request, "identity:ec2_create_credential")
    body = await parse_body(request, CreateBody)
    credential = _ec2(request).create(ctx, user_id, body.tenant_id)
    return JSONResponse({"credential": _render(request, credential)}, status_code=201)


async def list_ec2_credentials(request: Request) -> Response:
    _, user_id = _enforce(request, "identity:ec2_list_credentials")
    found = _ec2(request).list(user_id)
    return collection(request, "credentials", (_render(request, c) for c in found))


async def show_ec2_credential(request: Request) -> Response:
    _, user_id = _enforce(request, "identity:ec2_get_credential")
    credential = _ec2(request).get(user_id, request.path_params["credential_id"])
    return JSONResponse({"credential": _render(request, credential)})


async def delete_ec2_credential(request: Request) -> Response:
    ctx, user_id = _enforce(request, "identity:ec2_delete_credential")
    _ec2(request).delete(ctx, user_id, request.path_params["credential_id"])
    return Response(status_code=204)


@public  # the signature is the proof
async def ec2_tokens(request: Request) -> Response:
    body = await parse_body(request, Ec2TokensBody)
    view = _ec2(request).authenticate(body.signed_request())
    catalog = manager(request).tokens.catalog(view)
    return JSONResponse(
        render.token(view, catalog), status_code=200, headers={"X-Subject-Token": view.token_id}
    )


class S3Credentials(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    access: Annotated[str, StringConstraints(min_length=1, max_length=255, strict=True)]
    token: Text  # the string to sign, base64
    signature: Annotated[str, StringConstraints(min_length=1, max_length=1024, strict=True)]


class S3TokensBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    credentials: S3Credentials


@public  # the signature is the proof
async def s3_tokens(request: Request) -> Response:
    body = await parse_body(request, S3TokensBody)
    credentials = body.credentials
    try:
        string_to_sign = base64.urlsafe_b64decode(
            credentials.token + "=" * (-len(credentials.token) % 4)
        )
    except ValueError as exc:
        raise BadRequest("Invalid input for field 'credentials.token': not base64.") from exc
    view = _ec2(request).authenticate_s3(credentials.access, string_to_sign, credentials.signature)
    catalog = manager(request).tokens.catalog(view)
    return JSONResponse(
        render.token(view, catalog), status_code=200, headers={"X-Subject-Token": view.token_id}
    )


OS_EC2 = "/v3/users/{user_id}/credentials/OS-EC2"

routes = [
    Route(OS_EC2, list_ec2_credentials, methods=["GET"]),
    Route(OS_EC2, create_ec2_credential, methods=["POST"]),
    Route(OS_EC2 + "/{credential_id}", show_ec2_credential, methods=["GET"]),
    Route(OS_EC2 + "/{credential_id}", delete_ec2_credential, methods=["DELETE"]),
    Route("/v3/ec2tokens", ec2_tokens, methods=["POST"]),
    Route("/v3/s3tokens", s3_tokens, methods=["POST"]),
]
