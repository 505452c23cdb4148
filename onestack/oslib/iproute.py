"""Command builders for `ip` (package iproute2): the tap devices of guests. Only names onestack
owns are ever passed here; `netns` "" means the host's own namespace."""

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
