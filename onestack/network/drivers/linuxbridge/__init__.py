"""The linuxbridge dataplane: every tenant bridge in one namespace of ours
(`onestack-dataplane`), VXLAN devices without peers for vxlan networks, security groups as
iptables physdev + conntrack chains there, a DHCP namespace per network (`dhcp.py`) and a
namespace per router (`router.py`). Only the external network reaches the host's own
namespace, by one veth holding its gateway address. Every name carries a prefix of ours
(`names.py`): `host_inventory` lists them and `host_clean` removes them, nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

from onestack.network.drivers.base import Dataplane, DhcpSpec, RouterSpec, Segment, Vif
from onestack.network.drivers.linuxbridge import firewall, host, names
from onestack.network.drivers.linuxbridge import router as lb_router
from onestack.network.drivers.linuxbridge.dhcp import DhcpServers
from onestack.oslib import iproute, iptables, kmod, netns, pidfile
from onestack.settings import NetworkSettings

DP = names.DATAPLANE_NETNS
FORWARD_HOOK = f"-A FORWARD -j {names.SG_DISPATCH}"
ZONES_HOOK = f"-A PREROUTING -j {names.CT_ZONES}"
BRIDGE_NETFILTER = Path("/proc/sys/net/bridge")


class LinuxBridgeDataplane(Dataplane):
    name = "linuxbridge"
    carries_traffic = True

    def __init__(self, state_dir: Path, metadata_url: str | None = None) -> None:
        self.state_dir = state_dir
        self.dhcp = DhcpServers(state_dir, metadata_url)

    @classmethod
    def from_settings(cls, settings: NetworkSettings) -> Dataplane:
        return cls(settings.dataplane_dir, settings.metadata_url)

    # Segments

    def ensure_segment(self, segment: Segment) -> None:
        if host.ensure_netns(DP):
            if not BRIDGE_NETFILTER.exists():  # security groups see bridged frames only with it
                host.do(kmod.load("br_netfilter"), "load br_netfilter")
            filtering = netns.sysctl(DP, "net.bridge.bridge-nf-call-iptables", "1")
            host.do(filtering, "filter bridged frames")
        bridge = names.bridge(segment.network_id)
        if bridge not in host.links(DP):
            host.do(iproute.bridge_add(bridge, DP), f"create bridge {bridge}")
        host.do(iproute.link_up(bridge, DP, segment.mtu), f"bring up {bridge}")
        if segment.network_type == "vxlan" and segment.segmentation_id:
            self._ensure_vxlan(bridge, segment.segmentation_id, segment.mtu)
        if segment.host_address:
            self._ensure_host_link(segment)
        self._write_zones()

    def remove_segment(self, network_id: str) -> None:
        self.remove_dhcp(network_id)
        bridge = names.bridge(network_id)
        for link, info in host.links(DP).items():
            if link.startswith("vxlan-") and info.get("master") == bridge:
                host.delete_link(DP, link)
        host.delete_link(DP, bridge)
        host.delete_link("", names.host_link(network_id))
        if DP in host.namespaces():
            self._write_zones()

    def _ensure_vxlan(self, bridge: str, vni: int, mtu: int) -> None:
        device = names.vxlan(vni)
        if device not in host.links(DP):
            host.do(iproute.vxlan_add(device, vni, DP), f"create {device}")
        host.do(iproute.link_up_on_bridge(device, bridge, mtu, DP), f"attach {device}")

    def _ensure_host_link(self, segment: Segment) -> None:
        outer, inner = names.host_link(segment.network_id), names.host_link_peer(segment.network_id)
        if outer not in host.links(""):
            host.delete_link(DP, inner)  # half of an earlier attempt
            host.do(iproute.veth_add(outer, inner, DP), f"create {outer}")
        host.do(iproute.link_up_on_bridge(inner, names.bridge(segment.network_id), segment.mtu, DP),
                f"attach {inner}")  # fmt: skip
        host.do(iproute.link_up(outer, "", segment.mtu), f"bring up {outer}")
        host.ensure_addresses("", outer, {str(segment.host_address)})

    def _write_zones(self) -> None:
        """The conntrack zone rules for the bridges there are now, in one commit."""
        bridges = {name: int(link["ifindex"]) for name, link in host.links(DP).items()
                   if names.is_bridge(name)}  # fmt: skip
        hook = [] if iptables.has_rule(host.saved(DP, "raw"), ZONES_HOOK) else [ZONES_HOOK]
        text = iptables.ruleset("raw", [names.CT_ZONES], [*firewall.zones(bridges), *hook])
        host.do(iptables.restore(DP, text), "write the conntrack zones")

    # Ports

    def plug(self, vif: Vif) -> None:
        self.ensure_segment(vif.segment)
        if vif.devname in host.links(DP):  # the compute driver made it; make sure it is joined
            host.do(iproute.link_up_on_bridge(vif.devname, vif.bridge_name, vif.segment.mtu, DP),
                    f"attach {vif.devname}")  # fmt: skip
        chains, rules = firewall.port_rules(vif)
        self._write_filters(vif.devname, chains, rules)

    def unplug(self, port_id: str) -> None:
        devname = names.port_device(port_id)
        if DP in host.namespaces():
            self._write_filters(devname, [], [])
        host.delete_link(DP, devname)

    def _write_filters(self, devname: str, chains: list[str], rules: list[str]) -> None:
        """One atomic commit: the port's chains, the dispatch rebuilt, stale chains dropped."""
        saved = host.saved(DP, "filter")
        existing = iptables.chains(saved)
        others = [dev for dev in firewall.filtered_devices(existing) if dev != devname]
        devices = others + ([devname] if chains else [])
        stale = [c for c in names.sg_chains(devname) if c in existing and c not in chains]
        hook = [] if iptables.has_rule(saved, FORWARD_HOOK) else [FORWARD_HOOK]
        drops = [f"-X {chain}" for chain in stale]
        lines = [*rules, *firewall.dispatch(devices), *hook, *drops]
        text = iptables.ruleset("filter", [*chains, *stale, names.SG_DISPATCH], lines)
        host.do(iptables.restore(DP, text), f"write the security groups of {devname}")

    # Routers and DHCP

    def ensure_router(self, router: RouterSpec) -> None:
        bridges = host.links(DP)
        mtu_of = {}
        for leg in [*router.legs, *([router.external] if router.external else [])]:
            bridge = bridges.get(names.bridge(leg.network_id))
            if bridge:
                mtu_of[leg.network_id] = int(bridge.get("mtu", 1500))
        lb_router.ensure(router, mtu_of)

    def remove_router(self, router_id: str) -> None:
        lb_router.remove(router_id)

    def ensure_dhcp(self, spec: DhcpSpec) -> None:
        if not spec.subnets:
            self.remove_dhcp(spec.segment.network_id)
            return
        self.ensure_segment(spec.segment)
        self.dhcp.ensure(spec)

    def remove_dhcp(self, network_id: str) -> None:
        self.dhcp.remove(network_id)

    # The host as a whole

    def host_inventory(self) -> dict[str, list[str]]:
        ours = [ns for ns in host.namespaces() if names.is_our_netns(ns)]
        links = [f"{ns}:{link}" for ns in ours for link in host.links(ns) if link != "lo"]
        links += [link for link in host.links("") if link.startswith(names.HOST_LINK_PREFIX)]
        chains = [f"{ns}:{chain}" for ns in ours for table in ("filter", "nat", "raw")
                  for chain in iptables.chains(host.saved(ns, table))]  # fmt: skip
        processes = [f"{ns}:{pid}" for ns in ours if ns != DP for pid in host.pids_in(ns)]
        processes += [f"proxy:{p.parent.name}" for p in self.dhcp.proxy_pid_files()
                      if pidfile.find(p, p.parent.name)]  # fmt: skip
        files = sorted(str(p) for p in self.state_dir.rglob("*")) if self.state_dir.exists() else []
        return {"namespaces": sorted(ours), "links": sorted(links), "chains": sorted(chains),
                "processes": sorted(processes), "files": files}  # fmt: skip

    def host_clean(self) -> None:
        """Guests in the dataplane namespace are compute's: deleting the namespace's name
        leaves them running, on links that no longer reach anything."""
        for proxy in self.dhcp.proxy_pid_files():
            pidfile.stop(proxy, proxy.parent.name)
        for ns in host.namespaces():
            if names.is_our_netns(ns) and ns != DP:
                host.remove_netns(ns)
        for link in host.links(""):
            if link.startswith(names.HOST_LINK_PREFIX):
                host.delete_link("", link)
        if DP in host.namespaces():
            host.do(iproute.netns_delete(DP), f"delete namespace {DP}")
        shutil.rmtree(self.state_dir, ignore_errors=True)
