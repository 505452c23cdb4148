"""Routers: a namespace per router with a veth leg on each network's bridge (the subnet's
gateway address inside), ip_forward on, and its own nat table: SNAT of the subnets to the
gateway address, and per floating IP its /32 on the external leg with DNAT + SNAT."""

from __future__ import annotations

import ipaddress

from onestack.network.drivers.base import DataplaneError, RouterLeg, RouterSpec
from onestack.network.drivers.linuxbridge import host, names
from onestack.oslib import iproute, iptables, netns

DNAT, SNAT = "onestack-dnat", "onestack-snat"
NAT_BUILTINS = ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")
LEG_PREFIXES = ("qr-", "qg-")


def ensure(router: RouterSpec, mtu_of: dict[str, int]) -> None:
    """`mtu_of` gives each leg's network MTU (from the bridges present)."""
    ns = names.router_netns(router.router_id)
    host.ensure_netns(ns)
    host.do(netns.sysctl(ns, "net.ipv4.ip_forward", "1"), "turn on forwarding")
    legs = [(leg, False) for leg in router.legs]
    legs += [(router.external, True)] if router.external else []
    _remove_stale_legs(ns, {names.router_inner(leg.port_id, ext) for leg, ext in legs})
    for leg, external in legs:
        _ensure_leg(ns, leg, external, router, mtu_of)
    if router.external and router.external_gateway:
        host.do(iproute.route_replace_default(router.external_gateway, ns), "set default route")
    host.do(iptables.restore(ns, nat_ruleset(router), noflush=False), "write the router's NAT")


def remove(router_id: str) -> None:
    host.remove_netns(names.router_netns(router_id))


def nat_ruleset(router: RouterSpec) -> str:
    """The router's whole nat table (the namespace is ours alone)."""
    rules = [f"-A PREROUTING -j {DNAT}", f"-A OUTPUT -j {DNAT}", f"-A POSTROUTING -j {SNAT}"]
    if router.external:
        out = names.router_inner(router.external.port_id, True)
        for fip in router.floating_ips:
            rules.append(
                f"-A {DNAT} -d {fip.floating_ip}/32 -j DNAT --to-destination {fip.fixed_ip}"
            )
            rules.append(
                f"-A {SNAT} -s {fip.fixed_ip}/32 -o {out} -j SNAT --to-source {fip.floating_ip}"
            )
        if router.enable_snat:
            for leg in router.legs:
                network = ipaddress.ip_network(leg.cidr, strict=False)
                rules.append(
                    f"-A {SNAT} -s {network} -o {out} -j SNAT --to-source {router.external.ip}"
                )
    return iptables.ruleset("nat", [DNAT, SNAT], rules, NAT_BUILTINS)


def _remove_stale_legs(ns: str, wanted: set[str]) -> None:
    for link in host.links(ns):
        if link.startswith(LEG_PREFIXES) and link not in wanted:
            host.delete_link(ns, link)  # its peer on the bridge goes with it


def _ensure_leg(ns: str, leg: RouterLeg, external: bool, router: RouterSpec,
                mtu_of: dict[str, int]) -> None:  # fmt: skip
    bridge = names.bridge(leg.network_id)
    if leg.network_id not in mtu_of:
        raise DataplaneError(f"network {leg.network_id} has no bridge on this host")
    inner = names.router_inner(leg.port_id, external)
    host.ensure_veth(
        names.router_outer(leg.port_id, external), inner, ns, bridge, mtu_of[leg.network_id]
    )
    prefix = ipaddress.ip_network(leg.cidr, strict=False).prefixlen
    wanted = {f"{leg.ip}/{prefix}"}
    if external:
        wanted |= {f"{fip.floating_ip}/32" for fip in router.floating_ips}
    host.ensure_addresses(ns, inner, wanted)
