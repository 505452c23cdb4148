"""Containers: PUT (201 new, 202 existing), HEAD/GET (counts, metadata, object listing),
POST (metadata, ACLs) and DELETE (409 while it holds objects)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.object import errors
from onestack.object.api.acl import account_for
from onestack.object.api.common import (
    account_of,
    call,
    checked_names,
    metadata_changes,
    metadata_headers,
    storage,
    timestamp,
)
from onestack.object.api.listing import list_query, output_format, render
from onestack.object.manager import ContainerChange, ContainerView


async def container(request: Request) -> Response:
    checked_names(request)
    name = request.path_params["container"]
    if not name:
        raise errors.ObjectNotFound()
    handler = _HANDLERS[request.method]
    return await handler(request, name)


async def _put(request: Request, name: str) -> Response:
    account = account_of(request, write=True)
    created = await call(storage(request).containers.create, account, name, _change(request))
    return Response(status_code=201 if created else 202)


async def _post(request: Request, name: str) -> Response:
    account = account_of(request, write=True)
    await call(storage(request).containers.update, account, name, _change(request))
    return Response(status_code=204)


async def _delete(request: Request, name: str) -> Response:
    account = account_of(request, write=True)
    await call(storage(request).containers.delete, account, name)
    return Response(status_code=204)


async def _get(request: Request, name: str) -> Response:
    account = await account_for(request, name, write=False, listing=True)
    view = await call(storage(request).containers.stat, account, name)
    headers = _headers(view)
    if request.method == "HEAD":
        return Response(
            status_code=204, headers={**headers, "Content-Type": "text/plain; charset=utf-8"}
        )
    query, fmt = list_query(request), output_format(request)
    items = await call(storage(request).containers.objects, account, name, query)
    return render(items, fmt, "container", name, headers)


def _change(request: Request) -> ContainerChange:
    headers = request.headers
    return ContainerChange(
        metadata=metadata_changes(request, "container"),
        read_acl=_acl(headers, "read"),
        write_acl=_acl(headers, "write"),
    )


def _acl(headers: object, kind: str) -> str | None:
    get = headers.get  # type: ignore[attr-defined]
    if get(f"x-remove-container-{kind}") is not None:
        return ""
    value = get(f"x-container-{kind}")
    return None if value is None else value.strip()


def _headers(view: ContainerView) -> dict[str, str]:
    row = view.row
    headers = {
        "X-Container-Object-Count": str(view.objects),
        "X-Container-Bytes-Used": str(view.bytes_used),
        "X-Timestamp": timestamp(row.created_at),
        "X-Storage-Policy": "Policy-0",
        "Accept-Ranges": "bytes",
        **metadata_headers(row.metadata_, "Container"),
    }
    if row.read_acl:
        headers["X-Container-Read"] = row.read_acl
    if row.write_acl:
        headers["X-Container-Write"] = row.write_acl
    return headers


_HANDLERS = {"PUT": _put, "POST": _post, "DELETE": _delete, "GET": _get, "HEAD": _get}

routes = [
    Route(
        "/v1/{account}/{container}",
        container,
        methods=["GET", "HEAD", "PUT", "POST", "DELETE"],
    )
]
