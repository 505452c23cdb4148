"""What the cloud offers: limits (absolute), availability zones, hypervisors and services."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.compute import errors
from onestack.compute.api.common import enforce, manager
from onestack.compute.api.microversion import at_least
from onestack.compute.api.render import iso
from onestack.compute.manager.base import now
from onestack.compute.manager.quota import CORES, KEYPAIRS, RAM, SERVERS
from onestack.compute.models import ComputeNode

# A compute service whose agent has not reported for this long is down (Nova's
# service_down_time).
SERVICE_DOWN_S = 60

# Nova's fixed limits on what one server or image carries.
FIXED = {
    "maxServerMeta": 128,
    "maxImageMeta": 128,
    "maxServerGroups": 10,
    "maxServerGroupMembers": 10,
}


async def limits(request: Request) -> Response:
    who = enforce(request, "limits")
    project_id = request.query_params.get("tenant_id") if who.is_admin else None
    project_id = project_id or who.project_id
    compute = manager(request)
    limit = compute.quotas.limits(project_id)
    used = compute.quotas.usage(project_id, [SERVERS, CORES, RAM])
    absolute: dict[str, Any] = {
        **FIXED,
        "maxTotalInstances": limit[SERVERS],
        "maxTotalCores": limit[CORES],
        "maxTotalRAMSize": limit[RAM],
        "maxTotalKeypairs": limit[KEYPAIRS],
        "totalInstancesUsed": used[SERVERS],
        "totalCoresUsed": used[CORES],
        "totalRAMUsed": used[RAM],
        "totalServerGroupsUsed": 0,
    }
    if not at_least(request, 2, 36):
        absolute.update(
            {
                "maxSecurityGroups": -1,
                "maxSecurityGroupRules": -1,
                "maxTotalFloatingIps": -1,
                "totalFloatingIpsUsed": 0,
                "totalSecurityGroupsUsed": 0,
            }
        )
    if not at_least(request, 2, 57):
        absolute.update({"maxPersonality": 5, "maxPersonalitySize": 10240})
    return JSONResponse({"limits": {"rate": [], "absolute": absolute}})


async def zones(request: Request) -> Response:
    enforce(request, "os-availability-zone:list")
    zone = manager(request).settings.availability_zone
    return JSONResponse(
        {
            "availabilityZoneInfo": [
                {"zoneName": zone, "zoneState": {"available": True}, "hosts": None}
            ]
        }
    )


async def zones_detail(request: Request) -> Response:
    enforce(request, "os-availability-zone:detail")
    compute = manager(request)
    hosts = {
        service.host: {
            "nova-compute": {
                "available": not service.disabled,
                "active": True,
                "updated_at": iso(service.updated_at),
            }
        }
        for service in compute.nodes.services()
    }
    zone = compute.settings.availability_zone
    return JSONResponse(
        {
            "availabilityZoneInfo": [
                {"zoneName": zone, "zoneState": {"available": True}, "hosts": hosts}
            ]
        }
    )


def _state(updated_at: datetime) -> str:
    return "up" if now() - updated_at < timedelta(seconds=SERVICE_DOWN_S) else "down"


def _node_id(request: Request, node: ComputeNode) -> Any:
    return node.uuid if at_least(request, 2, 53) else node.node_id


def _hypervisor(request: Request, node: ComputeNode, detail: bool) -> dict[str, Any]:
    services = {s.host: s for s in manager(request).nodes.services()}
    service = services.get(node.host)
    body: dict[str, Any] = {
        "id": _node_id(request, node),
        "hypervisor_hostname": node.hypervisor_hostname,
        "state": _state(service.updated_at) if service else "down",
        "status": "disabled" if service and service.disabled else "enabled",
    }
    if not detail:
        return body
    body.update(
        {
            "host_ip": "127.0.0.1",
            "hypervisor_type": node.hypervisor_type,
            "hypervisor_version": 1000,
            "service": {
                "host": node.host,
                "id": (service.uuid if at_least(request, 2, 53) else service.service_id)
                if service
                else None,
                "disabled_reason": None,
            },
        }
    )
    if at_least(request, 2, 88):
        body["uptime"] = None
        return body
    used = manager(request).nodes.usage(node)
    body.update(
        {
            "vcpus": node.vcpus,
            "memory_mb": node.memory_mb,
            "local_gb": node.disk_gb,
            "vcpus_used": used["vcpus"],
            "memory_mb_used": used["memory_mb"],
            "local_gb_used": used["disk_gb"],
            "free_ram_mb": node.memory_mb - used["memory_mb"],
            "free_disk_gb": node.disk_gb - used["disk_gb"],
            "current_workload": 0,
            "running_vms": used["running_vms"],
            "disk_available_least": node.disk_gb - used["disk_gb"],
            "cpu_info": "{}",
        }
    )
    return body


async def hypervisors(request: Request) -> Response:
    enforce(request, "os-hypervisors:list")
    nodes = manager(request).nodes.nodes()
    return JSONResponse({"hypervisors": [_hypervisor(request, n, False) for n in nodes]})


async def hypervisors_detail(request: Request) -> Response:
    enforce(request, "os-hypervisors:list-detail")
    nodes = manager(request).nodes.nodes()
    return JSONResponse({"hypervisors": [_hypervisor(request, n, True) for n in nodes]})


async def hypervisor(request: Request) -> Response:
    enforce(request, "os-hypervisors:show")
    node = manager(request).nodes.node(request.path_params["hypervisor_id"])
    return JSONResponse({"hypervisor": _hypervisor(request, node, True)})


def _before_2_88(request: Request) -> None:
    if at_least(request, 2, 88):
        raise errors.ResourceNotFound()


async def hypervisor_statistics(request: Request) -> Response:
    """Totals over every hypervisor (gone from 2.88)."""
    _before_2_88(request)
    enforce(request, "os-hypervisors:statistics")
    nodes = [_hypervisor(request, n, True) for n in manager(request).nodes.nodes()]
    keys = (
        "vcpus",
        "memory_mb",
        "local_gb",
        "vcpus_used",
        "memory_mb_used",
        "local_gb_used",
        "free_ram_mb",
        "free_disk_gb",
        "current_workload",
        "running_vms",
        "disk_available_least",
    )
    totals = {key: sum(int(n[key]) for n in nodes) for key in keys}
    return JSONResponse({"hypervisor_statistics": {"count": len(nodes), **totals}})


async def hypervisor_uptime(request: Request) -> Response:
    _before_2_88(request)
    enforce(request, "os-hypervisors:uptime")
    node = manager(request).nodes.node(request.path_params["hypervisor_id"])
    body = _hypervisor(request, node, False)
    body["uptime"] = _uptime()
    return JSONResponse({"hypervisor": body})


def _uptime() -> str:
    seconds = (
        float(Path("/proc/uptime").read_text().split()[0]) if Path("/proc/uptime").exists() else 0
    )
    return f" {time.strftime('%H:%M:%S')} up {int(seconds // 60)} min,  load average: 0.00"


def _matching(request: Request) -> list[ComputeNode]:
    """Hypervisors whose hostname contains the path's pattern (before 2.53); 404 if none."""
    if at_least(request, 2, 53):
        raise errors.ResourceNotFound()
    pattern = request.path_params["pattern"]
    found = [n for n in manager(request).nodes.nodes() if pattern in n.hypervisor_hostname]
    if not found:
        raise errors.HypervisorNotFound(pattern)
    return found


