"""/v3/OS-OAUTH1/consumers: OAuth 1.0a consumers, the cloud admin's to manage."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.identity.api.common import check, collection, enforce, manager, parse_body, self_link
from onestack.identity.api.fields import Attributes, Envelope
from onestack.identity.manager.oauth import ConsumerView

Description = Annotated[str, StringConstraints(max_length=65535, strict=True)]
BASE = "/v3/OS-OAUTH1/consumers"


class ConsumerCreate(Attributes):
    description: Description | None = None

    @model_validator(mode="after")
    def _no_secret(self) -> ConsumerCreate:
        if "secret" in (self.model_extra or {}):
            raise ValueError("a consumer's secret is generated, not given")
        return self


class ConsumerUpdate(ConsumerCreate):
    pass


class CreateBody(Envelope):
    consumer: ConsumerCreate


class UpdateBody(Envelope):
    consumer: ConsumerUpdate


def render(request: Request, consumer: ConsumerView) -> dict[str, Any]:
    body = {
        **consumer.extra,
        "id": consumer.consumer_id,
        "description": consumer.description,
        "links": self_link(request, f"OS-OAUTH1/consumers/{consumer.consumer_id}"),
    }
    if consumer.secret is not None:
        body["secret"] = consumer.secret
    return body


async def create_consumer(request: Request) -> Response:
    ctx = enforce(request, "identity:create_consumer")
    body = await parse_body(request, CreateBody)
    fields = body.consumer.model_dump(exclude_unset=True)
    consumer = manager(request).oauth.create_consumer(ctx, fields)
    return JSONResponse({"consumer": render(request, consumer)}, status_code=201)


async def list_consumers(request: Request) -> Response:
    check(request, "identity:list_consumers")
    found = manager(request).oauth.list_consumers()
    return collection(request, "consumers", (render(request, c) for c in found))


async def show_consumer(request: Request) -> Response:
    check(request, "identity:get_consumer")
    consumer = manager(request).oauth.get_consumer(request.path_params["consumer_id"])
    return JSONResponse({"consumer": render(request, consumer)})


async def update_consumer(request: Request) -> Response:
    ctx = enforce(request, "identity:update_consumer")
    body = await parse_body(request, UpdateBody)
    fields = body.consumer.model_dump(exclude_unset=True)
    consumer_id = request.path_params["consumer_id"]
    consumer = manager(request).oauth.update_consumer(ctx, consumer_id, fields)
    return JSONResponse({"consumer": render(request, consumer)})


async def delete_consumer(request: Request) -> Response:
    ctx = enforce(request, "identity:delete_consumer")
    manager(request).oauth.delete_consumer(ctx, request.path_params["consumer_id"])
    return Response(status_code=204)


routes = [
    Route(BASE, create_consumer, methods=["POST"]),
    Route(BASE, list_consumers, methods=["GET"]),
    Route(BASE + "/{consumer_id}", show_consumer, methods=["GET"]),
    Route(BASE + "/{consumer_id}", update_consumer, methods=["PATCH"]),
    Route(BASE + "/{consumer_id}", delete_consumer, methods=["DELETE"]),
]
