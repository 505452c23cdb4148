"""The host's routes read from /proc/net/route, and the start-up check that refuses a public
range overlapping one of them."""

from __future__ import annotations

import ipaddress

import pytest

from onestack.network.manager.bootstrap import PublicRangeOverlapsHost, check_public_range
from onestack.oslib.routes import parse_proc_route

PROC_ROUTE = """\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
"""


def test_proc_route_is_read_as_networks() -> None:
    routes = [(r.interface, str(r.destination)) for r in parse_proc_route(PROC_ROUTE)]
    assert routes == [
        ("eth0", "0.0.0.0/0"),
        ("eth0", "192.168.0.0/24"),
        ("docker0", "172.17.0.0/16"),
    ]


def _routes() -> list[tuple[str, ipaddress.IPv4Network]]:
    return [(r.interface, r.destination) for r in parse_proc_route(PROC_ROUTE)]


def test_a_range_clear_of_the_hosts_routes_is_accepted() -> None:
    check_public_range("172.24.4.0/24", _routes())  # the default route does not count


@pytest.mark.parametrize("cidr", ["192.168.0.128/25", "172.16.0.0/12"])
def test_an_overlapping_range_is_refused_with_the_route_named(cidr: str) -> None:
    with pytest.raises(PublicRangeOverlapsHost, match="public_cidr"):
        check_public_range(cidr, _routes())


def test_the_clouds_own_bridge_route_does_not_count() -> None:
    own = [("brqabc", ipaddress.IPv4Network("172.24.4.0/24"))]
    check_public_range("172.24.4.0/24", own)
