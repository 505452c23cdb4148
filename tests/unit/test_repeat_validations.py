"""What the repeated-validation fast path of identity's token reader answers itself and what it
passes on to the app."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.routing import Route

from onestack.common.auth import TokenReader
from onestack.common.http import service_app
from onestack.identity.api.repeat_validations import RepeatValidations, ValidationMemo

CALLER, SUBJECT = "caller-token", "subject-token"


class Generations:
    """Stands in for the token manager: counts the generation reads."""

    def __init__(self, value: int) -> None:
        self.value = value
        self.reads = 0

    def current_generation(self) -> int:
        self.reads += 1
        return self.value


def request(
    method: str = "GET", path: str = "/identity/v3/auth/tokens", query: bytes = b"", **headers: str
) -> dict[str, Any]:
    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "/identity",
        "query_string": query,
        "headers": raw,
    }


def serve(shortcut: RepeatValidations, scope: dict[str, Any]) -> list[dict[str, Any]]:
    """What a service app with this fast path sends; `passed on` when its routes must answer
    (it has none: a 404)."""
    sent: list[dict[str, Any]] = []
    reader = TokenReader(lambda request, token_id: token_id, fast_path=shortcut)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    app = service_app([], lambda error: {"status": error.status}, reader)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    asyncio.run(app(scope, receive, send))
    return sent if sent[0]["status"] != 404 else [{"type": "passed on"}]


async def endpoint(request: Any) -> Any:
    raise AssertionError("the fast path never runs the endpoint")


def shortcut(generations: Generations, expires_in: float = 60) -> RepeatValidations:
    memo = ValidationMemo(Route("/v3/auth/tokens", endpoint, methods=["GET"]))
    memo.remember((CALLER, SUBJECT, True), 7, time.time() + expires_in, b'{"token": {}}')
    return RepeatValidations(memo, generations)  # type: ignore[arg-type]


def test_a_remembered_validation_is_answered_with_its_headers() -> None:
    generations = Generations(7)
    scope = request(x_auth_token=CALLER, x_subject_token=SUBJECT)

    start, body = serve(shortcut(generations), scope)

    assert start["status"] == 200 and body["body"] == b'{"token": {}}'
    assert dict(start["headers"]) == {
        b"content-length": b"13",
        b"content-type": b"application/json",
        b"x-subject-token": SUBJECT.encode(),
    }
    assert scope["route"].path == "/v3/auth/tokens" and generations.reads == 1


def test_a_write_since_passes_the_request_on() -> None:
    sent = serve(shortcut(Generations(8)), request(x_auth_token=CALLER, x_subject_token=SUBJECT))

    assert sent == [{"type": "passed on"}]


def test_an_expired_token_passes_the_request_on() -> None:
    scope = request(x_auth_token=CALLER, x_subject_token=SUBJECT)

    assert serve(shortcut(Generations(7), expires_in=-1), scope) == [{"type": "passed on"}]


def test_what_was_never_remembered_costs_no_generation_read() -> None:
    generations = Generations(7)
    others = [
        request(x_auth_token="another", x_subject_token=SUBJECT),
        request(x_auth_token=CALLER, x_subject_token=SUBJECT, query=b"nocatalog"),
        request(x_auth_token=CALLER, x_subject_token=SUBJECT, query=b"allow_expired=1"),
        request(x_auth_token=CALLER),
        request("HEAD", x_auth_token=CALLER, x_subject_token=SUBJECT),
        request(path="/identity/v3/auth/tokens/x", x_auth_token=CALLER, x_subject_token=SUBJECT),
    ]

    for scope in others:
        assert serve(shortcut(generations), scope) == [{"type": "passed on"}]
    assert generations.reads == 0


def test_a_failing_generation_read_passes_the_request_on() -> None:
    class Unreachable(Generations):
        def current_generation(self) -> int:
            raise ConnectionError("database away")

    scope = request(x_auth_token=CALLER, x_subject_token=SUBJECT)

    assert serve(shortcut(Unreachable(7)), scope) == [{"type": "passed on"}]
