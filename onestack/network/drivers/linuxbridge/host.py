"""The linuxbridge dataplane's hands: runs oslib commands, turning failures into
`DataplaneError`, and reads the host's state back (namespaces, links, addresses, chains).
Every `ensure_*` here changes only what differs, so repeating it changes nothing."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from onestack.network.drivers.base import DataplaneError
from onestack.network.drivers.linuxbridge import names
from onestack.oslib import iproute, iptables, netns, pidfile
from onestack.oslib.process import Command, CommandFailed, run


def do(command: Command, what: str) -> str:
    try:
        return run(command)
    except CommandFailed as exc:
        raise DataplaneError(f"could not {what}: {exc}") from exc


def namespaces() -> list[str]:
    return netns.parse_names(do(netns.list_all(), "list namespaces"))


def ensure_netns(name: str) -> bool:
    """The namespace exists with lo up; True when it was made now."""
    if name in namespaces():
        return False
    do(iproute.netns_add(name), f"create namespace {name}")
    do(iproute.link_up("lo", name), f"bring up lo in {name}")
    return True


def remove_netns(name: str) -> None:
    """Kill what runs inside (only for namespaces wholly ours), then delete it."""
    if name not in namespaces():
        return
    for pid in pids_in(name):
        pidfile.signal_pid(pid, signal.SIGKILL)
    do(iproute.netns_delete(name), f"delete namespace {name}")


def pids_in(name: str) -> list[int]:
    try:
        return [int(line) for line in run(netns.pids(name)).split()]
    except CommandFailed:
        return []


def links(ns: str) -> dict[str, dict]:
    """The namespace's links by name (empty when the namespace does not exist)."""
    if ns and ns not in namespaces():
        return {}
    return {
        link["ifname"]: link
        for link in json.loads(do(iproute.links_json(ns), "list links") or "[]")
    }


def addresses(ns: str, link: str) -> set[str]:
    """IPv4 addresses of `link` as address/prefix."""
    for entry in json.loads(do(iproute.addrs_json(ns), "list addresses") or "[]"):
        if entry["ifname"] == link:
            return {
                f"{a['local']}/{a['prefixlen']}"
                for a in entry.get("addr_info", [])
                if a.get("family") == "inet"
            }
    return set()


def ensure_addresses(ns: str, link: str, wanted: set[str]) -> None:
    """`link` holds exactly the IPv4 addresses `wanted`."""
    have = addresses(ns, link)
    for cidr in sorted(have - wanted):
        do(iproute.addr_del(link, cidr, ns), f"remove {cidr} from {link}")
    for cidr in sorted(wanted - have):
        do(iproute.addr_add(link, cidr, ns), f"add {cidr} to {link}")


def ensure_veth(outer: str, inner: str, inner_ns: str, bridge: str, mtu: int) -> None:
    """A veth with `outer` on `bridge` in the dataplane namespace and `inner` in `inner_ns`."""
    if outer not in links(names.DATAPLANE_NETNS):
        if inner in links(inner_ns):  # half of an earlier attempt: start again
            do(iproute.link_delete(inner, inner_ns), f"remove stale {inner}")
        do(iproute.veth_add(outer, inner, inner_ns, names.DATAPLANE_NETNS), f"create veth {outer}")
    do(iproute.link_up_on_bridge(outer, bridge, mtu, names.DATAPLANE_NETNS), f"attach {outer}")
    do(iproute.link_up(inner, inner_ns, mtu), f"bring up {inner}")


def delete_link(ns: str, link: str) -> None:
    """Gone afterwards; a veth whose peer's namespace is being deleted may vanish between
    the look and the delete, which is no error."""
    if link not in links(ns):
        return
    try:
        run(iproute.link_delete(link, ns))
    except CommandFailed as exc:
        if link in links(ns):
            raise DataplaneError(f"could not delete {link}: {exc}") from exc


def saved(ns: str, table: str) -> str:
    if ns not in namespaces():
        return ""
    return do(iptables.save(ns, table), f"read iptables {table} in {ns}")


def write_file(path: Path, text: str) -> bool:
    """Write atomically; False (and no write) when the content is already that."""
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return True
