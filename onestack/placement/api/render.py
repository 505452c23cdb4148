"""Placement's response bodies, by microversion."""

from __future__ import annotations

from typing import Any

from onestack.placement.manager import Stock
from onestack.placement.models import Provider


def provider(base: str, row: Provider, minor: int) -> dict[str, Any]:
    """A resource provider with the links and fields of microversion 1.<minor>."""
    href = f"{base}/resource_providers/{row.uuid}"
    links = [
        {"rel": "self", "href": href},
        {"rel": "inventories", "href": f"{href}/inventories"},
        {"rel": "usages", "href": f"{href}/usages"},
    ]
    if minor >= 1:
        links.append({"rel": "aggregates", "href": f"{href}/aggregates"})
    if minor >= 6:
        links.append({"rel": "traits", "href": f"{href}/traits"})
    if minor >= 11:
        links.append({"rel": "allocations", "href": f"{href}/allocations"})
    body: dict[str, Any] = {
        "uuid": row.uuid,
        "name": row.name,
        "generation": row.generation,
        "links": links,
    }
    if minor >= 14:
        body["parent_provider_uuid"] = row.parent_provider_uuid
        body["root_provider_uuid"] = row.root_provider_uuid
    return body


def stock(item: Stock) -> dict[str, Any]:
    return {
        "total": item.total,
        "reserved": item.reserved,
        "min_unit": item.min_unit,
        "max_unit": item.max_unit,
        "step_size": item.step_size,
        "allocation_ratio": item.allocation_ratio,
    }


def resource_class(base: str, name: str) -> dict[str, Any]:
    return {"name": name, "links": [{"rel": "self", "href": f"{base}/resource_classes/{name}"}]}
