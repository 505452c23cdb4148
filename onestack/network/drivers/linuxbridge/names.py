"""Every host name the linuxbridge dataplane makes, in one place: each carries a prefix of
ours, so `host_inventory` finds them and nothing else is ever touched. Link names stay within
the kernel's 15 characters; the dataplane namespace name is the one ports carry in
`binding:vif_details` (network/manager/ports.py)."""

from __future__ import annotations

DATAPLANE_NETNS = "onestack-dataplane"
DHCP_NETNS_PREFIX = "onestack-dhcp-"
ROUTER_NETNS_PREFIX = "onestack-router-"
HOST_LINK_PREFIX = "ostk"  # the only links of ours in the host's own namespace
SG_DISPATCH = "onestack-sg"
CT_ZONES = "onestack-ct"
SG_IN, SG_OUT, SG_EGRESS = "oi-", "oo-", "oe-"
METADATA_IP = "169.254.169.254"


def is_our_netns(name: str) -> bool:
    """Only these exact prefixes: other parts of onestack name namespaces `onestack-...` too
    (the container driver's guests), and those are not the dataplane's to remove."""
    return name == DATAPLANE_NETNS or name.startswith((DHCP_NETNS_PREFIX, ROUTER_NETNS_PREFIX))


def bridge(network_id: str) -> str:
    return f"brq{network_id[:11]}"


def is_bridge(link: str) -> bool:
    return link.startswith("brq")


def vxlan(vni: int) -> str:
    return f"vxlan-{vni}"


def port_device(port_id: str) -> str:
    """The tap or veth the compute driver made for the port (`devname` of the binding)."""
    return f"tap{port_id[:11]}"


def host_link(network_id: str) -> str:
    """The external network's link in the host namespace (holds the gateway address)."""
    return f"{HOST_LINK_PREFIX}{network_id[:11]}"


def host_link_peer(network_id: str) -> str:
    return f"ostp{network_id[:11]}"


def dhcp_netns(network_id: str) -> str:
    return f"{DHCP_NETNS_PREFIX}{network_id}"


def dhcp_outer(network_id: str) -> str:
    """The DHCP veth's end on the bridge."""
    return f"dhp{network_id[:11]}"


def dhcp_inner(network_id: str) -> str:
    return f"ns-{network_id[:11]}"


def router_netns(router_id: str) -> str:
    return f"{ROUTER_NETNS_PREFIX}{router_id}"


def router_inner(port_id: str, external: bool) -> str:
    return f"{'qg' if external else 'qr'}-{port_id[:11]}"


def router_outer(port_id: str, external: bool) -> str:
    return f"{'rg' if external else 'rq'}-{port_id[:11]}"


def sg_chains(devname: str) -> tuple[str, str, str]:
    """The port's chains: into it, out of it (anti-spoofing), and its egress rules."""
    return f"{SG_IN}{devname}", f"{SG_OUT}{devname}", f"{SG_EGRESS}{devname}"
