"""The account: HEAD/GET (counts, metadata, container listing) and POST (metadata)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.object.api.common import (
    account_of,
    call,
    metadata_changes,
    metadata_headers,
    storage,
    timestamp,
)
from onestack.object.api.listing import list_query, output_format, render
from onestack.object.manager import AccountView


async def account(request: Request) -> Response:
    if request.method == "POST":
        name = account_of(request, write=True)
        changes = metadata_changes(request, "account")
        await call(storage(request).accounts.update, name, changes)
        return Response(status_code=204)
    name = account_of(request)
    view = await call(storage(request).accounts.stat, name)
    headers = _headers(view)
    if request.method == "HEAD":
        return Response(
            status_code=204, headers={**headers, "Content-Type": "text/plain; charset=utf-8"}
        )
    query, fmt = list_query(request), output_format(request)
    items = await call(storage(request).accounts.containers, name, query)
    return render(items, fmt, "account", name, headers)


def _headers(view: AccountView) -> dict[str, str]:
    return {
        "X-Account-Container-Count": str(view.containers),
        "X-Account-Object-Count": str(view.objects),
        "X-Account-Bytes-Used": str(view.bytes_used),
        "X-Timestamp": timestamp(view.created_at),
        "X-Account-Storage-Policy-Policy-0-Container-Count": str(view.containers),
        "X-Account-Storage-Policy-Policy-0-Object-Count": str(view.objects),
        "X-Account-Storage-Policy-Policy-0-Bytes-Used": str(view.bytes_used),
        **metadata_headers(view.metadata, "Account"),
    }


routes = [Route("/v1/{account}", account, methods=["GET", "HEAD", "POST"])]
