"""Glance's tasks API (/v2/tasks): the image-import tasks (`api_image_import`, kept by
`imports.py`) and the older `import` tasks, in one table (`image_tasks`).

An `import` task names a URL, its format and the properties of a new image: `create()` records
it pending and queues it for the image agent (work kind `image.task`); the agent creates the
image, streams the URL's data into it (`DataManager.upload`, which checks quota and format)
and ends the task in success (result: the image id) or failure (message: why; the half-made
image is deleted). A task outlives its expiry only as long as nobody cleans it up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from onestack.common.errors import OneStackError
from onestack.common.ownership import Work
from onestack.image import errors
from onestack.image.manager.base import Caller, ImageBase, ImageDeps, now
from onestack.image.manager.data import DataManager
from onestack.image.manager.images import ImageRecords
from onestack.image.manager.imports import MAX_ATTEMPTS, RUNNING, TASK_TTL, _caller, _caller_from
from onestack.image.models import ImageTask

log = logging.getLogger(__name__)

TASK = "image.task"
TYPES = ("import", "api_image_import")
STATUSES = ("pending", "processing", "success", "failure")
SORT_KEYS = ("created_at", "updated_at", "id", "type", "status")
FETCH_TIMEOUT_S = 60.0


@dataclass
class TaskQuery:
    type: str | None = None
    status: str | None = None
    limit: int = 25
    marker: str | None = None
    sort_key: str = "created_at"
    sort_dir: str = "desc"


def import_input(body: dict[str, Any]) -> dict[str, Any]:
    """An `import` task's input as Glance requires it (400 naming what is missing)."""
    if body.get("type") != "import":
        raise errors.InvalidParameter("Task type must be 'import'.")
    task_input = body.get("input")
    if not isinstance(task_input, dict):
        raise errors.InvalidParameter("Task 'input' must be a JSON object.")
    for name, kind in (
        ("import_from", str),
        ("import_from_format", str),
        ("image_properties", dict),
    ):
        if not isinstance(task_input.get(name), kind):
            raise errors.InvalidParameter(f"Input does not contain a valid '{name}' field.")
    if not task_input["import_from"].startswith(("http://", "https://")):
        raise errors.InvalidParameter("'import_from' must be an http or https URL.")
    return task_input


