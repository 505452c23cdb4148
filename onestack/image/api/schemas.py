"""The JSON schemas Glance publishes (/v2/schemas/...), which glanceclient validates against.

The image schema lists the base attributes with their types (read-only ones marked), the
configured disk and container formats, and says extra properties are strings.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.image.api.common import caller, manager
from onestack.settings import ImageSettings

UUID_PATTERN = (
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
)
STATUSES = [
    "queued",
    "saving",
    "active",
    "killed",
    "deleted",
    "uploading",
    "importing",
    "pending_delete",
    "deactivated",
]


def _text(
    description: str, *, read_only: bool = False, nullable: bool = True, **more: Any
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["null", "string"] if nullable else "string"}
    schema["description"] = description
    if read_only:
        schema["readOnly"] = True
    return {**schema, **more}


def image_schema(settings: ImageSettings) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": _text("An identifier for the image", nullable=False, pattern=UUID_PATTERN),
        "name": _text("Descriptive name for the image", maxLength=255),
        "status": _text("Status of the image", read_only=True, nullable=False, enum=STATUSES),
        "visibility": _text(
            "Scope of image accessibility",
            nullable=False,
            enum=["community", "public", "private", "shared"],
        ),
        "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
        "os_hidden": {
            "type": "boolean",
            "description": "If true, image will not appear in default image list response.",
        },
        "checksum": _text("md5 hash of image contents.", read_only=True, maxLength=32),
        "os_hash_algo": _text(
            "Algorithm to calculate the os_hash_value", read_only=True, maxLength=64
        ),
        "os_hash_value": _text(
            "Hexdigest of the image contents using the algorithm specified by the os_hash_algo",
            read_only=True,
            maxLength=128,
        ),
        "owner": _text("Owner of the image", maxLength=255),
        "size": {
            "type": ["null", "integer"],
            "readOnly": True,
            "description": "Size of image file in bytes",
        },
        "virtual_size": {
            "type": ["null", "integer"],
            "readOnly": True,
            "description": "Virtual size of image in bytes",
        },
        "container_format": _text(
            "Format of the container", enum=[None, *settings.container_formats]
        ),
        "disk_format": _text("Format of the disk", enum=[None, *settings.disk_formats]),
        "created_at": _text("Date and time of image registration", read_only=True, nullable=False),
        "updated_at": _text(
            "Date and time of the last image modification", read_only=True, nullable=False
        ),
        "tags": {
            "type": "array",
            "description": "List of strings related to the image",
            "items": {"type": "string", "maxLength": 255},
        },
        "direct_url": _text(
            "URL to access the image file kept in external store", read_only=True, nullable=False
        ),
        "min_ram": {
            "type": "integer",
            "description": "Amount of ram (in MB) required to boot image.",
        },
        "min_disk": {
            "type": "integer",
            "description": "Amount of disk space (in GB) required to boot image.",
        },
        "self": _text("An image self url", read_only=True, nullable=False),
        "file": _text("An image file url", read_only=True, nullable=False),
        "stores": _text("Store in which image data resides.", read_only=True, nullable=False),
        "schema": _text("An image schema url", read_only=True, nullable=False),
    }
    return {
        "name": "image",
        "properties": properties,
        "additionalProperties": {"type": "string"},
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


def images_schema(settings: ImageSettings) -> dict[str, Any]:
    return {
        "name": "images",
        "properties": {
            "images": {"type": "array", "items": image_schema(settings)},
            "schema": {"type": "string"},
            "first": {"type": "string"},
            "next": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


def member_schema() -> dict[str, Any]:
    return {
        "name": "member",
        "properties": {
            "created_at": _text("Date and time of image member creation", nullable=False),
            "image_id": _text("An identifier for the image", nullable=False, pattern=UUID_PATTERN),
            "member_id": _text("An identifier for the image member (tenantId)", nullable=False),
            "schema": _text("A member schema url", read_only=True, nullable=False),
            "status": _text(
                "The status of this image member",
                nullable=False,
                enum=["pending", "accepted", "rejected"],
            ),
            "updated_at": _text(
                "Date and time of last modification of image member", nullable=False
            ),
        },
    }


def members_schema() -> dict[str, Any]:
    return {
        "name": "members",
        "properties": {
            "members": {"type": "array", "items": member_schema()},
            "schema": {"type": "string"},
        },
        "links": [{"rel": "describedby", "href": "{schema}"}],
    }


async def show_image(request: Request) -> Response:
    caller(request)
    return JSONResponse(image_schema(manager(request).settings))


async def show_images(request: Request) -> Response:
    caller(request)
    return JSONResponse(images_schema(manager(request).settings))


async def show_member(request: Request) -> Response:
    caller(request)
    return JSONResponse(member_schema())


async def show_members(request: Request) -> Response:
    caller(request)
    return JSONResponse(members_schema())


routes = [
    Route("/v2/schemas/image", show_image, methods=["GET"]),
    Route("/v2/schemas/images", show_images, methods=["GET"]),
    Route("/v2/schemas/member", show_member, methods=["GET"]),
    Route("/v2/schemas/members", show_members, methods=["GET"]),
]
