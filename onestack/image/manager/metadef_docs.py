"""Checks the documents of the metadata definitions catalog, as Glance's metadef schemas
describe them: a namespace, an object, a property definition, a tag, an association.

Each check returns the clean fields to store or raises InvalidParameter (400); the
server-side fields a client echoes back (created_at, self, schema...) are dropped.
"""

from __future__ import annotations

from typing import Any

from onestack.image import errors

VISIBILITIES = ("public", "private")
PROPERTY_TYPES = ("array", "boolean", "integer", "number", "object", "string")
ECHOED = ("created_at", "updated_at", "schema", "self")
# What a property definition may say, and the JSON type each keyword takes.
PROPERTY_KEYWORDS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "title": (str,),
    "description": (str,),
    "operators": (list,),
    "type": (str,),
    "readonly": (bool,),
    "enum": (list,),
    "default": (str, int, float, bool, list, dict),
    "pattern": (str,),
    "minimum": (int, float),
    "maximum": (int, float),
    "minLength": (int,),
    "maxLength": (int,),
    "items": (dict,),
    "uniqueItems": (bool,),
    "minItems": (int,),
    "maxItems": (int,),
    "additionalItems": (bool,),
}
ITEM_KEYWORDS = ("type", "enum")


def name(value: object, what: str, limit: int = 255) -> str:
    """A non-empty name of at most `limit` characters."""
    if not isinstance(value, str) or not value.strip() or len(value) > limit or "\x00" in value:
        raise errors.InvalidParameter(f"'{what}' must be a string of 1 to {limit} characters.")
    return value


def _text(body: dict[str, Any], key: str, limit: int | None) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or (limit is not None and len(value) > limit):
        raise errors.InvalidParameter(f"'{key}' must be a string of at most {limit} characters.")
    return value


def _bool(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise errors.InvalidParameter(f"'{key}' must be a boolean.")
    return value


def namespace(body: dict[str, Any]) -> dict[str, Any]:
    """A namespace's own fields (not its objects, properties, tags or associations)."""
    visibility = body.get("visibility", "private")
    if visibility not in VISIBILITIES:
        raise errors.InvalidParameter(f"'visibility' must be one of {', '.join(VISIBILITIES)}.")
    return {
        "namespace": name(body.get("namespace"), "namespace", 80),
        "display_name": _text(body, "display_name", 80),
        "description": _text(body, "description", 500),
        "visibility": visibility,
        "protected": _bool(body, "protected", False),
        "owner": _text(body, "owner", 255),
    }


def property_schema(body: object, what: str = "property") -> dict[str, Any]:
    """A property definition without its name: type and title required, known keywords only."""
    if not isinstance(body, dict):
        raise errors.InvalidParameter(f"The {what} definition must be a JSON object.")
    schema = {key: value for key, value in body.items() if key not in (*ECHOED, "name")}
    for key, value in schema.items():
        allowed = PROPERTY_KEYWORDS.get(key)
        if allowed is None:
            raise errors.InvalidParameter(f"Additional property '{key}' is not allowed.")
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise errors.InvalidParameter(f"'{key}' of {what} has the wrong type.")
    if schema.get("type") not in PROPERTY_TYPES:
        raise errors.InvalidParameter(f"'type' of {what} must be one of {PROPERTY_TYPES}.")
    name(schema.get("title"), "title")
    items = schema.get("items")
    if items is not None and (set(items) - set(ITEM_KEYWORDS)):
        raise errors.InvalidParameter(f"'items' of {what} may only say {ITEM_KEYWORDS}.")
    return schema


def properties(value: object) -> dict[str, dict[str, Any]]:
    """A {name: definition} map (an object's properties, a namespace's)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.InvalidParameter("'properties' must be a JSON object.")
    return {name(key, "property name", 80): property_schema(v, key) for key, v in value.items()}


def metadef_object(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An object's name and its stored body (description, required, properties)."""
    required = body.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise errors.InvalidParameter("'required' must be a list of property names.")
    stored = {
        "description": _text(body, "description", None),
        "required": required,
        "properties": properties(body.get("properties")),
    }
    return name(body.get("name"), "name", 80), stored


def association(body: dict[str, Any]) -> dict[str, Any]:
    """A namespace's association with a resource type, by the type's name."""
    return {
        "resource_type": name(body.get("name"), "name", 80),
        "prefix": _text(body, "prefix", 80),
        "properties_target": _text(body, "properties_target", 80),
    }


def tag_names(body: dict[str, Any]) -> list[str]:
    """The names of a bulk tag request; the same name twice is a conflict, as in Glance."""
    tags = body.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, dict) for t in tags):
        raise errors.InvalidParameter("'tags' must be a list of objects with a 'name'.")
    names = [name(t.get("name"), "name") for t in tags]
    for index, tag in enumerate(names):
        if tag in names[:index]:
            raise errors.MetadefDuplicate("tag", tag)
    return names
