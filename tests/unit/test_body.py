"""Request bodies: what is wrong is said in a 400, naming the field."""

import pytest
from pydantic import BaseModel

from onestack.common.body import validate
from onestack.common.errors import BadRequest
from onestack.identity.api.schemas import AuthBody, to_auth_request


class Thing(BaseModel):
    name: str


def test_validate_names_the_missing_field() -> None:
    with pytest.raises(BadRequest, match="'name'"):
        validate({}, Thing)


def test_password_method_without_password_section_is_a_bad_request() -> None:
    body = validate({"auth": {"identity": {"methods": ["password"]}}}, AuthBody)

    with pytest.raises(BadRequest, match="password"):
        to_auth_request(body, None)


def test_wrong_type_for_methods_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match=r"auth\.identity\.methods"):
        validate({"auth": {"identity": {"methods": "password"}}}, AuthBody)


def test_two_scopes_at_once_are_a_bad_request() -> None:
    body = validate(
        {
            "auth": {
                "identity": {"methods": ["token"], "token": {"id": "t"}},
                "scope": {"domain": {"id": "default"}, "system": {"all": True}},
            }
        },
        AuthBody,
    )

    with pytest.raises(BadRequest, match="Only one"):
        to_auth_request(body, None)
