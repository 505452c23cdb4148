"""Address arithmetic for subnets, pure (no database): CIDR checks, default gateway and
pools, overlap, and picking candidate addresses.

The database's unique index on (subnet, address) is what makes an allocation final; this
module only proposes addresses, and the caller retries with the next one when a concurrent
create won the index (see `ports.py`).
"""

from __future__ import annotations

import ipaddress
import itertools
import random
from collections.abc import Iterable, Iterator
from typing import Any

from onestack.network import errors

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_cidr(cidr: str, ip_version: int) -> IpNetwork:
    """The subnet's network; 400 unless it is a network address of that version with room
    for hosts (Neutron refuses host bits set)."""
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise errors.InvalidInput(f"'{cidr}' is not a valid IP subnet.") from exc
    if network.version != ip_version:
        raise errors.InvalidInput(f"Cidr {cidr} does not match ip_version {ip_version}.")
    if network.num_addresses < (4 if ip_version == 4 else 2):
        raise errors.InvalidInput(f"Subnet {cidr} is too small to hold any host.")
    return network


def parse_address(text: Any, what: str = "ip_address") -> IpAddress:
    if not isinstance(text, str):
        raise errors.InvalidInput(f"'{text}' is not a valid IP address for {what}.")
    try:
        return ipaddress.ip_address(text)
    except ValueError as exc:
        raise errors.InvalidInput(f"'{text}' is not a valid IP address.") from exc


def hosts(network: IpNetwork) -> tuple[IpAddress, IpAddress]:
    """First and last usable host: IPv4 leaves out network and broadcast, IPv6 the subnet
    router anycast address (the network address)."""
    first = network.network_address + 1
    last = network.broadcast_address - (1 if network.version == 4 else 0)
    return first, last


def default_gateway(network: IpNetwork) -> str:
    return str(hosts(network)[0])


def default_pools(network: IpNetwork, gateway: str | None) -> list[dict[str, str]]:
    """The host range minus the gateway, as Neutron computes it."""
    first, last = hosts(network)
    if gateway is None:
        return [{"start": str(first), "end": str(last)}]
    gw = ipaddress.ip_address(gateway)
    pools = []
    if first < gw:
        pools.append({"start": str(first), "end": str(gw - 1)})
    if gw < last:
        pools.append({"start": str(gw + 1), "end": str(last)})
    if not (first <= gw <= last):
        pools = [{"start": str(first), "end": str(last)}]
    return pools


def check_gateway(network: IpNetwork, gateway: str) -> None:
    address = parse_address(gateway, "gateway_ip")
    if (
        address not in network
        or address == network.network_address
        or (network.version == 4 and address == network.broadcast_address)
    ):
        raise errors.InvalidInput(f"Gateway ip {gateway} conflicts with subnet {network}.")


def check_pools(network: IpNetwork, pools: list[dict[str, str]], gateway: str | None) -> None:
    """Pools lie inside the host range, start <= end, do not overlap and miss the gateway."""
    first, last = hosts(network)
    ranges = []
    for pool in pools:
        start, end = parse_address(pool.get("start")), parse_address(pool.get("end"))
        if start.version != network.version or end.version != network.version:
            raise errors.InvalidInput(f"Allocation pool {pool} is not of the subnet's version.")
        if not (first <= start <= end <= last):
            raise errors.InvalidInput(
                f"The allocation pool {start}-{end} spans beyond the subnet cidr {network}."
            )
        ranges.append((start, end))
    ranges.sort()
    for (_, end), (start, _) in itertools.pairwise(ranges):
        if start <= end:
            raise errors.InvalidInput("Found overlapping allocation pools.")
    if gateway is not None and in_pools(ipaddress.ip_address(gateway), pools):
        raise errors.InvalidInput(f"Gateway ip {gateway} conflicts with allocation pool {pools}.")


def in_pools(address: IpAddress, pools: list[dict[str, str]]) -> bool:
    return any(
        ipaddress.ip_address(p["start"]) <= address <= ipaddress.ip_address(p["end"]) for p in pools
    )


def overlapping(cidr: IpNetwork, others: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
    """The first (subnet_id, cidr) of `others` that overlaps `cidr`, if any."""
    for subnet_id, other in others:
        theirs = ipaddress.ip_network(other)
        if theirs.version == cidr.version and theirs.overlaps(cidr):
            return subnet_id, other
    return None


def candidates(pools: list[dict[str, str]], taken: set[str], limit: int = 8) -> Iterator[str]:
    """Free addresses of the pools, lowest first (Neutron hands them out in order); at most
    `limit`, so a caller that lost a race has others to try."""
    found = 0
    for pool in pools:
        address = ipaddress.ip_address(pool["start"])
        end = ipaddress.ip_address(pool["end"])
        while address <= end:
            if str(address) not in taken:
                yield str(address)
                found += 1
                if found >= limit:
                    return
            address += 1


def random_mac(prefix: str = "fa:16:3e") -> str:
    """A MAC address under OpenStack's base, fa:16:3e:xx:xx:xx."""
    tail = ":".join(f"{random.randint(0, 255):02x}" for _ in range(3))
    return f"{prefix}:{tail}"


def valid_mac(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    parts = text.split(":")
    if len(parts) != 6 or any(len(p) != 2 for p in parts):
        return False
    try:
        first = int(parts[0], 16)
        [int(p, 16) for p in parts]
    except ValueError:
        return False
    return not (first & 1) and text != "00:00:00:00:00:00"
