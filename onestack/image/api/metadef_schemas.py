"""The metadata definitions schemas Glance publishes (/v2/schemas/metadefs/...), which
glanceclient (and so the `openstack image metadef` commands) build their models from.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.image.api.common import caller
from onestack.image.manager.metadef_docs import PROPERTY_TYPES, VISIBILITIES


def _string(description: str, **more: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **more}


def _stamp(what: str) -> dict[str, Any]:
    return _string(f"Date and time of {what}", format="date-time", readOnly=True)


def _link(what: str) -> dict[str, Any]:
    return _string(what, readOnly=True)


def property_definition() -> dict[str, Any]:
    """A property's definition: a small JSON schema of its own."""
    return {
        "type": "object",
        "required": ["title", "type"],
        "properties": {
            "name": _string("The property's name", maxLength=255),
            "title": _string("A short human-readable name"),
            "description": _string("What the property means"),
            "operators": {"type": "array", "items": {"type": "string"}},
            "type": {"type": "string", "enum": list(PROPERTY_TYPES)},
            "readonly": {"type": "boolean"},
            "enum": {"type": "array"},
            "default": {},
            "pattern": {"type": "string", "format": "regex"},
            "minimum": {"type": "number"},
            "maximum": {"type": "number"},
            "minLength": {"type": "integer", "minimum": 0},
            "maxLength": {"type": "integer", "minimum": 0},
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": list(PROPERTY_TYPES)},
                    "enum": {"type": "array"},
                },
            },
            "uniqueItems": {"type": "boolean", "default": False},
            "minItems": {"type": "integer", "minimum": 0},
            "maxItems": {"type": "integer", "minimum": 0},
            "additionalItems": {"type": "boolean"},
        },
    }


def property_map() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": property_definition()}


def association_schema() -> dict[str, Any]:
    return {
        "name": "resource_type_association",
        "properties": {
            "name": _string("The resource type, such as OS::Nova::Flavor", maxLength=80),
            "prefix": _string("What the namespace's property names get on this type", maxLength=80),
            "properties_target": _string("Where on the resource the properties go", maxLength=80),
            "created_at": _stamp("the association's creation"),
            "updated_at": _stamp("the association's last change"),
        },
        "required": ["name"],
        "additionalProperties": False,
    }


def object_schema() -> dict[str, Any]:
    return {
        "name": "object",
        "properties": {
            "name": _string("The object's name", maxLength=255),
            "description": _string("What the object describes"),
            "required": {"type": "array", "items": {"type": "string"}},
            "properties": property_map(),
            "schema": _link("The object schema's URL"),
            "self": _link("The object's URL"),
            "created_at": _stamp("the object's creation"),
            "updated_at": _stamp("the object's last change"),
        },
        "required": ["name"],
        "additionalProperties": False,
    }


def tag_schema() -> dict[str, Any]:
    return {
        "name": "tag",
        "properties": {
            "name": _string("The tag", maxLength=255),
            "created_at": _stamp("the tag's creation"),
            "updated_at": _stamp("the tag's last change"),
        },
        "required": ["name"],
        "additionalProperties": False,
    }


def namespace_schema() -> dict[str, Any]:
    return {
        "name": "namespace",
        "properties": {
            "namespace": _string("The namespace's unique name", maxLength=80),
            "display_name": _string("A human-readable name", maxLength=80),
            "description": _string("What the namespace holds", maxLength=500),
            "visibility": _string("Who sees the namespace", enum=list(VISIBILITIES)),
            "protected": {"type": "boolean", "description": "If true, it cannot be deleted"},
            "owner": _string("The owning project", maxLength=255),
            "created_at": _stamp("the namespace's creation"),
            "updated_at": _stamp("the namespace's last change"),
            "schema": _link("The namespace schema's URL"),
            "self": _link("The namespace's URL"),
            "resource_type_associations": {"type": "array", "items": association_schema()},
            "properties": property_map(),
            "objects": {"type": "array", "items": object_schema()},
            "tags": {"type": "array", "items": tag_schema()},
        },
        "required": ["namespace"],
        "additionalProperties": False,
    }


def resource_type_schema() -> dict[str, Any]:
    return {
        "name": "resource_type",
        "properties": {
            "name": _string("The resource type's name", maxLength=80),
            "created_at": _stamp("the resource type's creation"),
            "updated_at": _stamp("the resource type's last change"),
        },
        "required": ["name"],
        "additionalProperties": False,
    }


def property_schema() -> dict[str, Any]:
    schema = property_definition()
    schema.pop("type")
    return {"name": "property", **schema, "required": ["name", "title", "type"]}


def _collection(name: str, item: dict[str, Any], *links: str) -> dict[str, Any]:
    return {
        "name": name,
        "properties": {
            name: {"type": "array", "items": item},
            **{link: {"type": "string"} for link in ("first", "next", "schema", *links)},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


def properties_schema() -> dict[str, Any]:
    return {
        "name": "properties",
        "properties": {"properties": property_map(), "schema": {"type": "string"}},
        "links": [{"rel": "describedby", "href": "{schema}"}],
    }


SCHEMAS = {
    "namespace": namespace_schema,
    "namespaces": lambda: _collection("namespaces", namespace_schema()),
    "object": object_schema,
    "objects": lambda: _collection("objects", object_schema()),
    "property": property_schema,
    "properties": properties_schema,
    "tag": tag_schema,
    "tags": lambda: _collection("tags", tag_schema()),
    "resource_type": association_schema,
    "resource_types": lambda: _collection("resource_type_associations", association_schema()),
}


def _handler(name: str) -> Any:
    async def show(request: Request) -> Response:
        caller(request)
        return JSONResponse(SCHEMAS[name]())

    return show


routes = [
    Route(f"/v2/schemas/metadefs/{name}", _handler(name), methods=["GET"]) for name in SCHEMAS
]
