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
