"""Interoperable import (POST /v2/images/{id}/import) as background tasks, the way Glance runs
its api_image_import tasks.

`start()` checks the request against the image, claims quota, records a task, takes the
image's import lock (`os_glance_import_task`), lists the target stores in
`os_glance_importing_to_stores` and, for glance-direct, moves the image uploading ->
importing, all in one transaction that also queues the work for the image agent
(`common.agent`, kind `image.import`); the caller gets 202 while an agent's `run()` copies the
data (file I/O in worker threads):

- glance-direct: the staged data, hashed on the way, into every target store at once; the
  image goes active with its size and hashes, the staged data goes away.
- copy-image: an active image's data from a store that has it into the other stores.

A store that fails moves to `os_glance_failed_import`. With all_stores_must_succeed (the
default) any failure fails the task and removes what was written (the image goes back to
queued for glance-direct); otherwise the task succeeds when at least one store did. Every
end clears the lock and the importing list and gives the task its status, result, message
and expiry. The agent persists the steps (`copying`, then `committed` with what was written);
an agent that died is replaced by another that resumes the task from its last step, and a
task interrupted `MAX_ATTEMPTS` times fails with a message saying so. `recover()`, on a full
start, fails tasks that no agent can resume (they have no work row).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.ownership import Work, WorkRow, work_id
from onestack.image import errors
from onestack.image.drivers import DataNotFound
from onestack.image.manager.base import Caller, ImageBase, ImageDeps, get_visible, now
from onestack.image.manager.data import DataManager
from onestack.image.manager.tee import ImportFailed, TeeWriter, aiter_chunks
from onestack.image.models import Image, ImageLocation, ImageProperty, ImageTask

log = logging.getLogger(__name__)

TASK_TYPE = "api_image_import"
LOCK = "os_glance_import_task"
IMPORTING = "os_glance_importing_to_stores"
FAILED = "os_glance_failed_import"
# How long a finished task stays listed (Glance's task_time_to_live, 48 h).
TASK_TTL = timedelta(hours=48)
RUNNING = ("pending", "processing")
IMPORT = "image.import"
# An import whose agent died this many times is failed rather than tried again: the data
# itself may be what kills the agent.
MAX_ATTEMPTS = 3
# What a caller's context keeps in the work row, to name the initiator of notifications.
CALLER_FIELDS = ("user_id", "user_domain_id", "project_id", "project_domain_id", "request_id")


@dataclass(frozen=True)
class ImportRequest:
    """The body of an import call, validated, and the X-Image-Meta-Store header."""

    method: str
    stores: list[str] | None = None
    all_stores: bool = False
    all_stores_must_succeed: bool = True
    header_store: str | None = None
    body: dict[str, Any] = field(default_factory=dict)


class ImportManager(ImageBase):
    def __init__(self, deps: ImageDeps, data: DataManager) -> None:
        super().__init__(deps)
        self.data = data
        # Tells the agents that work is queued (a cast on the bus); they also poll for it.
        self.wake_agent: Callable[[], None] = lambda: None

    # -- the request ---------------------------------------------------------------------

    def start(self, caller: Caller, image_id: str, wanted: ImportRequest) -> str | None:
        """Record the import task and mark the image; returns the task id to `run()`, or
        None when a copy-image to all stores finds nothing to copy."""
        if wanted.method not in self.settings.import_methods:
            raise errors.ImportMethodNotEnabled(wanted.method, self.settings.import_methods)
        with self.writing() as session:
            image = get_visible(session, caller, image_id)
            _check_status(image, wanted.method)
            self._check_lock(session, image)
            targets = self._targets(image, wanted)
            if not targets:
                # Nothing to copy: the import is over at once. Both store lists still show
                # (empty), as they do after any import: clients wait on them.
                for name in (IMPORTING, FAILED):
                    if _property(image, name) is None:
                        _set_property(image, name, "")
                image.updated_at = now()
                return None
            size = image.size or 0
            staged = size if wanted.method == "copy-image" else 0
            self.quotas.claim_import(image.owner, size * len(targets), staged)
            task = self._new_task(caller, image, wanted, targets)
            session.add(task)
            _set_property(image, LOCK, task.task_id)
            _merge_stores(image, IMPORTING, targets)
            _merge_stores(image, FAILED, targets, remove=True)
            if wanted.method == "glance-direct":
                image.status = "importing"
            image.updated_at = now()
            self.ownership.enqueue(session, IMPORT, task.task_id, {"caller": _caller(caller)})
        self.wake_agent()
        return task.task_id

    def run_work(self, work: Work) -> None:
        """The agent's handler: run (or resume) the task of an `image.import` work row."""
        task_id = work.resource_id
        caller = _caller_from(work.detail.get("caller"))
        if work.attempts > MAX_ATTEMPTS:
            message = f"The import was interrupted {MAX_ATTEMPTS} times; it was not retried."
            self._finish_failed(task_id, message, [], {})
            return
        asyncio.run(self.run(task_id, caller, work))

    def tasks(self, caller: Caller, image_id: str) -> list[ImageTask]:
        """The import tasks of an image the caller can see, oldest first."""
        with self.db.reader() as session:
            get_visible(session, caller, image_id)
            query = select(ImageTask).where(ImageTask.image_id == image_id)
            return list(session.scalars(query.order_by(ImageTask.created_at, ImageTask.task_id)))

    def _check_lock(self, session: Session, image: Image) -> None:
        """409 while another import of the image runs; a dead task's lock is taken over."""
        holder = _property(image, LOCK)
        if not holder:
            return
        task = session.get(ImageTask, holder)
        if task is not None and task.status in RUNNING:
            raise errors.ImportConflict(
                f"New operation on image '{image.image_id}' is not permitted as prior "
                "operation is still in progress"
            )
        _merge_stores(image, FAILED, _stores_in(image, IMPORTING))
        _drop_property(image, IMPORTING)

    def _targets(self, image: Image, wanted: ImportRequest) -> list[str]:
        if wanted.all_stores:
            if wanted.stores is not None or wanted.header_store is not None:
                raise errors.InvalidParameter(
                    "All_stores parameter can't be used with x-image-meta-store header or "
                    "stores parameter"
                )
            targets = self.stores.ids
        elif wanted.stores is not None:
            if wanted.header_store is not None:
                raise errors.InvalidParameter(
                    "Stores parameter and x-image-meta-store header can't be both specified"
                )
            targets = list(dict.fromkeys(wanted.stores))
        else:
            targets = [wanted.header_store or self.stores.default_id]
        for store_id in targets:
            if self.stores.find(store_id) is None:
                raise errors.StoreNotAvailable(store_id)
        present = {row.store_id for row in image.locations}
        if wanted.method != "copy-image":
            return targets
        if wanted.all_stores:
            return [store_id for store_id in targets if store_id not in present]
        for store_id in targets:
            if store_id in present:
                raise errors.InvalidParameter(f"Image is already present at store '{store_id}'")
        return targets

    def _new_task(
        self, caller: Caller, image: Image, wanted: ImportRequest, targets: list[str]
    ) -> ImageTask:
        moment = now()
        task_input = {"image_id": image.image_id, "import_req": wanted.body, "backend": targets}
        return ImageTask(
            task_id=str(uuid.uuid4()),
            type=TASK_TYPE,
            status="pending",
            image_id=image.image_id,
            owner=caller.project_id,
            user_id=caller.ctx.user_id,
            request_id=caller.ctx.request_id,
            input=json.dumps(task_input),
            result=None,
            message="",
            created_at=moment,
            updated_at=moment,
        )

    # -- the background work -------------------------------------------------------------

    async def run(
        self, task_id: str, caller: Caller | None = None, work: Work | None = None
    ) -> None:
        """Carry out the task to success or failure; never leaves it processing.

        `caller` (who asked for the import) is the initiator of its notifications; `work`,
        when an agent runs it, is where its steps are persisted (and resumed from)."""
        try:
            await self._run(task_id, caller, work)
        except Exception as exc:  # a bug must still end the task visibly
            log.exception("image import task failed", extra={"task_id": task_id})
            self._finish_failed(task_id, f"Error: {type(exc).__name__}: {exc}", [], {})

    async def _run(self, task_id: str, caller: Caller | None, work: Work | None) -> None:
        job = self._begin(task_id, caller, resuming=work is not None and work.attempts > 1)
        if job is None:
            return
        if work is not None and self._resume_committed(job, work):
            return
        self._step(job, "copying")
        for store_id in job.targets:
            lists = _import_lists(job.image)
            self.notify(job.caller, "prepare", job.image, backend=store_id, **lists)
        tee = TeeWriter({}, job.must_succeed)
        try:
            owner_id = self.ownership.owner_id
            for store_id in job.targets:
                tee.add(store_id, self.stores[store_id].writer(job.image_id, owner_id))
            source = aiter_chunks(self._source(job))
            if job.method == "glance-direct":  # a copy is of data that passed already
                source = self.data.inspecting(source, job.image.disk_format)
            size, md5, secure = await self.data._stream(source, tee)
            if job.method == "copy-image" and job.image.checksum not in (None, md5):
                raise ImportFailed("The copied data does not match the image's checksum.")
            committed = await anyio.to_thread.run_sync(tee.commit_all)
            self._step(job, "committed", committed, size=size, md5=md5, secure=secure)
        except (
            ImportFailed,
            errors.ImageTooLarge,
            errors.InvalidImageFormat,
            OSError,
            DataNotFound,
        ) as exc:
            tee.abort()
            message = str(exc) or type(exc).__name__
            self._finish_failed(task_id, message, job.targets, tee.committed)
            return
        except BaseException:
            tee.abort()
            self._remove(tee.committed)
            raise
        failed = [s for s in job.targets if s not in committed]
        if not committed or (job.must_succeed and failed):
            self._finish_failed(task_id, tee.reason(failed), job.targets, committed)
            return
        self._finish(job, committed, failed, size, md5, secure)

    def _step(
        self, job: _Job, step: str, committed: dict[str, str] | None = None, **more: Any
    ) -> None:
        """Persist the step the task reached (a resumed task starts from it)."""
        detail = {"caller": _caller(job.caller), "committed": committed or {}, **more}
        self.ownership.step(work_id(IMPORT, job.task_id), step, detail)

    def _resume_committed(self, job: _Job, work: Work) -> bool:
        """A task whose data was written before its agent died: finish it from the record."""
        committed: dict[str, str] = work.detail.get("committed") or {}
        if work.step != "committed" or not committed:
            return False
        if not all(self.stores[s].exists(loc) for s, loc in committed.items()):
            return False
        failed = [s for s in job.targets if s not in committed]
        detail = work.detail
        self._finish(job, committed, failed, detail["size"], detail["md5"], detail["secure"])
        return True

    def _begin(self, task_id: str, caller: Caller | None, resuming: bool = False) -> _Job | None:
        startable = RUNNING if resuming else ("pending",)
        with self.writing() as session:
            task = session.get(ImageTask, task_id)
            if task is None or task.status not in startable:
                return None
            task.status = "processing"
            task.updated_at = now()
            image = session.get(Image, task.image_id or "")
            if image is None or _property(image, LOCK) != task_id:
                task.status = "failure"
                task.message = "Image has been deleted, aborting import."
                task.expires_at = now() + TASK_TTL
                return None
        task_input = json.loads(task.input)
        body = task_input["import_req"]
        return _Job(
            task_id=task_id,
            image_id=image.image_id,
            image=image,
            method=body["method"]["name"],
            targets=task_input["backend"],
            must_succeed=body.get("all_stores_must_succeed", True),
            caller=caller,
        )

    def _source(self, job: _Job) -> Iterator[bytes]:
        """The data to import: staged (glance-direct) or from a store that has it."""
        if job.method == "glance-direct":
            if not job.image.stage_location:
                raise ImportFailed("The image has no staged data.")
            return self.stores.staging.read(job.image.stage_location)
        for row in job.image.locations:
            store = self.stores.find(row.store_id)
            if store is not None and store.exists(row.location):
                return store.read(row.location)
        raise ImportFailed("No configured store holds the image's data.")

    def _finish(
        self,
        job: _Job,
        committed: dict[str, str],
        failed: list[str],
        size: int,
        md5: str,
        secure: str,
    ) -> None:
        staged = None
        with self.writing() as session:
            image = session.get(Image, job.image_id)
            alive = image is not None and _property(image, LOCK) == job.task_id
            if alive and job.method == "glance-direct" and image.status != "importing":
                alive = False
            if alive:
                present = {row.store_id for row in image.locations}
                for store_id, location in committed.items():
                    if store_id not in present:
                        image.locations.append(
                            ImageLocation(store_id=store_id, location=location, created_at=now())
                        )
                if job.method == "glance-direct":
                    staged = image.stage_location
                    image.status = "active"
                    image.size = size
                    image.checksum = md5
                    image.os_hash_algo = self.settings.hash_algo
                    image.os_hash_value = secure
                    image.stage_location = None
                _end_import(image, job.targets, failed)
                image.updated_at = now()
            task = session.get(ImageTask, job.task_id)
            if task is not None:
                if alive:
                    task.status = "success"
                    task.result = json.dumps({"image_id": job.image_id})
                else:
                    task.status = "failure"
                    task.message = "Image has been deleted, aborting import."
                task.updated_at = now()
                task.expires_at = now() + TASK_TTL
        if not alive:  # deleted (or taken over) meanwhile: what was written must go
            self._remove(committed)
            return
        if staged:
            self.stores.staging.delete(staged)
        for store_id in committed:
            lists = _import_lists(image)
            self.notify(job.caller, "upload", image, backend=store_id, **lists)
        if job.method == "glance-direct":
            self.notify(job.caller, "activate", image)

    def _finish_failed(
        self, task_id: str, message: str, targets: Sequence[str], written: dict[str, str]
    ) -> None:
        """Fail the task: remove what was written, give the image back its previous state."""
        self._remove(written)
        staged = None
        with self.writing() as session:
            task = session.get(ImageTask, task_id)
            if task is None or task.status not in RUNNING:
                return
            task.status = "failure"
            task.message = message
            task.updated_at = now()
            task.expires_at = now() + TASK_TTL
            image = session.get(Image, task.image_id or "")
            if image is None or _property(image, LOCK) != task_id:
                return
            if image.status == "importing":
                staged = image.stage_location
                image.status = "queued"
                image.stage_location = None
                image.size = None
            _end_import(image, targets or _stores_in(image, IMPORTING), targets)
            image.updated_at = now()
        if staged:
            self.stores.staging.delete(staged)

    def _remove(self, written: dict[str, str]) -> None:
        for store_id, location in written.items():
            store = self.stores.find(store_id)
            if store is not None:
                store.delete(location)

    # -- restarts ------------------------------------------------------------------------

    def recover(self) -> None:
        """On a full start (no other process alive): tasks no agent can resume (no work row)
        fail; their images get their locks back and return to uploading (staged data still
        there) or queued; stages a crash cut short go back to queued; staged data no image
        refers to goes away. Work of dead owners was put back before (`ImageManager.recover`);
        queued imports wait for an agent."""
        message = "The import was interrupted by a restart of the image service."
        with self.writing() as session:
            # Import tasks of the tasks API (`tasks.py`, work kind image.task) resume too.
            queued = select(WorkRow.resource_id).where(WorkRow.kind.in_((IMPORT, "image.task")))
            resumable = set(session.scalars(queued))
            running = select(ImageTask).where(ImageTask.status.in_(RUNNING))
            for task in session.scalars(running):
                if task.task_id in resumable:
                    continue
                task.status = "failure"
                task.message = message
                task.updated_at = now()
                task.expires_at = now() + TASK_TTL
            locked = select(ImageProperty.image_id).where(ImageProperty.name == LOCK)
            images = session.scalars(
                select(Image).where(
                    Image.status.in_(("uploading", "importing")) | Image.image_id.in_(locked)
                )
            )
            for image in images:
                if _property(image, LOCK) in resumable:
                    continue
                if _property(image, LOCK):
                    _end_import(image, _stores_in(image, IMPORTING), _stores_in(image, IMPORTING))
                if image.status in ("uploading", "importing"):
                    staged = image.stage_location and self.stores.staging.exists(
                        image.stage_location
                    )
                    image.status = "uploading" if staged else "queued"
                    if not staged:
                        image.stage_location = None
                        image.size = None
                    image.updated_at = now()
            staged_at = select(Image.stage_location).where(Image.stage_location.is_not(None))
            referenced = set(session.scalars(staged_at))
        for location in self.stores.staging.locations():
            if location not in referenced:
                self.stores.staging.delete(location)


