"""JSON patch documents parsed into changes, in both of Glance's media types.

`application/openstack-images-v2.1-json-patch` is RFC 6902 (`{"op": "replace", "path":
"/name", "value": ...}`); the older `...-v2.0-json-patch` names the operation as the key
(`{"replace": "/name", "value": ...}`). Only add, replace and remove on a top-level attribute
are meaningful for an image; anything else in the document (another op, a missing value, a
nested path) refuses the whole request.
"""

from __future__ import annotations

from typing import Any

from onestack.common.body import loads
from onestack.common.text import check_document
from onestack.image.errors import InvalidParameter
from onestack.image.manager import Change

MEDIA_TYPE = "application/openstack-images-v2.1-json-patch"
OLD_MEDIA_TYPE = "application/openstack-images-v2.0-json-patch"
MEDIA_TYPES = (MEDIA_TYPE, OLD_MEDIA_TYPE)
OPERATIONS = ("add", "replace", "remove")


def parse(raw: bytes, media_type: str = MEDIA_TYPE) -> list[Change]:
    document = loads(raw, InvalidParameter)
    if not isinstance(document, list):
        raise InvalidParameter("A JSON patch document must be a list of operations.")
    if media_type == OLD_MEDIA_TYPE:
        document = [_from_old_style(index, op) for index, op in enumerate(document)]
    return [_change(index, op) for index, op in enumerate(document)]


def _from_old_style(index: int, operation: Any) -> Any:
    """{"replace": "/name", "value": v} as {"op": "replace", "path": "/name", "value": v}."""
    if not isinstance(operation, dict):
        return operation
    named = [op for op in OPERATIONS if op in operation]
    if len(named) != 1:
        raise InvalidParameter(
            f"Operation {index} must name exactly one of {', '.join(OPERATIONS)} as its key."
        )
    (op,) = named
    rest = {key: value for key, value in operation.items() if key != op}
    return {**rest, "op": op, "path": operation[op]}


def _change(index: int, operation: Any) -> Change:
    if not isinstance(operation, dict):
        raise InvalidParameter(f"Operation {index} must be a JSON object.")
    op = operation.get("op")
    if op not in OPERATIONS:
        raise InvalidParameter(
            f"Operation {index}: 'op' must be one of {', '.join(OPERATIONS)}, not {op!r}."
        )
    name = _attribute(index, operation.get("path"))
    if op == "remove":
        return Change(op, name)
    if "value" not in operation:
        raise InvalidParameter(f"Operation {index}: '{op}' needs a 'value'.")
    check_document({name: operation["value"]})  # the text rule, as if sent as {name: value}
    return Change(op, name, operation["value"])


def _attribute(index: int, path: Any) -> str:
    """The attribute a JSON pointer names; only `/name` (one level) is an image attribute."""
    if not isinstance(path, str) or not path.startswith("/") or len(path) < 2:
        raise InvalidParameter(f"Operation {index}: 'path' must be a JSON pointer like '/name'.")
    parts = path[1:].split("/")
    if len(parts) != 1:
        raise InvalidParameter(f"Operation {index}: nested paths ({path}) are not supported.")
    return parts[0].replace("~1", "/").replace("~0", "~")
