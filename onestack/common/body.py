"""Request bodies: JSON parsed and validated into pydantic models, or a 400 that says why.

A malformed body never reaches a manager, so a bad request writes nothing. Every JSON body a
service reads goes through `loads`, which also applies the text rule of `common.text` (no NUL
anywhere, no control characters in names and ids).
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from onestack.common.errors import BadRequest
from onestack.common.text import ForbiddenText, check_document

Model = TypeVar("Model", bound=BaseModel)


async def parse_body(request: Request, model: type[Model]) -> Model:
    """The request's JSON body as `model`; BadRequest naming the field when it does not fit."""
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("The request body is empty; a JSON object is required.")
    document = loads(raw)
    if not isinstance(document, dict):
        raise BadRequest("The request body must be a JSON object.")
    return validate(document, model)


def loads(raw: bytes, error: type[BadRequest] = BadRequest) -> Any:
    """A request body's JSON document; `error` (a service's own 400, if it has one) when it is
    not JSON or breaks the text rule."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise error(f"The request body is not valid JSON: {exc}.") from exc
    try:
        check_document(document)
    except ForbiddenText as exc:
        raise error(exc.message) from exc
    return document


def validate(document: object, model: type[Model]) -> Model:
    """`document` as `model`, or BadRequest describing the first problem."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise BadRequest(describe(exc)) from exc


def describe(exc: ValidationError) -> str:
    """One sentence for the first validation problem, with the field's dotted path."""
    problem = exc.errors()[0]
    field = ".".join(str(part) for part in problem["loc"]) or "body"
    return f"Invalid input for field '{field}': {problem['msg']}."
