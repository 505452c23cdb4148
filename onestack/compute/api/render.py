"""Compute's response bodies: flavors, keypairs and servers as each microversion shows them."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from starlette.requests import Request

from onestack.compute.api.common import endpoint_url, links
from onestack.compute.api.microversion import at_least
from onestack.compute.manager import Caller
from onestack.compute.manager.states import status
from onestack.compute.models import Flavor, Keypair, Server

PROGRESS_STATUSES = ("ACTIVE", "BUILD")


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"


def flavor(request: Request, row: Flavor, detail: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.flavor_id,
        "name": row.name,
        "links": links(request, "flavors", row.flavor_id),
    }
    if at_least(request, 2, 55):
        body["description"] = row.description
    if not detail:
        return body
    body.update(
        {
            "ram": row.memory_mb,
            "vcpus": row.vcpus,
            "disk": row.root_gb,
            "OS-FLV-EXT-DATA:ephemeral": row.ephemeral_gb,
            "swap": row.swap or "",
            "rxtx_factor": row.rxtx_factor,
            "os-flavor-access:is_public": row.is_public,
            "OS-FLV-DISABLED:disabled": False,
        }
    )
    if at_least(request, 2, 75) and body["swap"] == "":
        body["swap"] = 0
    if at_least(request, 2, 61):
        body["extra_specs"] = {spec.key: spec.value for spec in row.extra_specs}
    return body


def keypair(request: Request, row: Keypair, detail: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": row.name,
        "public_key": row.public_key,
        "fingerprint": row.fingerprint,
    }
    if at_least(request, 2, 2):
        body["type"] = row.key_type
    if detail:
        body.update(
            {
                "user_id": row.user_id,
                "created_at": row.created_at.isoformat(),
                "deleted": False,
                "deleted_at": None,
                "updated_at": None,
                "id": int(hashlib.sha1(f"{row.user_id}/{row.name}".encode()).hexdigest()[:7], 16),
            }
        )
    return body


def server_brief(request: Request, row: Server) -> dict[str, Any]:
    return {
        "id": row.server_id,
        "name": row.name,
        "links": links(request, "servers", row.server_id),
    }


def server(
    request: Request,
    who: Caller,
    row: Server,
    addresses: dict[str, list[dict[str, Any]]],
    admin_view: bool,
) -> dict[str, Any]:
    shown = status(row)
    body: dict[str, Any] = {
        **server_brief(request, row),
        "status": shown,
        "tenant_id": row.project_id,
        "user_id": row.user_id,
        "metadata": dict(row.server_metadata or {}),
        "hostId": host_id(row),
        "image": _image(request, row),
        "flavor": _flavor(request, row),
        "created": iso(row.created_at),
        "updated": iso(row.updated_at),
        "addresses": addresses,
        "accessIPv4": row.access_ipv4,
        "accessIPv6": row.access_ipv6,
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": row.availability_zone,
        "config_drive": "True" if row.config_drive else "",
        "key_name": row.key_name,
        "OS-SRV-USG:launched_at": _usage_time(row.launched_at),
        "OS-SRV-USG:terminated_at": _usage_time(row.terminated_at),
        "OS-EXT-STS:task_state": row.task_state,
        "OS-EXT-STS:vm_state": row.vm_state,
        "OS-EXT-STS:power_state": row.power_state,
        "os-extended-volumes:volumes_attached": [],
    }
    if shown != "DELETED" or not at_least(request, 2, 2):
        body["security_groups"] = [{"name": name} for name in row.security_groups or []]
    if shown in PROGRESS_STATUSES:
        body["progress"] = row.progress
    if row.fault is not None and shown in ("ERROR", "DELETED"):
        fault = dict(row.fault)
        if not admin_view:
            fault.pop("details", None)
        body["fault"] = fault
    if admin_view:
        body.update(_admin_attributes(request, row))
    _by_version(request, row, body, admin_view)
    return body


def _by_version(request: Request, row: Server, body: dict[str, Any], admin_view: bool) -> None:
    if at_least(request, 2, 9):
        body["locked"] = row.locked
    if at_least(request, 2, 16) and admin_view:
        body["host_status"] = "UP" if row.host else ""
    if at_least(request, 2, 19):
        body["description"] = row.description
    if at_least(request, 2, 26):
        body["tags"] = []
    if at_least(request, 2, 71):
        body["server_groups"] = []
    if at_least(request, 2, 73):
        body["locked_reason"] = None
    if at_least(request, 2, 96):
        body["pinned_availability_zone"] = None


def _admin_attributes(request: Request, row: Server) -> dict[str, Any]:
    body: dict[str, Any] = {
        "OS-EXT-SRV-ATTR:host": row.host,
        "OS-EXT-SRV-ATTR:hypervisor_hostname": row.host,
        "OS-EXT-SRV-ATTR:instance_name": f"instance-{row.server_id[:8]}",
    }
    if at_least(request, 2, 3):
        body.update(
            {
                "OS-EXT-SRV-ATTR:reservation_id": row.reservation_id,
                "OS-EXT-SRV-ATTR:launch_index": row.launch_index,
                "OS-EXT-SRV-ATTR:kernel_id": "",
                "OS-EXT-SRV-ATTR:ramdisk_id": "",
                "OS-EXT-SRV-ATTR:hostname": row.hostname,
                "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                "OS-EXT-SRV-ATTR:user_data": row.user_data,
            }
        )
    return body


def _image(request: Request, row: Server) -> dict[str, Any]:
    root = endpoint_url(request)
    return {
        "id": row.image_id,
        "links": [{"rel": "bookmark", "href": f"{root}/images/{row.image_id}"}],
    }


def _flavor(request: Request, row: Server) -> dict[str, Any]:
    copy = row.flavor
    if not at_least(request, 2, 47):
        root = endpoint_url(request)
        return {
            "id": copy["id"],
            "links": [{"rel": "bookmark", "href": f"{root}/flavors/{copy['id']}"}],
        }
    return {
        "vcpus": copy["vcpus"],
        "ram": copy["memory_mb"],
        "disk": copy["root_gb"],
        "ephemeral": copy.get("ephemeral_gb", 0),
        "swap": copy.get("swap", 0),
        "original_name": copy["name"],
        "extra_specs": dict(copy.get("extra_specs", {})),
    }


def _usage_time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def host_id(row: Server) -> str:
    """Nova's hostId: sha224 of project and host, so a project sees which of its servers share
    a host without learning the host's name."""
    if not row.host:
        return ""
    return hashlib.sha224((row.project_id + row.host).encode()).hexdigest()
