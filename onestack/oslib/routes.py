"""The host's IPv4 routing table, read from /proc/net/route (no command runs): what the
network service checks its external range against at start."""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

PROC_ROUTE = Path("/proc/net/route")


@dataclass(frozen=True)
class HostRoute:
    interface: str
    destination: ipaddress.IPv4Network


def parse_proc_route(text: str) -> list[HostRoute]:
    """The routes of /proc/net/route's text (addresses in host byte order, hex)."""
    routes = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        address = _address(fields[1])
        mask = _address(fields[7])
        network = ipaddress.IPv4Network(f"{address}/{mask}", strict=False)
        routes.append(HostRoute(fields[0], network))
    return routes


def _address(hex_text: str) -> str:
    return socket.inet_ntoa(struct.pack("<I", int(hex_text, 16)))


def host_routes(path: Path = PROC_ROUTE) -> list[HostRoute]:
    """This host's routes; none where the file cannot be read (not Linux, no /proc)."""
    try:
        return parse_proc_route(path.read_text())
    except OSError:
        return []