async def hypervisor_search(request: Request) -> Response:
    enforce(request, "os-hypervisors:search")
    found = _matching(request)
    return JSONResponse({"hypervisors": [_hypervisor(request, n, False) for n in found]})


async def hypervisor_servers(request: Request) -> Response:
    enforce(request, "os-hypervisors:servers")
    listed = []
    for node in _matching(request):
        body = _hypervisor(request, node, False)
        servers = manager(request).nodes.servers_on(node)
        if servers:
            body["servers"] = [
                {"uuid": s.server_id, "name": f"instance-{s.server_id[:8]}"} for s in servers
            ]
        listed.append(body)
    return JSONResponse({"hypervisors": listed})


async def services(request: Request) -> Response:
    enforce(request, "os-services:list")
    listed = []
    wanted = {k: request.query_params[k] for k in ("binary", "host") if k in request.query_params}
    for service in manager(request).nodes.services():
        if any(getattr(service, key) != value for key, value in wanted.items()):
            continue
        body: dict[str, Any] = {
            "id": service.uuid if at_least(request, 2, 53) else service.service_id,
            "binary": service.binary,
            "host": service.host,
            "zone": service.zone,
            "status": "disabled" if service.disabled else "enabled",
            "state": _state(service.updated_at),
            "updated_at": iso(service.updated_at),
            "disabled_reason": None,
        }
        if at_least(request, 2, 11):
            body["forced_down"] = False
        listed.append(body)
    return JSONResponse({"services": listed})


routes = [
    Route("/v2.1/limits", limits, methods=["GET"]),
    Route("/v2.1/os-availability-zone", zones, methods=["GET"]),
    Route("/v2.1/os-availability-zone/detail", zones_detail, methods=["GET"]),
    Route("/v2.1/os-hypervisors", hypervisors, methods=["GET"]),
    Route("/v2.1/os-hypervisors/detail", hypervisors_detail, methods=["GET"]),
    Route("/v2.1/os-hypervisors/statistics", hypervisor_statistics, methods=["GET"]),
    Route("/v2.1/os-hypervisors/{hypervisor_id}", hypervisor, methods=["GET"]),
    Route("/v2.1/os-hypervisors/{hypervisor_id}/uptime", hypervisor_uptime, methods=["GET"]),
    Route("/v2.1/os-hypervisors/{pattern}/search", hypervisor_search, methods=["GET"]),
    Route("/v2.1/os-hypervisors/{pattern}/servers", hypervisor_servers, methods=["GET"]),
    Route("/v2.1/os-services", services, methods=["GET"]),
]
