"""Token authentication for every service but identity: X-Auth-Token -> RequestContext.

A service is handed a `TokenValidator` (token id -> RequestContext, raising a 401 error when
the token is bad) built by the assembler over the identity manager's public interface, so a
service never imports identity. `authenticate` validates once per request and adds the
request's own details (request id, client address, user agent).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from starlette.requests import Request

from onestack.common.context import RequestContext
from onestack.common.errors import Unauthorized

TokenValidator = Callable[[str], RequestContext]


def authenticate(request: Request, validate: TokenValidator) -> RequestContext:
    """The caller of `request`; Unauthorized when X-Auth-Token is missing or invalid."""
    cached = getattr(request.state, "context", None)
    if isinstance(cached, RequestContext):
        return cached
    token_id = request.headers.get("x-auth-token")
    if not token_id:
        raise Unauthorized()
    client = request.client
    context = dataclasses.replace(
        validate(token_id),
        request_id=request.scope.get("state", {}).get("request_id"),
        remote_address=client.host if client else None,
        user_agent=request.headers.get("user-agent"),
    )
    request.state.context = context
    return context
