"""Glance's metadata definitions bodies: namespaces, objects, properties, tags, resource
types and associations, with their `self` and `schema` links.

Like Glance, a namespace leaves out the fields it has no value for; asked for one resource
type (`?resource_type=`), its property names carry that association's prefix.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from onestack.image.api.render import timestamp
from onestack.image.manager.metadef_items import body_of
from onestack.image.manager.metadefs import NamespaceDetail
from onestack.image.models import (
    MetadefAssociation,
    MetadefItem,
    MetadefNamespace,
    MetadefResourceType,
)

NAMESPACES = "/v2/metadefs/namespaces"


def namespace_link(name: str) -> str:
    return f"{NAMESPACES}/{quote(name, safe=':')}"


def namespace(row: MetadefNamespace) -> dict[str, Any]:
    body = {
        "namespace": row.namespace,
        "display_name": row.display_name,
        "description": row.description,
        "visibility": row.visibility,
        "protected": row.protected,
        "owner": row.owner,
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
        "schema": "/v2/schemas/metadefs/namespace",
        "self": namespace_link(row.namespace),
    }
    return {key: value for key, value in body.items() if value is not None}


def namespace_detail(detail: NamespaceDetail, resource_type: str | None = None) -> dict[str, Any]:
    """A namespace with its contents; property names prefixed for `resource_type`."""
    body = namespace(detail.namespace)
    prefix = ""
    for link in detail.associations:
        if link.resource_type == resource_type:
            prefix = link.prefix or ""
    links = [association(link) for link in detail.associations]
    props = {prefix + item.name: body_of(item) for item in detail.items if item.kind == "property"}
    name = detail.namespace.namespace
    objects = [metadef_object(name, item) for item in detail.items if item.kind == "object"]
    tags = [{"name": item.name} for item in detail.items if item.kind == "tag"]
    contents = {
        "resource_type_associations": links,
        "properties": props,
        "objects": objects,
        "tags": tags,
    }
    body.update({key: value for key, value in contents.items() if value})
    return body


def metadef_object(namespace_name: str, item: MetadefItem) -> dict[str, Any]:
    stored = body_of(item)
    body = {
        "name": item.name,
        "description": stored.get("description"),
        "required": stored.get("required") or [],
        "properties": stored.get("properties") or {},
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
        "schema": "/v2/schemas/metadefs/object",
        "self": f"{namespace_link(namespace_name)}/objects/{quote(item.name)}",
    }
    return {key: value for key, value in body.items() if value is not None}


def metadef_property(item: MetadefItem) -> dict[str, Any]:
    return {"name": item.name, **body_of(item)}


def tag(item: MetadefItem) -> dict[str, Any]:
    return {
        "name": item.name,
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
    }


def association(link: MetadefAssociation) -> dict[str, Any]:
    body = {
        "name": link.resource_type,
        "prefix": link.prefix,
        "properties_target": link.properties_target,
        "created_at": timestamp(link.created_at),
        "updated_at": timestamp(link.updated_at),
    }
    return {key: value for key, value in body.items() if value is not None}


def resource_type(row: MetadefResourceType) -> dict[str, Any]:
    return {
        "name": row.name,
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
    }
