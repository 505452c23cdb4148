"""Command builders for `ip` (package iproute2): the tap and veth devices of guests and the named
network namespaces of containers. Only names onestack owns are ever passed here; `netns` ""
means the host's own namespace."""

from __future__ import annotations

from onestack.oslib.process import Command


def _ip(netns: str, *args: str) -> Command:
    return Command(("ip", *(("-n", netns) if netns else ()), *args))


def tap_add(name: str, netns: str = "") -> Command:
    """A persistent tap (vnet_hdr, as virtio-net wants) that a QEMU process attaches to."""
    return _ip(netns, "tuntap", "add", "dev", name, "mode", "tap", "vnet_hdr")


def link_up_on_bridge(name: str, bridge: str, mtu: int, netns: str = "") -> Command:
    """Join `bridge`, take the MTU and come up, in one command."""
    return _ip(netns, "link", "set", "dev", name, "mtu", str(mtu), "master", bridge, "up")


def link_delete(name: str, netns: str = "") -> Command:
    return _ip(netns, "link", "del", "dev", name)


def link_show(name: str, netns: str = "") -> Command:
    """Fails (CommandFailed) when the link does not exist."""
    return _ip(netns, "-o", "link", "show", "dev", name)


def bridge_add(name: str, netns: str = "") -> Command:
    """A bridge that does not wait to forward (no STP delays on a new port)."""
    return _ip(netns, "link", "add", "name", name, "type", "bridge", "forward_delay", "0")


def vxlan_add(name: str, vni: int, netns: str = "", dstport: int = 4789) -> Command:
    """A VXLAN device with no peers yet and no learning: peers come as fdb entries later."""
    return _ip(netns, "link", "add", "name", name, "type", "vxlan", "id", str(vni),
               "dstport", str(dstport), "nolearning")  # fmt: skip


def link_up(name: str, netns: str = "", mtu: int | None = None) -> Command:
    sized = ("mtu", str(mtu)) if mtu else ()
    return _ip(netns, "link", "set", "dev", name, *sized, "up")


def link_set_master(name: str, bridge: str, netns: str = "") -> Command:
    return _ip(netns, "link", "set", "dev", name, "master", bridge)


def links_json(netns: str = "") -> Command:
    """Every link of the namespace as JSON (`ip -j link`): ifname, master, ..."""
    return _ip(netns, "-j", "link", "show")


def addrs_json(netns: str = "") -> Command:
    """Every address of the namespace as JSON (`ip -j addr`)."""
    return _ip(netns, "-j", "addr", "show")


def addr_add(name: str, cidr: str, netns: str = "") -> Command:
    """`cidr` is address/prefix, e.g. 10.0.0.1/26."""
    return _ip(netns, "addr", "add", cidr, "dev", name)


def addr_del(name: str, cidr: str, netns: str = "") -> Command:
    return _ip(netns, "addr", "del", cidr, "dev", name)


def route_replace_default(via: str, netns: str) -> Command:
    """Only ever in a namespace of ours: the host's routes are never touched."""
    if not netns:
        raise ValueError("the host's default route is not ours to change")
    return _ip(netns, "route", "replace", "default", "via", via)


def veth_add(name: str, peer: str, peer_netns: str, netns: str = "") -> Command:
    """A veth pair: `name` in `netns`, its peer `peer` created directly in `peer_netns`."""
    return _ip(netns, "link", "add", "dev", name, "type", "veth", "peer", "name", peer,
               "netns", peer_netns)  # fmt: skip


def link_reset(name: str, mac: str, mtu: int, netns: str = "") -> Command:
    """Take a link down and give it a MAC address and MTU (its guest brings it up)."""
    return _ip(netns, "link", "set", "dev", name, "down", "address", mac, "mtu", str(mtu))


def addr_flush(name: str, netns: str = "") -> Command:
    """Forget every address of a link (a restarted guest asks DHCP again)."""
    return _ip(netns, "addr", "flush", "dev", name)


def netns_add(name: str) -> Command:
    return Command(("ip", "netns", "add", name))


def netns_delete(name: str) -> Command:
    return Command(("ip", "netns", "del", name))


def link_down(name: str, netns: str = "") -> Command:
    return _ip(netns, "link", "set", "dev", name, "down")
