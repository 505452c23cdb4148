"""Glance's tasks API over HTTP: GET/POST /v2/tasks, GET /v2/tasks/{task_id}, and the task
schemas (/v2/schemas/task, /v2/schemas/tasks).

A listed task leaves out its input, result and message, as Glance's list does.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.image.api.common import enforce, json_object, manager
from onestack.image.api.listing import integer
from onestack.image.api.render import timestamp
from onestack.image.manager import TaskQuery
from onestack.image.manager.tasks import STATUSES, TYPES
from onestack.image.models import ImageTask

SUMMARY = ("id", "type", "status", "owner", "expires_at", "created_at", "updated_at")


def task(row: ImageTask) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.task_id,
        "type": row.type,
        "status": row.status,
        "owner": row.owner,
        "input": json.loads(row.input),
        "result": None if row.result is None else json.loads(row.result),
        "message": row.message,
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
        "self": f"/v2/tasks/{row.task_id}",
        "schema": "/v2/schemas/task",
    }
    if row.expires_at is not None:
        body["expires_at"] = timestamp(row.expires_at)
    return body


def summary(row: ImageTask) -> dict[str, Any]:
    full = task(row)
    return {key: full[key] for key in (*SUMMARY, "self", "schema") if key in full}


def _query(request: Request) -> TaskQuery:
    params = request.query_params
    settings = manager(request).settings
    limit = integer(params, "limit")
    return TaskQuery(
        type=params.get("type"),
        status=params.get("status"),
        limit=settings.page_size_default if limit is None else min(limit, settings.page_size_max),
        marker=params.get("marker"),
        sort_key=params.get("sort_key", "created_at"),
        sort_dir=params.get("sort_dir", "desc"),
    )


async def list_tasks(request: Request) -> Response:
    who = enforce(request, "get_tasks")
    query = _query(request)
    rows = manager(request).tasks.list(who, query)
    body: dict[str, Any] = {
        "tasks": [summary(row) for row in rows],
        "first": "/v2/tasks",
        "schema": "/v2/schemas/tasks",
    }
    if rows and len(rows) == query.limit:
        params = {k: v for k, v in request.query_params.items() if k != "marker"}
        body["next"] = f"/v2/tasks?{urlencode({**params, 'marker': rows[-1].task_id})}"
    return JSONResponse(body)


async def show_task(request: Request) -> Response:
    who = enforce(request, "get_task")
    return JSONResponse(task(manager(request).tasks.get(who, request.path_params["task_id"])))


async def create_task(request: Request) -> Response:
    who = enforce(request, "add_task")
    row = manager(request).tasks.create(who, await json_object(request))
    manager(request).imports.wake_agent()
    return JSONResponse(task(row), status_code=201)


def task_schema() -> dict[str, Any]:
    def text(description: str, **more: Any) -> dict[str, Any]:
        return {"type": "string", "description": description, **more}

    return {
        "name": "task",
        "properties": {
            "id": text("The task's identifier"),
            "type": text("What the task does", enum=list(TYPES)),
            "status": text("Where the task is", enum=list(STATUSES)),
            "input": {"type": "object", "description": "What the task was given"},
            "result": {"type": ["null", "object"], "description": "What the task produced"},
            "owner": text("The project that asked for it"),
            "message": text("Why it failed, when it did"),
            "expires_at": {"type": ["null", "string"], "description": "When it is forgotten"},
            "created_at": text("When it was created"),
            "updated_at": text("When it last changed"),
            "self": text("The task's URL"),
            "schema": text("The task schema's URL"),
        },
        "required": ["type", "input"],
    }


async def show_task_schema(request: Request) -> Response:
    enforce(request, "get_tasks")
    return JSONResponse(task_schema())


async def show_tasks_schema(request: Request) -> Response:
    enforce(request, "get_tasks")
    item = task_schema()
    for key in ("input", "result", "message"):
        item["properties"].pop(key)
    body = {
        "name": "tasks",
        "properties": {
            "tasks": {"type": "array", "items": item},
            "schema": {"type": "string"},
            "first": {"type": "string"},
            "next": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }
    return JSONResponse(body)


routes = [
    Route("/v2/tasks", list_tasks, methods=["GET"]),
    Route("/v2/tasks", create_task, methods=["POST"]),
    Route("/v2/tasks/{task_id}", show_task, methods=["GET"]),
    Route("/v2/schemas/task", show_task_schema, methods=["GET"]),
    Route("/v2/schemas/tasks", show_tasks_schema, methods=["GET"]),
]
