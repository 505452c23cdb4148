"""The one rule for text that arrives from a client, for every service and every database.

- NUL is refused everywhere: in any JSON string (keys and values, at any depth), in the path
  and in the query string. PostgreSQL text cannot hold it, so accepting it would make the same
  request a 201 on SQLite and a 500 on PostgreSQL.
- Other control characters (C0, DEL, C1) are refused in names and ids: in JSON object keys,
  in the values of `name`, `id` and `*_id` fields, and in the path and query string (which
  carry nothing but ids, names and filters). Descriptions, passwords and blobs may hold them.

`common.http.service_app` applies the URL half to every route and `common.body` the body half
to every JSON document it parses, so a service cannot forget either. Raises nothing HTTP:
callers get a message, or BadRequest.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from onestack.common.errors import BadRequest

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_RAW_CONTROL = re.compile(b"[\x00-\x1f\x7f]")


class ForbiddenText(BadRequest):
    """A NUL, or a control character where a name or an id belongs."""


def url_problem(path: str, query_string: bytes) -> str | None:
    """Why this (decoded) path and (raw) query string are refused, or None when they are fine."""
    if CONTROL.search(path):
        return "The URL path must not contain NUL or other control characters."
    if _query_has_control(query_string):
        return "The query string must not contain NUL or other control characters."
    return None


def _query_has_control(query_string: bytes) -> bool:
    if not query_string:
        return False
    if b"%" not in query_string and query_string.isascii():  # the common case: plain ASCII
        return bool(_RAW_CONTROL.search(query_string))
    decoded = unquote_to_bytes(query_string).decode("utf-8", "replace")
    return bool(CONTROL.search(decoded))


def check_document(document: object) -> None:
    """Raise ForbiddenText when a parsed JSON document breaks the rule (see the module doc)."""
    _check(document, "body", is_name=False)


def _check(value: object, where: str, is_name: bool) -> None:
    if isinstance(value, str):
        _check_string(value, where, is_name)
    elif isinstance(value, dict):
        for key, item in value.items():
            field = key if where == "body" else f"{where}.{key}"
            _check_string(key, field, is_name=True)  # a key names an attribute
            _check(item, field, _names_a_thing(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]", is_name)


def _check_string(text: str, where: str, is_name: bool) -> None:
    if "\x00" in text:
        raise ForbiddenText(f"Invalid input for field '{where}': NUL characters are not allowed.")
    if is_name and CONTROL.search(text):
        raise ForbiddenText(
            f"Invalid input for field '{where}': control characters are not allowed in names "
            "and ids."
        )


def _names_a_thing(key: str) -> bool:
    """Whether a field holds a name or an id (a project's `name`, `domain_id`, `id`)."""
    return key in ("name", "id") or key.endswith("_id")