@dataclass
class _Job:
    task_id: str
    image_id: str
    image: Image
    method: str
    targets: list[str]
    must_succeed: bool
    caller: Caller | None


def _caller(caller: Caller | None) -> dict[str, Any] | None:
    """What the work row keeps of the caller (JSON)."""
    if caller is None:
        return None
    return {name: getattr(caller.ctx, name) for name in CALLER_FIELDS}


def _caller_from(kept: dict[str, Any] | None) -> Caller | None:
    return Caller(RequestContext(**kept)) if kept else None


def _check_status(image: Image, method: str) -> None:
    """Glance's preconditions (409 each)."""
    if image.status == "active" and method != "copy-image":
        raise errors.ImportConflict("Image with status active cannot be target for import")
    if image.status != "active" and method == "copy-image":
        raise errors.ImportConflict("Only images with status active can be targeted for copying")
    if method == "glance-direct" and (image.status != "uploading" or not image.stage_location):
        raise errors.ImportConflict(
            "Image needs to be staged before 'glance-direct' method can be used"
        )
    if not image.container_format:
        raise errors.ImportConflict("'container_format' needs to be set before import")
    if not image.disk_format:
        raise errors.ImportConflict("'disk_format' needs to be set before import")


def _import_lists(image: Image) -> dict[str, list[str]]:
    """The import's store lists as Glance adds them to image.prepare and image.upload."""
    return {name: _stores_in(image, name) for name in (IMPORTING, FAILED)}


def _end_import(image: Image, targets: Sequence[str], failed: Sequence[str]) -> None:
    _merge_stores(image, IMPORTING, targets, remove=True)
    _merge_stores(image, FAILED, failed)
    _drop_property(image, LOCK)


def _property(image: Image, name: str) -> str | None:
    return next((p.value for p in image.properties if p.name == name), None)


def _set_property(image: Image, name: str, value: str) -> None:
    for prop in image.properties:
        if prop.name == name:
            prop.value = value
            return
    image.properties.append(ImageProperty(name=name, value=value))


def _drop_property(image: Image, name: str) -> None:
    image.properties = [p for p in image.properties if p.name != name]


def _stores_in(image: Image, name: str) -> list[str]:
    return [s for s in (_property(image, name) or "").split(",") if s]


def _merge_stores(image: Image, name: str, stores: Sequence[str], remove: bool = False) -> None:
    """Add `stores` to (or remove them from) a comma-separated store list property; the
    property stays, empty, once it existed (as Glance keeps it)."""
    current = set(_stores_in(image, name))
    merged = current - set(stores) if remove else current | set(stores)
    if merged or _property(image, name) is not None:
        _set_property(image, name, ",".join(sorted(merged)))
