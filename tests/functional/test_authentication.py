"""The one token reader, seen from outside: every route of every service refuses a request
without a valid X-Auth-Token with a 401 in that service's error body, before it reads the
request, except the routes marked public; unknown paths and methods are answered by routing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from starlette.routing import Route

from onestack.identity import api as identity_api
from onestack.image import api as image_api
from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import assert_identity_error
from tests.functional.image_api import assert_image_error

IDENTITY_PUBLIC = {
    ("GET", "/"),
    ("GET", "/v3"),
    ("GET", "/v3/"),
    ("POST", "/v3/auth/tokens"),
    ("POST", "/v3/ec2tokens"),
    ("POST", "/v3/s3tokens"),
    ("POST", "/v3/users/{user_id}/password"),
}
IMAGE_PUBLIC = {("GET", "/"), ("GET", "/versions")}
SERVICES = {
    "identity": (identity_api.ROUTERS, IDENTITY_PUBLIC, assert_identity_error),
    "image": (image_api.ROUTERS, IMAGE_PUBLIC, assert_image_error),
}


def declared(service: str) -> Iterator[tuple[str, str]]:
    """Every (method, path template) the service declares; HEAD only where declared alone."""
    routers, _, _ = SERVICES[service]
    for router in routers:
        for route in router.routes:
            assert isinstance(route, Route)
            methods = route.methods or set()
            for method in methods - {"HEAD"} or methods:
                yield method, route.path


def url(cloud: CloudProcess, service: str, template: str) -> str:
    return f"{cloud.url}/{service}" + re.sub(r"\{[^}]+\}", lambda _: uuid.uuid4().hex, template)


def call(cloud: CloudProcess, method: str, address: str, token: str | None) -> httpx.Response:
    headers = {"X-Auth-Token": token} if token is not None else {}
    # A body that no route could parse: the 401 must come before it is read.
    headers["Content-Type"] = "application/json"
    return httpx.request(method, address, headers=headers, content=b"{not json", timeout=30)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_every_route_but_the_public_ones_wants_a_valid_token_first(
    cloud: CloudProcess, service: str, token: str | None
) -> None:
    _, public, assert_error = SERVICES[service]
    guarded = [(m, p) for m, p in declared(service) if (m, p) not in public]

    for method, template in guarded:
        response = call(cloud, method, url(cloud, service, template), token)
        if method == "HEAD":
            assert response.status_code == 401, (method, template)
        else:
            assert_error(response, 401)
    assert len(guarded) > len(public)


@pytest.mark.parametrize("service", SERVICES)
def test_public_routes_answer_without_a_token(cloud: CloudProcess, service: str) -> None:
    _, public, _ = SERVICES[service]

    for method, template in public:
        response = call(cloud, method, url(cloud, service, template), None)
        assert response.status_code != 401, (method, template, response.text)


def test_an_image_import_without_a_token_is_a_401_before_its_body_is_read(
    cloud: CloudProcess,
) -> None:
    response = call(cloud, "POST", f"{cloud.url}/image/v2/images/{uuid.uuid4()}/import", None)

    assert_image_error(response, 401)


@pytest.mark.parametrize(("service", "path"), [("identity", "/v3/nothing"), ("image", "/v2/x")])
def test_unknown_paths_and_methods_are_routing_answers_not_401s(
    cloud: CloudProcess, service: str, path: str
) -> None:
    unknown = call(cloud, "GET", f"{cloud.url}/{service}{path}", None)
    wrong_method = call(cloud, "PUT", f"{cloud.url}/{service}/", None)

    assert (unknown.status_code, wrong_method.status_code) == (404, 405)
