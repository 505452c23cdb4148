"""The no-op dataplane: records what it was asked, touches nothing on the host.

It is the dataplane of slice 1 and of API tests: ports go ACTIVE once the agent ran, no
packet flows. `plugged` and `segments` let tests look at what the agent asked for.
"""

from __future__ import annotations

from onestack.network.drivers.base import Dataplane, DhcpSpec, RouterSpec, Segment, Vif


class NoopDataplane(Dataplane):
    name = "noop"
    carries_traffic = False

    def __init__(self) -> None:
        self.segments: dict[str, Segment] = {}
        self.plugged: dict[str, Vif] = {}
        self.routers: dict[str, RouterSpec] = {}
        self.dhcp: dict[str, DhcpSpec] = {}

    def ensure_segment(self, segment: Segment) -> None:
        self.segments[segment.network_id] = segment

    def remove_segment(self, network_id: str) -> None:
        self.segments.pop(network_id, None)

    def plug(self, vif: Vif) -> None:
        self.ensure_segment(vif.segment)
        self.plugged[vif.port_id] = vif

    def unplug(self, port_id: str) -> None:
        self.plugged.pop(port_id, None)

    def ensure_router(self, router: RouterSpec) -> None:
        self.routers[router.router_id] = router

    def remove_router(self, router_id: str) -> None:
        self.routers.pop(router_id, None)

    def ensure_dhcp(self, spec: DhcpSpec) -> None:
        if not spec.subnets:
            self.remove_dhcp(spec.segment.network_id)
            return
        self.ensure_segment(spec.segment)
        self.dhcp[spec.segment.network_id] = spec

    def remove_dhcp(self, network_id: str) -> None:
        self.dhcp.pop(network_id, None)
