"""Subnet address arithmetic: default gateway and pools, pool checks, overlap, candidates."""

from __future__ import annotations

import ipaddress

import pytest

from onestack.network import errors
from onestack.network.manager import ipam


def test_default_pools_leave_out_network_gateway_and_broadcast() -> None:
    network = ipam.parse_cidr("10.0.0.0/26", 4)
    gateway = ipam.default_gateway(network)
    assert gateway == "10.0.0.1"
    assert ipam.default_pools(network, gateway) == [{"start": "10.0.0.2", "end": "10.0.0.62"}]


def test_a_gateway_inside_the_range_splits_the_pool() -> None:
    network = ipam.parse_cidr("192.168.1.0/24", 4)
    assert ipam.default_pools(network, "192.168.1.100") == [
        {"start": "192.168.1.1", "end": "192.168.1.99"},
        {"start": "192.168.1.101", "end": "192.168.1.254"},
    ]


def test_no_gateway_gives_the_whole_host_range() -> None:
    network = ipam.parse_cidr("172.24.4.0/24", 4)
    assert ipam.default_pools(network, None) == [{"start": "172.24.4.1", "end": "172.24.4.254"}]


def test_ipv6_pools_keep_the_last_address() -> None:
    network = ipam.parse_cidr("fd00::/126", 6)
    assert ipam.default_pools(network, "fd00::1") == [{"start": "fd00::2", "end": "fd00::3"}]


@pytest.mark.parametrize(
    ("cidr", "version"),
    [("10.0.0.1/24", 4), ("10.0.0.0/24", 6), ("10.0.0.0/31", 4), ("not-a-cidr", 4)],
)
def test_bad_cidrs_are_invalid_input(cidr: str, version: int) -> None:
    with pytest.raises(errors.InvalidInput):
        ipam.parse_cidr(cidr, version)


@pytest.mark.parametrize(
    "pools",
    [
        [{"start": "10.0.0.10", "end": "10.0.0.5"}],  # start after end
        [{"start": "10.0.0.0", "end": "10.0.0.5"}],  # the network address
        [{"start": "10.0.0.2", "end": "10.0.0.9"}, {"start": "10.0.0.9", "end": "10.0.0.20"}],
        [{"start": "10.0.0.1", "end": "10.0.0.9"}],  # holds the gateway
        [{"start": "10.0.1.2", "end": "10.0.1.9"}],  # outside the subnet
    ],
)
def test_bad_pools_are_invalid_input(pools: list[dict[str, str]]) -> None:
    with pytest.raises(errors.InvalidInput):
        ipam.check_pools(ipam.parse_cidr("10.0.0.0/24", 4), pools, "10.0.0.1")


def test_overlap_is_found_only_within_one_ip_version() -> None:
    cidr = ipaddress.ip_network("10.0.0.0/24")
    others = [("a", "fd00::/64"), ("b", "10.0.1.0/24"), ("c", "10.0.0.128/25")]
    assert ipam.overlapping(cidr, others) == ("c", "10.0.0.128/25")
    assert ipam.overlapping(cidr, others[:2]) is None


def test_candidates_skip_what_is_taken_in_order() -> None:
    pools = [{"start": "10.0.0.2", "end": "10.0.0.4"}, {"start": "10.0.0.10", "end": "10.0.0.11"}]
    taken = {"10.0.0.2", "10.0.0.4"}
    assert list(ipam.candidates(pools, taken)) == ["10.0.0.3", "10.0.0.10", "10.0.0.11"]
    assert list(ipam.candidates(pools, taken, limit=1)) == ["10.0.0.3"]


def test_macs_are_under_the_openstack_prefix_and_unicast() -> None:
    mac = ipam.random_mac()
    assert mac.startswith("fa:16:3e:") and ipam.valid_mac(mac)
    assert not ipam.valid_mac("01:00:5e:00:00:01")  # multicast
    assert not ipam.valid_mac("fa:16:3e:zz:00:01")
