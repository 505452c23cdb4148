"""Glance v2 response bodies: images, with links relative to the endpoint, as Glance writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from onestack.image.models import Image, ImageMember, ImageTask


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def image(record: Image) -> dict[str, Any]:
    body: dict[str, Any] = {prop.name: prop.value for prop in record.properties}
    body.update(
        {
            "id": record.image_id,
            "name": record.name,
            "status": record.status,
            "visibility": record.visibility,
            "protected": record.protected,
            "os_hidden": record.os_hidden,
            "owner": record.owner,
            "checksum": record.checksum,
            "os_hash_algo": record.os_hash_algo,
            "os_hash_value": record.os_hash_value,
            "size": record.size,
            "virtual_size": record.virtual_size,
            "min_disk": record.min_disk,
            "min_ram": record.min_ram,
            "disk_format": record.disk_format,
            "container_format": record.container_format,
            "tags": [tag.tag for tag in record.tags],
            "created_at": timestamp(record.created_at),
            "updated_at": timestamp(record.updated_at),
            "self": f"/v2/images/{record.image_id}",
            "file": f"/v2/images/{record.image_id}/file",
            "schema": "/v2/schemas/image",
        }
    )
    if record.locations:
        body["stores"] = ",".join(row.store_id for row in record.locations)
    return body


def member(record: ImageMember) -> dict[str, Any]:
    return {
        "image_id": record.image_id,
        "member_id": record.member_id,
        "status": record.status,
        "created_at": timestamp(record.created_at),
        "updated_at": timestamp(record.updated_at),
        "schema": "/v2/schemas/member",
    }


def task(record: ImageTask) -> dict[str, Any]:
    """An import task as GET /v2/images/{id}/tasks lists it (Glance's task fields)."""

    def moment(value: datetime | None) -> str | None:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None

    return {
        "id": record.task_id,
        "type": record.type,
        "status": record.status,
        "owner": record.owner,
        "image_id": record.image_id,
        "request_id": record.request_id,
        "user_id": record.user_id,
        "input": orjson.loads(record.input),
        "result": None if record.result is None else orjson.loads(record.result),
        "message": record.message,
        "created_at": moment(record.created_at),
        "updated_at": moment(record.updated_at),
        "expires_at": moment(record.expires_at),
        "deleted_at": None,
        "deleted": False,
    }
