"""/v3/auth: issue, validate, check and revoke tokens; the catalog and scopes a token may use."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.auth import presented_token, public
from onestack.common.body import parse_body
from onestack.common.errors import BadRequest
from onestack.common.http import JSONResponse, RawResponse, json_headers
from onestack.identity import errors, passwords
from onestack.identity.api import render
from onestack.identity.api.common import caller, check, generation, manager
from onestack.identity.api.repeat_validations import ValidationMemo
from onestack.identity.api.schemas import AuthBody, to_auth_request
from onestack.identity.api.versions import v3_url
from onestack.identity.manager import TokenView


def _wants_catalog(request: Request) -> bool:
    # Most requests have no query string: skip parsing one.
    return not request.scope.get("query_string") or "nocatalog" not in request.query_params


def _subject(request: Request, action: str) -> TokenView:
    """The token in X-Subject-Token, which policy must let the caller inspect or revoke."""
    token_id = request.headers.get("x-subject-token")
    if not token_id:
        raise BadRequest("The X-Subject-Token header is required.")
    try:
        subject = manager(request).tokens.validate(token_id, generation(request))
    except errors.InvalidToken as exc:
        raise errors.TokenNotFound(f"Could not find token: {token_id}") from exc
    check(request, action, {"token": {"user_id": subject.user.ref_id}})
    return subject


def _token_body(request: Request, view: TokenView, wants_catalog: bool) -> bytes:
    """The token's JSON body, with the catalog unless the request asked for none."""
    tokens = manager(request).tokens
    catalog = tokens.catalog(view, generation(request)) if wants_catalog else None
    return orjson.dumps(render.token(view, catalog))


def _validation_response(request: Request, view: TokenView) -> Response:
    """200 with the token's body, rendered once per caller, token, catalog choice and generation.

    The body depends on nothing but the token's view and the catalog, both fixed while the
    generation holds, and the caller's right to see it (checked in `_subject`) on nothing but
    the two tokens: `repeat_validations` answers repeats from what is remembered here.
    """
    memo: ValidationMemo = request.app.state.validations
    now_generation = generation(request)
    me = caller(request)
    key = (me.token_id, view.token_id, _wants_catalog(request))
    answer = memo.get(key)
    if answer is None or not answer.holds(now_generation):
        body = _token_body(request, view, key[2])
        expires = min(me.payload.expires_at, view.payload.expires_at).timestamp()
        answer = memo.remember(key, now_generation, expires, body)
    return RawResponse(answer.body, [*answer.headers])


@public  # logging in; a token offered for the `token` method is a credential, not a caller
async def issue_token(request: Request) -> Response:
    body = await parse_body(request, AuthBody)
    auth_request = to_auth_request(body, presented_token(request.scope))
    authenticate = manager(request).tokens.authenticate
    if auth_request.checks_secret:
        # Hashing takes ~150 ms of CPU: off the event loop, in the hashing threads.
        view = await passwords.run_hashing(authenticate, auth_request)
    else:
        # As cheap as a validation; a thread hop would cost more than the work.
        view = authenticate(auth_request)
    body = _token_body(request, view, _wants_catalog(request))
    subject = (b"x-subject-token", view.token_id.encode())
    return RawResponse(body, json_headers(body, [subject]), status_code=201)


async def validate_token(request: Request) -> Response:
    return _validation_response(request, _subject(request, "identity:validate_token"))


async def check_token(request: Request) -> Response:
    subject = _subject(request, "identity:check_token")
    return Response(status_code=200, headers={"X-Subject-Token": subject.token_id})


async def revoke_token(request: Request) -> Response:
    subject = _subject(request, "identity:revoke_token")
    manager(request).tokens.revoke(subject.token_id)
    return Response(status_code=204)


async def auth_catalog(request: Request) -> Response:
    me = caller(request)
    catalog = render.render_catalog(manager(request).tokens.catalog(me, generation(request)))
    return JSONResponse({"catalog": catalog, "links": render.collection_links(str(request.url))})


async def auth_projects(request: Request) -> Response:
    me = caller(request)
    base = v3_url(request)
    projects = [
        render.project(p, base) for p, _ in manager(request).tokens.projects_for(me.user.ref_id)
    ]
    return JSONResponse({"projects": projects, "links": render.collection_links(str(request.url))})


async def auth_domains(request: Request) -> Response:
    me = caller(request)
    base = v3_url(request)
    domains = [render.domain(d, base) for d in manager(request).tokens.domains_for(me.user.ref_id)]
    return JSONResponse({"domains": domains, "links": render.collection_links(str(request.url))})


async def auth_system(request: Request) -> Response:
    me = caller(request)
    system = [{"all": True}] if manager(request).tokens.system_roles_for(me.user.ref_id) else []
    return JSONResponse({"system": system, "links": render.collection_links(str(request.url))})


# What `repeat_validations` names as the route of the validations it answers itself.
validate_route = Route("/v3/auth/tokens", validate_token, methods=["GET"])

routes = [
    Route("/v3/auth/tokens", issue_token, methods=["POST"]),
    # HEAD first: a GET route answers HEAD too.
    Route("/v3/auth/tokens", check_token, methods=["HEAD"]),
    validate_route,
    Route("/v3/auth/tokens", revoke_token, methods=["DELETE"]),
    Route("/v3/auth/catalog", auth_catalog, methods=["GET"]),
    Route("/v3/auth/projects", auth_projects, methods=["GET"]),
    Route("/v3/auth/domains", auth_domains, methods=["GET"]),
    Route("/v3/auth/system", auth_system, methods=["GET"]),
]
