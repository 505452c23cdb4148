"""/v2.0/extensions: exactly the API extensions this service implements (clients decide
what to offer from these aliases)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.network import errors
from onestack.network.api.common import enforce

UPDATED = "2025-01-01T00:00:00-00:00"
# alias: (name, description)
IMPLEMENTED = {
    "allowed-address-pairs": ("Allowed Address Pairs", "Allowed address pairs on ports."),
    "binding": ("Port Binding", "The host a port is bound to and how to plug it."),
    "ext-gw-mode": ("Neutron L3 Configurable external gateway mode", "enable_snat."),
    "external-net": ("Neutron external network", "Networks marked router:external."),
    "fip-port-details": ("Floating IP Port Details", "port_details on floating IPs."),
    "net-mtu": ("Network MTU", "The MTU of each network."),
    "pagination": ("Pagination support", "limit and marker on lists."),
    "port-security": ("Port Security", "port_security_enabled on ports."),
    "project-id": ("project_id field enabled", "project_id beside tenant_id."),
    "provider": ("Provider Network", "provider:network_type, physical_network, segmentation_id."),
    "quota_details": ("Quota details", "/v2.0/quotas/{project_id}/details."),
    "quotas": ("Quota management support", "Per-project limits (unified limits)."),
    "router": ("Neutron L3 Router", "Routers, interfaces and floating IPs."),
    "security-group": ("security-group", "Security groups and their rules."),
    "sorting": ("Sorting support", "sort_key and sort_dir on lists."),
    "standard-attr-description": ("standard-attr-description", "description on resources."),
    "standard-attr-revisions": ("Resource revision numbers", "revision_number on resources."),
    "standard-attr-tag": ("Tag support for resources", "Tags on every resource."),
    "standard-attr-timestamp": ("Resource timestamps", "created_at and updated_at."),
    "stateful-security-group": ("Stateful security group", "stateful on security groups."),
}


def _body(alias: str) -> dict[str, object]:
    name, description = IMPLEMENTED[alias]
    return {
        "alias": alias,
        "name": name,
        "description": description,
        "updated": UPDATED,
        "links": [],
    }


async def list_extensions(request: Request) -> Response:
    enforce(request, "get_extension")
    return JSONResponse({"extensions": [_body(a) for a in sorted(IMPLEMENTED)]})


async def show_extension(request: Request) -> Response:
    enforce(request, "get_extension")
    alias = request.path_params["alias"]
    if alias not in IMPLEMENTED:
        raise errors.ExtensionNotFound(alias)
    return JSONResponse({"extension": _body(alias)})


routes = [
    Route("/v2.0/extensions", list_extensions, methods=["GET"]),
    Route("/v2.0/extensions/{alias}", show_extension, methods=["GET"]),
]
