"""Container ACLs, for callers other than the account's owner: `X-Container-Read` (`.r:*`
lets any authenticated caller read objects, `.rlistings` beside it also list;
`<project_id>:<user_id>` entries, `*` for any, grant full reading) and `X-Container-Write`
(`<project_id>:<user_id>` entries). Anonymous access (no token) is not served yet."""

from __future__ import annotations

from starlette.requests import Request

from onestack.common.context import RequestContext
from onestack.object import errors
from onestack.object.api.common import call, owned_account, storage


async def account_for(request: Request, container: str, write: bool, listing: bool = False) -> str:
    """The account the path names when the caller owns it or the container's ACL lets it in."""
    account, owner = owned_account(request, write)
    if owner:
        return account
    try:
        view = await call(storage(request).containers.stat, account, container)
    except errors.ContainerNotFound as exc:
        raise errors.AccessDenied() from exc
    acl = view.row.write_acl if write else view.row.read_acl
    if allows(acl, request.user, write=write, listing=listing):
        return account
    raise errors.AccessDenied()


def allows(acl: str | None, who: RequestContext, write: bool, listing: bool) -> bool:
    entries = [entry.strip() for entry in (acl or "").split(",") if entry.strip()]
    if any(_names(entry, who) for entry in entries if not entry.startswith(".")):
        return True
    if write:
        return False
    referrer = any(entry in (".r:*", ".referrer:*") for entry in entries)
    return referrer and (not listing or ".rlistings" in entries)


def _names(entry: str, who: RequestContext) -> bool:
    project, _, user = entry.partition(":")
    if not user:  # an entry of a project alone
        return project in ("*", who.project_id)
    return project in ("*", who.project_id) and user in ("*", who.user_id)
