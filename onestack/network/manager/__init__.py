"""Network's logic and its only writes, one manager per kind of resource, and the public
Python interface other services use: `NetworkManager` (the compute facade's methods are
exactly those of docs/architecture.md "Network")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onestack.common.bus import Notifier
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.ownership import Ownership, Work
from onestack.common.quota import Quotas
from onestack.network.drivers import Dataplane, make_dataplane
from onestack.network.manager.base import Caller, NetworkDeps, Waker
from onestack.network.manager.bootstrap import Bootstrap, check_public_range
from onestack.network.manager.compute import ComputeFacade, Requests
from onestack.network.manager.dhcp import DhcpSync
from onestack.network.manager.floating_ips import FloatingIpRecords
from onestack.network.manager.networks import NetworkRecords
from onestack.network.manager.plugging import PLUG, REPLUG, UNPLUG, Plugging
from onestack.network.manager.ports import PortRecords
from onestack.network.manager.quota import RESOURCES, LimitWriter, NetworkQuotas
from onestack.network.manager.routers import RouterRecords
from onestack.network.manager.routing import SYNC, RouterSync
from onestack.network.manager.security_groups import (
    SecurityGroupRecords,
    SecurityGroupRuleRecords,
)
from onestack.network.manager.subnets import SubnetRecords
from onestack.network.manager.tags import TagRecords
from onestack.settings import NetworkSettings

__all__ = ["RESOURCES", "Caller", "LimitWriter", "NetworkManager"]


def _nobody_is_admin(ctx: RequestContext) -> bool:
    return False


class NetworkManager:
    """The network managers over one `NetworkDeps`: the service's public Python interface.

    `is_admin` says whether a caller of the facade is a network admin (policy's
    `context_is_admin`, handed in by the assembly)."""

    def __init__(
        self,
        db: Database,
        settings: NetworkSettings,
        notifier: Notifier,
        quotas: Quotas | None = None,
        ownership: Ownership | None = None,
        is_admin: Callable[[RequestContext], bool] = _nobody_is_admin,
        dataplane: Dataplane | None = None,
        limit_writer: LimitWriter | None = None,
    ) -> None:
        self.settings = settings
        self.waker = Waker()
        self.ownership = ownership = ownership or Ownership(db, "api")
        dataplane = dataplane or make_dataplane(settings)
        deps = NetworkDeps(db, notifier, settings, ownership, dataplane, self.waker)
        self.quotas = NetworkQuotas(db, quotas, limit_writer)
        self.networks = NetworkRecords(deps, self.quotas)
        self.subnets = SubnetRecords(deps, self.quotas)
        self.security_groups = SecurityGroupRecords(deps, self.quotas)
        self.security_group_rules = SecurityGroupRuleRecords(self.security_groups)
        self.ports = PortRecords(deps, self.quotas, self.security_groups)
        self.routers = RouterRecords(deps, self.quotas, self.ports)
        self.floating_ips = FloatingIpRecords(deps, self.quotas, self.ports)
        self.plugging = Plugging(deps)
        self.dhcp = DhcpSync(deps, self.ports)
        self.plugging.dhcp_changed = self.dhcp.sync
        self.router_sync = RouterSync(deps)
        self.routers.router_changed = self.router_sync.request
        self.floating_ips.router_changed = self.router_sync.request
        self.security_groups.rules_changed = self.plugging.replug_groups
        self.tags = TagRecords(deps)
        self.compute = ComputeFacade(
            deps, self.ports, self.security_groups, self.plugging, is_admin
        )

    def bootstrap(
        self, admin_project_id: str, demo_project_id: str, host_routes: list[tuple[str, Any]]
    ) -> None:
        """At start: `public`, demo's `private` and `router1`, where missing; SystemExit when
        the public range overlaps one of `host_routes` ((interface, IPv4 network) pairs)."""
        check_public_range(self.settings.public_cidr, host_routes)
        Bootstrap(self, self.settings.public_cidr).run(admin_project_id, demo_project_id)

    def set_waker(self, wake: Callable[[], None]) -> None:
        """How plugging requests wake the network agent (a cast, once the bus is known)."""
        self.waker.wake = wake

    def agent_handlers(self) -> dict[str, Callable[[Work], None]]:
        """What the network agent runs: plugging and unplugging ports through the dataplane."""
        return {
            PLUG: self.plugging.run_work,
            UNPLUG: self.plugging.run_unplug,
            REPLUG: self.plugging.run_replug,
            SYNC: self.router_sync.run_work,
        }

    # -- the facade compute calls (docs/architecture.md "Network") ----------------------------

    def validate_requests(self, ctx: RequestContext, requests: Requests, project_id: str) -> None:
        self.compute.validate_requests(ctx, requests, project_id)

    def allocate_for_server(
        self,
        ctx: RequestContext,
        server_id: str,
        project_id: str,
        host: str,
        requests: Requests,
        security_groups: list[str],
    ) -> list[dict[str, Any]]:
        return self.compute.allocate_for_server(
            ctx, server_id, project_id, host, requests, security_groups
        )

    def deallocate_for_server(self, server_id: str) -> None:
        self.compute.deallocate_for_server(server_id)

    def plug_vifs(self, server_id: str, timeout_s: float) -> list[dict[str, Any]]:
        return self.compute.plug_vifs(server_id, timeout_s)

    def addresses_for(self, server_ids: list[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        return self.compute.addresses_for(server_ids)

    def ports_of(self, server_id: str) -> list[dict[str, Any]]:
        return self.compute.ports_of(server_id)

    def ensure_project_defaults(self, project_id: str) -> None:
        self.compute.ensure_project_defaults(project_id)
