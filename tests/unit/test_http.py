"""The common HTTP layer: remembered routing answers as Starlette's does; request ids; log lines."""

import asyncio
import logging
import uuid
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from onestack.common.auth import TokenReader, public
from onestack.common.errors import OneStackError
from onestack.common.http import new_request_id, root_app, service_app
from onestack.common.logs import LogfmtFormatter


def render(error: OneStackError) -> dict[str, Any]:
    return {"error": {"code": error.status}}


@public
async def me(request: Request) -> Response:
    return PlainTextResponse("me")


@public
async def one(request: Request) -> Response:
    return PlainTextResponse(f"one {request.path_params['item_id']}")


@public
async def create(request: Request) -> Response:
    return PlainTextResponse("created", status_code=201)


ROUTES = [
    Route("/v3/items/me", me, methods=["GET"]),
    Route("/v3/items/{item_id}", one, methods=["GET"]),
    Route("/v3/items", create, methods=["POST"]),
]

NO_TOKENS = TokenReader(lambda request, token_id: token_id)  # every route here is public


def call(requests: list[tuple[str, str]]) -> list[httpx.Response]:
    app = root_app({"/svc": service_app(ROUTES, render, NO_TOKENS)})

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.request(method, url) for method, url in requests]

    return asyncio.run(run())


def test_routes_answer_in_order_with_their_path_parameters_every_time() -> None:
    paths = ["/svc/v3/items/me", "/svc/v3/items/a1", "/svc/v3/items/b2"]
    answers = call([("GET", path) for path in paths * 2])

    assert [r.text for r in answers] == ["me", "one a1", "one b2"] * 2


def test_wrong_method_is_a_405_and_unknown_path_a_404_in_the_service_body() -> None:
    answers = call(
        [("DELETE", "/svc/v3/items/x"), ("DELETE", "/svc/v3/items/x"), ("GET", "/svc/nope")]
    )

    assert [r.status_code for r in answers] == [405, 405, 404]
    assert answers[0].json() == {"error": {"code": 405}}
    assert answers[2].json() == {"error": {"code": 404}}


def test_get_route_answers_head_and_post_reaches_its_own_route() -> None:
    answers = call([("HEAD", "/svc/v3/items/me"), ("POST", "/svc/v3/items")])

    assert [r.status_code for r in answers] == [200, 201]


def test_every_response_carries_a_distinct_request_id() -> None:
    answers = call([("GET", "/svc/v3/items/me"), ("GET", "/svc/nope")])

    ids = [r.headers["x-openstack-request-id"] for r in answers]
    assert ids[0] != ids[1]
    assert all(i.startswith("req-") for i in ids)


def test_request_ids_are_version_4_uuids() -> None:
    for _ in range(200):
        request_id = new_request_id()
        parsed = uuid.UUID(request_id.removeprefix("req-"))
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == request_id.removeprefix("req-")


def test_log_line_quotes_only_what_needs_quotes() -> None:
    record = logging.makeLogRecord(
        {"name": "onestack.http", "levelname": "INFO", "msg": "request", "created": 0.0}
    )
    record.__dict__.update(status=200, duration_ms=1.5, path="/a b", empty="", quote='say "hi"')

    line = LogfmtFormatter().format(record)

    assert "level=info logger=onestack.http msg=request status=200 duration_ms=1.5" in line
    assert 'path="/a b" empty="" quote="say \\"hi\\""' in line


def test_log_values_escape_control_characters_so_a_line_stays_one_line() -> None:
    record = logging.makeLogRecord(
        {"name": "onestack.http", "levelname": "INFO", "msg": "request", "created": 0.0}
    )
    record.__dict__.update(path="/v3/users/a\x00b\nts=forged level=error", back="a\\b")

    line = LogfmtFormatter().format(record)

    assert "\n" not in line and "\x00" not in line
    assert 'path="/v3/users/a\\u0000b\\nts=forged level=error"' in line
    assert 'back="a\\\\b"' in line


def test_a_nul_in_the_path_or_query_is_a_400_in_the_services_own_body() -> None:
    urls = ["/svc/v3/items/a%00b", "/svc/v3/items/x?name=a%00b", "/svc/v3/items/a%0Ab"]
    answers = call([("GET", url) for url in [*urls, "/svc/v3/items/x?name=ab"]])

    assert [r.status_code for r in answers] == [400, 400, 400, 200]
    assert all(r.json() == {"error": {"code": 400}} for r in answers[:3])
    assert answers[3].text == "one x"