class TaskManager(ImageBase):
    def __init__(self, deps: ImageDeps, records: ImageRecords, data: DataManager) -> None:
        super().__init__(deps)
        self.records = records
        self.data = data

    def list(self, caller: Caller, query: TaskQuery) -> list[ImageTask]:
        if query.sort_key not in SORT_KEYS:
            raise errors.InvalidParameter(f"Invalid sort key: {query.sort_key}.")
        if query.sort_dir not in ("asc", "desc"):
            raise errors.InvalidParameter(f"Invalid sort direction: {query.sort_dir}.")
        for name, value, allowed in (
            ("type", query.type, TYPES),
            ("status", query.status, STATUSES),
        ):
            if value is not None and value not in allowed:
                raise errors.InvalidParameter(f"Invalid {name} value: {value}.")
        column = ImageTask.task_id if query.sort_key == "id" else getattr(ImageTask, query.sort_key)
        statement = select(ImageTask)
        if not caller.is_admin:
            statement = statement.where(ImageTask.owner == caller.project_id)
        if query.type:
            statement = statement.where(ImageTask.type == query.type)
        if query.status:
            statement = statement.where(ImageTask.status == query.status)
        order = (column, ImageTask.task_id)
        if query.sort_dir == "desc":
            order = (column.desc(), ImageTask.task_id.desc())
        with self.db.reader() as session:
            tasks = list(session.scalars(statement.order_by(*order)))
        if query.marker is not None:
            ids = [task.task_id for task in tasks]
            if query.marker not in ids:
                raise errors.InvalidParameter(f"Invalid marker: task {query.marker}.")
            tasks = tasks[ids.index(query.marker) + 1 :]
        return tasks[: query.limit]

    def get(self, caller: Caller, task_id: str) -> ImageTask:
        with self.db.reader() as session:
            task = session.get(ImageTask, task_id)
        if task is None or not (caller.is_admin or task.owner == caller.project_id):
            raise errors.TaskNotFound(task_id)
        return task

    def create(self, caller: Caller, body: dict[str, Any]) -> ImageTask:
        """A pending `import` task, queued for the image agent."""
        task_input = import_input(body)
        moment = now()
        task = ImageTask(
            task_id=str(uuid.uuid4()),
            type="import",
            status="pending",
            image_id=None,
            owner=caller.project_id,
            user_id=caller.ctx.user_id,
            request_id=caller.ctx.request_id,
            input=json.dumps(task_input),
            result=None,
            message="",
            created_at=moment,
            updated_at=moment,
        )
        with self.writing() as session:
            session.add(task)
            self.ownership.enqueue(session, TASK, task.task_id, {"caller": _caller(caller)})
        self.notifier.info("task.create", {"id": task.task_id, "type": task.type})
        return task

    # -- the agent's side ----------------------------------------------------------------

    def run_work(self, work: Work) -> None:
        """The agent's handler for an `image.task` work row."""
        caller = _caller_from(work.detail.get("caller"))
        if caller is None or work.attempts > MAX_ATTEMPTS:
            message = f"The task was interrupted {MAX_ATTEMPTS} times; it was not retried."
            self._end(work.resource_id, "failure", message=message)
            return
        asyncio.run(self.run(work.resource_id, caller))

    async def run(self, task_id: str, caller: Caller) -> None:
        """Create the image and fetch its data; never leaves the task processing."""
        task = self._begin(task_id)
        if task is None:
            return
        task_input = json.loads(task.input)
        image_id = task.image_id
        try:
            if image_id is None:
                image = self.records.create(caller, task_input["image_properties"])
                image_id = image.image_id
                self._set_image(task_id, image_id)
            await self._fetch(caller, image_id, task_input["import_from"])
        except (OneStackError, httpx.HTTPError, OSError) as exc:
            self._discard(caller, image_id)
            self._end(task_id, "failure", message=_reason(exc))
            return
        except Exception as exc:  # a bug must still end the task visibly
            log.exception("image task failed", extra={"task_id": task_id})
            self._discard(caller, image_id)
            self._end(task_id, "failure", message=f"Error: {type(exc).__name__}: {exc}")
            return
        self._end(task_id, "success", result={"image_id": image_id})

    async def _fetch(self, caller: Caller, image_id: str, url: str) -> None:
        async with (
            httpx.AsyncClient(timeout=FETCH_TIMEOUT_S) as client,
            client.stream("GET", url) as response,
        ):
            response.raise_for_status()
            length = response.headers.get("content-length")
            expected = int(length) if length and length.isdigit() else None
            await self.data.upload(caller, image_id, response.aiter_bytes(), expected)

    def _begin(self, task_id: str) -> ImageTask | None:
        with self.writing() as session:
            task = session.get(ImageTask, task_id)
            if task is None or task.status not in RUNNING:
                return None
            task.status = "processing"
            task.updated_at = now()
            return task

    def _set_image(self, task_id: str, image_id: str) -> None:
        """Remember the image made, so a resumed task fills it instead of making another."""
        with self.writing() as session:
            task = session.get(ImageTask, task_id)
            if task is not None:
                task.image_id = image_id

    def _discard(self, caller: Caller, image_id: str | None) -> None:
        if image_id is None:
            return
        try:
            self.records.delete(caller, image_id)
        except OneStackError:
            log.warning("could not delete the image of a failed task", extra={"image": image_id})

    def _end(
        self, task_id: str, status: str, message: str = "", result: dict[str, Any] | None = None
    ) -> None:
        with self.writing() as session:
            task = session.get(ImageTask, task_id)
            if task is None:
                return
            task.status = status
            task.message = message
            task.result = None if result is None else json.dumps(result)
            task.updated_at = now()
            task.expires_at = now() + TASK_TTL
        self.notifier.info(f"task.{status}", {"id": task_id, "type": task.type, "message": message})


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OneStackError):
        return exc.message
    if isinstance(exc, httpx.HTTPStatusError):
        return f"Fetching the data failed: HTTP {exc.response.status_code}."
    return f"Fetching the data failed: {type(exc).__name__}: {exc}"
