"""What every object storage endpoint shares: the account a path names and whether the caller
may use it, the manager, metadata headers in and out, and Swift's timestamps."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TypeVar
from urllib.parse import unquote_to_bytes

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from onestack.common.context import RequestContext
from onestack.object import errors
from onestack.object.manager import ObjectStorage

ACCOUNT_PREFIX = "AUTH_"
# Roles that reach every account (Swift's reseller admin; our cloud admins too).
RESELLER_ROLES = frozenset({"admin", "reselleradmin"})
WRITER_ROLES = frozenset({"admin", "member", "reselleradmin", "swiftoperator"})
MAX_META_NAME = 128
MAX_META_VALUE = 256
MAX_META_COUNT = 90
MAX_META_OVERALL = 4096
MAX_CONTAINER_NAME = 256
MAX_OBJECT_NAME = 1024
MAX_FILE_SIZE = 5 * 1024**3 + 2

T = TypeVar("T")


def storage(request: Request) -> ObjectStorage:
    return request.app.state.storage  # type: ignore[no-any-return]


async def call(fn: Callable[..., T], *args: object) -> T:
    """A manager call (database and store are blocking) off the event loop."""
    return await run_in_threadpool(fn, *args)


def account_of(request: Request, write: bool = False) -> str:
    """The account the path names, once the caller may use it (403 otherwise)."""
    account, owner = owned_account(request, write)
    if not owner:
        raise errors.AccessDenied()
    return account


def owned_account(request: Request, write: bool) -> tuple[str, bool]:
    """The account the path names, and whether the caller may use it as its owner would."""
    account: str = request.path_params["account"]
    if not account.startswith(ACCOUNT_PREFIX) or len(account) > MAX_CONTAINER_NAME:
        raise errors.ObjectNotFound()
    who: RequestContext = request.user
    roles = {role.lower() for role in who.roles}
    if roles & RESELLER_ROLES:
        return account, True
    own = who.project_id == account.removeprefix(ACCOUNT_PREFIX)
    return account, own and (not write or bool(roles & WRITER_ROLES))


def checked_names(request: Request) -> None:
    """Names must be UTF-8 (Swift: 412) and within Swift's lengths (400)."""
    try:
        unquote_to_bytes(request.scope.get("raw_path", b"").decode("latin-1")).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.PreconditionFailed("Invalid UTF8 or contains NULL") from exc
    container = request.path_params.get("container", "")
    if len(container.encode()) > MAX_CONTAINER_NAME:
        raise errors.ObjectBadRequest(
            f"Container name length of {len(container.encode())} longer than {MAX_CONTAINER_NAME}"
        )
    name = request.path_params.get("object", "")
    if len(name.encode()) > MAX_OBJECT_NAME:
        raise errors.ObjectBadRequest(
            f"Object name length of {len(name.encode())} longer than {MAX_OBJECT_NAME}"
        )


def metadata_changes(request: Request, kind: str) -> dict[str, str]:
    """`X-<kind>-Meta-*` headers as {name: value}; `X-Remove-<kind>-Meta-*` as {name: ""}."""
    prefix, remove = f"x-{kind}-meta-", f"x-remove-{kind}-meta-"
    out: dict[str, str] = {}
    for header, value in request.headers.items():
        if header.startswith(prefix) and header != prefix:
            out[header.removeprefix(prefix)] = value.strip()
        elif header.startswith(remove) and header != remove:
            out[header.removeprefix(remove)] = ""
    check_metadata(out)
    return out


def check_metadata(meta: Mapping[str, str]) -> None:
    """Swift's metadata limits (400 with its messages)."""
    for name, value in meta.items():
        if len(name.encode()) > MAX_META_NAME:
            raise errors.ObjectBadRequest(f"Metadata name too long; max {MAX_META_NAME}")
        if len(value.encode()) > MAX_META_VALUE:
            raise errors.ObjectBadRequest(f"Metadata value longer than {MAX_META_VALUE}")
    if len(meta) > MAX_META_COUNT:
        raise errors.ObjectBadRequest(f"Too many metadata items; max {MAX_META_COUNT}")
    if sum(len(k.encode()) + len(v.encode()) for k, v in meta.items()) > MAX_META_OVERALL:
        raise errors.ObjectBadRequest(f"Total metadata too large; max {MAX_META_OVERALL}")


def metadata_headers(meta: Mapping[str, str], kind: str) -> dict[str, str]:
    return {f"X-{kind}-Meta-{name.title()}": value for name, value in meta.items()}


def timestamp(when: datetime) -> str:
    """Swift's X-Timestamp: seconds since the epoch with five decimals."""
    return f"{when.replace(tzinfo=UTC).timestamp():.5f}"


def last_modified(when: datetime) -> str:
    """The HTTP date of `when` rounded up to the second (as Swift does)."""
    seconds = math.ceil(when.replace(tzinfo=UTC).timestamp())
    return format_datetime(datetime.fromtimestamp(seconds, UTC), usegmt=True)


def iso(when: datetime) -> str:
    """The listings' last_modified: ISO 8601 with microseconds, no zone."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")
