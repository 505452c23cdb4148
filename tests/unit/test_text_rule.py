"""The one text rule: NUL nowhere, control characters in no name or id, path or query."""

import re
from pathlib import Path

import pytest

import onestack
from onestack.common.body import loads
from onestack.common.errors import BadRequest
from onestack.common.text import check_document, url_problem


@pytest.mark.parametrize(
    "document",
    [
        {"project": {"name": "a\x00b"}},
        {"project": {"description": "a\x00b"}},
        {"user": {"name": "u", "password": "p\x00"}},
        {"project": {"tags": ["ok", "t\x00"]}},
        {"project": {"name": "p", "extra\x00": "v"}},
        ["a", {"b": "\x00"}],
        "\x00",
    ],
)
def test_nul_is_refused_anywhere_in_a_body(document: object) -> None:
    with pytest.raises(BadRequest, match="NUL"):
        check_document(document)


@pytest.mark.parametrize(
    "document",
    [
        {"project": {"name": "a\x01b"}},
        {"project": {"domain_id": "d\nx"}},
        {"region": {"id": "r\x7f"}},
        {"user": {"name": "u\x85"}},
        {"project": {"name": "p", "ex\ttra": "v"}},
    ],
)
def test_control_characters_are_refused_in_names_ids_and_keys(document: object) -> None:
    with pytest.raises(BadRequest, match="control characters"):
        check_document(document)


def test_control_characters_are_kept_in_descriptions_and_passwords() -> None:
    check_document({"project": {"name": "p", "description": "line one\nline two\ttab"}})
    check_document({"user": {"name": "u", "password": "p\x01\x7fw"}})


def test_the_field_is_named_in_the_message() -> None:
    with pytest.raises(BadRequest, match=r"'project\.name'"):
        check_document({"project": {"name": "a\x00b"}})


def test_loads_applies_the_rule_to_every_json_body() -> None:
    with pytest.raises(BadRequest, match="NUL"):
        loads(b'{"name": "a\\u0000b"}')
    assert loads(b'{"name": "caf\\u00e9"}') == {"name": "café"}


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/v3/projects/a\x00b", b""),
        ("/v3/projects/a\nb", b""),
        ("/v3/projects", b"name=a%00b"),
        ("/v3/projects", b"name=a%0Ab"),
        ("/v3/projects", b"na%7Fme=x"),
        ("/v3/projects", b"name=a%C2%85b"),
        ("/v3/projects", b"name=a\x01b"),
        ("/v3/projects", "name=a\x85b".encode()),
    ],
)
def test_control_characters_in_a_url_are_a_problem(path: str, query: bytes) -> None:
    assert url_problem(path, query) is not None


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/v3/projects/caf\u00e9", b""),
        ("/v3/projects", b"name=caf%C3%A9&enabled=true"),
        ("/v3/projects", "name=café".encode()),
        ("/v3/projects", b"name=a+b%20c%2Fd"),
        ("/v3/projects", b""),
    ],
)
def test_ordinary_urls_are_fine(path: str, query: bytes) -> None:
    assert url_problem(path, query) is None


# Reads of JSON in API modules that are not request bodies, or are re-read by parse_body.
NOT_REQUEST_BODIES = {
    "identity/api/projects.py",  # peeks at domain_id for policy; parse_body reads it after
    "image/api/render.py",  # task input and result stored by the image service itself
    "image/api/tasks.py",  # the same, for /v2/tasks
}


def test_api_modules_read_request_json_only_through_common_body() -> None:
    """So a new service's bodies get the text rule without asking for it."""
    package = Path(onestack.__file__).parent
    readers = {
        str(path.relative_to(package))
        for path in package.glob("*/api/*.py")
        if re.search(r"\b(or)?json\.loads\(|model_validate_json\(", path.read_text())
    }

    assert readers <= NOT_REQUEST_BODIES, "parse JSON bodies with onestack.common.body.loads"
