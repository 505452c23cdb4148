"""Which image attributes a client may set, and what values they take (Glance's image schema).

Base attributes are columns; anything else is an extra property with a string value.
Read-only attributes and reserved names are refused with 403, as Glance does; a value of the
wrong type or outside the configured formats is a 400 naming the attribute.
"""

from __future__ import annotations

import re
from typing import Any

from onestack.image import errors
from onestack.settings import ImageSettings

READ_ONLY = frozenset(
    {
        "checksum",
        "created_at",
        "updated_at",
        "status",
        "size",
        "virtual_size",
        "direct_url",
        "self",
        "file",
        "schema",
        "os_hash_algo",
        "os_hash_value",
        "stores",
        "locations",
    }
)
RESERVED = frozenset({"deleted", "deleted_at", "location"})
RESERVED_PREFIX = "os_glance"
# Base attributes a client may write, beyond `id` (on create only) and `tags`.
WRITABLE = (
    "name",
    "visibility",
    "protected",
    "os_hidden",
    "owner",
    "disk_format",
    "container_format",
    "min_disk",
    "min_ram",
)
VISIBILITIES = ("public", "private", "shared", "community")
MAX_STRING = 255
MAX_INT32 = 2**31 - 1
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


def check_name(name: str, creating: bool = False) -> None:
    """Refuse read-only and reserved attribute names (403)."""
    if name in READ_ONLY or (name == "id" and not creating):
        raise errors.ReadonlyProperty(name)
    if name in RESERVED or name.startswith(RESERVED_PREFIX):
        raise errors.ReservedProperty(name)
    if not name or len(name) > MAX_STRING or "\x00" in name:
        raise errors.InvalidParameter(
            f"Property names must be 1 to {MAX_STRING} characters, without NUL."
        )


def check_value(name: str, value: Any, settings: ImageSettings) -> Any:
    """`value` for attribute `name` if the schema allows it; 400 otherwise."""
    if isinstance(value, str) and "\x00" in value:
        raise _invalid(name, "must not contain NUL characters")
    if name == "id":
        if not isinstance(value, str) or not _UUID.match(value):
            raise _invalid(name, "must be a UUID")
        return value
    if name == "tags":
        return check_tags(value)
    if name in ("name", "owner"):
        if value is not None and (not isinstance(value, str) or len(value) > MAX_STRING):
            raise _invalid(name, f"must be a string of at most {MAX_STRING} characters or null")
        return value
    if name == "visibility":
        return _one_of(name, value, VISIBILITIES)
    if name in ("protected", "os_hidden"):
        if not isinstance(value, bool):
            raise _invalid(name, "must be a boolean")
        return value
    if name in ("min_disk", "min_ram"):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT32:
            raise _invalid(name, f"must be an integer from 0 to {MAX_INT32}")
        return value
    if name == "disk_format":
        return None if value is None else _one_of(name, value, settings.disk_formats)
    if name == "container_format":
        return None if value is None else _one_of(name, value, settings.container_formats)
    if not isinstance(value, str):
        raise _invalid(name, "is an extra property and must be a string")
    return value


def check_tags(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise _invalid("tags", "must be a list of strings")
    for tag in value:
        check_tag(tag)
    return list(dict.fromkeys(value))


def check_tag(tag: str) -> str:
    if not tag or len(tag) > MAX_STRING or "\x00" in tag:
        raise errors.InvalidParameter(f"Tags must be 1 to {MAX_STRING} characters, without NUL.")
    return tag


def is_base(name: str) -> bool:
    return name in WRITABLE or name in ("id", "tags")


def _one_of(name: str, value: Any, allowed: Any) -> str:
    if value not in allowed:
        raise _invalid(name, f"must be one of {', '.join(allowed)}")
    return value


def _invalid(name: str, why: str) -> errors.InvalidParameter:
    return errors.InvalidParameter(f"Invalid value for '{name}': it {why}.")
