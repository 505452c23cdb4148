"""The one token reader: who may reach an endpoint, what it finds on the request, and when."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Scope

from onestack.common.auth import EarlyAnswer, TokenReader, context_reader, public
from onestack.common.context import RequestContext
from onestack.common.errors import OneStackError, Unauthorized
from onestack.common.http import root_app, service_app


def render(error: OneStackError) -> dict[str, Any]:
    return {"svc_error": {"code": error.status, "message": error.message}}


class Validations:
    """Stands in for a token manager: `good` is the one valid token; counts the validations."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, request: Request, token_id: str) -> str:
        self.seen.append(token_id)
        if token_id != "good":
            raise Unauthorized("The request you have made requires authentication.")
        return "the caller"


async def whoami(request: Request) -> Response:
    # Read twice: the caller is on the request, not validated again.
    assert request.user == request.user
    return PlainTextResponse(request.user)


@public
async def versions(request: Request) -> Response:
    return PlainTextResponse("anyone" if "user" not in request.scope else "someone")


ROUTES = [
    Route("/whoami", whoami, methods=["GET"]),
    Route("/versions", versions, methods=["GET"]),
]


def call(reader: TokenReader, method: str, path: str, token: str | None = None) -> httpx.Response:
    app = root_app({"/svc": service_app(ROUTES, render, reader)})
    headers = {"X-Auth-Token": token} if token is not None else {}

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, headers=headers)

    return asyncio.run(run())


def test_a_valid_token_puts_its_caller_on_the_request_validated_once() -> None:
    validations = Validations()

    answer = call(TokenReader(validations), "GET", "/svc/whoami", "good")

    assert answer.status_code == 200 and answer.text == "the caller"
    assert validations.seen == ["good"]


@pytest.mark.parametrize("token", [None, "", "bad"])
def test_no_token_or_a_bad_one_is_a_401_in_the_service_body(token: str | None) -> None:
    answer = call(TokenReader(Validations()), "GET", "/svc/whoami", token)

    assert answer.status_code == 401
    assert answer.json()["svc_error"]["code"] == 401


def test_routing_answers_before_the_token_is_read() -> None:
    validations = Validations()
    reader = TokenReader(validations)

    unknown = call(reader, "GET", "/svc/nothing-here", "bad")
    wrong_method = call(reader, "DELETE", "/svc/whoami", "bad")

    assert (unknown.status_code, wrong_method.status_code) == (404, 405)
    assert validations.seen == []


def test_a_public_route_needs_no_token_and_reads_none() -> None:
    validations = Validations()

    answers = [call(TokenReader(validations), "GET", "/svc/versions", t) for t in (None, "bad")]

    assert [(a.status_code, a.text) for a in answers] == [(200, "anyone")] * 2
    assert validations.seen == []


def test_a_service_cannot_declare_a_mount_the_reader_would_not_guard() -> None:
    with pytest.raises(TypeError):
        service_app([Mount("/sub", routes=ROUTES)], render, TokenReader(Validations()))


class Remembered:
    """A fast path that knows the answer for the token `known` on GET /whoami."""

    route = Route("/whoami", whoami, methods=["GET"])

    def answer(self, scope: Scope, token_id: str) -> EarlyAnswer | None:
        if token_id != "known" or scope["method"] != "GET":
            return None
        return EarlyAnswer(self.route, [(b"content-length", b"10")], b"remembered")


def test_the_fast_path_answers_before_the_app_and_passes_on_the_rest() -> None:
    validations = Validations()
    reader = TokenReader(validations, fast_path=Remembered())

    early = call(reader, "GET", "/svc/whoami", "known")
    late = call(reader, "GET", "/svc/whoami", "good")
    refused = call(reader, "GET", "/svc/whoami")

    assert (early.status_code, early.text) == (200, "remembered")
    assert "x-openstack-request-id" in early.headers
    assert (late.status_code, late.text) == (200, "the caller")
    assert refused.status_code == 401
    assert validations.seen == ["good"]


def test_another_service_s_caller_is_a_context_with_the_request_s_details() -> None:
    def validate(token_id: str) -> RequestContext:
        if token_id != "good":
            raise Unauthorized()
        return RequestContext(user_id="u1", user_domain_id="default")

    seen: list[RequestContext] = []

    async def context_of(request: Request) -> Response:
        seen.append(request.user)
        return PlainTextResponse("ok")

    app = root_app(
        {"/svc": service_app([Route("/c", context_of)], render, context_reader(validate))}
    )

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"X-Auth-Token": "good", "User-Agent": "probe/1"}
            return await client.get("/svc/c", headers=headers)

    answer = asyncio.run(run())

    assert answer.status_code == 200
    [ctx] = seen
    assert (ctx.user_id, ctx.user_agent) == ("u1", "probe/1")
    assert ctx.request_id == answer.headers["x-openstack-request-id"]
