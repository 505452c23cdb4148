"""The dataplane contract (onestack/network/drivers/base.py), run over every entry of
DRIVERS: every method is idempotent, and removing what is absent is not an error. A driver
that needs the host (linuxbridge) adds its own host test; this suite holds for all (for
linuxbridge only as root, on a host where no cloud's dataplane runs, cleaned up after)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from onestack.network.drivers import DRIVERS, Dataplane, RouterSpec, Segment, Vif, make_dataplane
from onestack.settings import NetworkSettings

SEGMENT = Segment("net-1", "vxlan", None, 42, 1450)
VIF = Vif(
    port_id="port-1",
    segment=SEGMENT,
    mac_address="fa:16:3e:00:00:01",
    fixed_ips=(("subnet-1", "10.0.0.5"),),
    device_owner="compute:nova",
    devname="tapport-1",
    bridge_name="brqnet-1",
)
ROUTER = RouterSpec("router-1", ("172.24.4.2",), True, (("port-2", "10.0.0.0/26", "10.0.0.1"),))


HOST_TOOLS = ("ip", "iptables-restore", "dnsmasq")


@pytest.fixture(params=list(DRIVERS))
def dataplane(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Dataplane]:
    driver = make_dataplane(NetworkSettings(dataplane=request.param, dataplane_dir=tmp_path))
    if not driver.carries_traffic:
        yield driver
        return
    _skip_unless_host_is_free()
    try:
        yield driver
    finally:
        driver.host_clean()
        assert not any(driver.host_inventory().values())


def _skip_unless_host_is_free() -> None:
    if os.geteuid() != 0:
        pytest.skip("a dataplane that carries traffic needs root")
    if any(shutil.which(tool) is None for tool in HOST_TOOLS):
        pytest.skip(f"a dataplane that carries traffic needs {HOST_TOOLS}")
    if Path("/run/netns/onestack-dataplane").exists():
        pytest.skip("a cloud's dataplane runs on this host; not touching it")


def test_the_map_builds_its_own_driver(dataplane: Dataplane) -> None:
    assert DRIVERS[dataplane.name] is type(dataplane)


def test_ensure_and_plug_twice_change_nothing_more(dataplane: Dataplane) -> None:
    for _ in range(2):
        dataplane.ensure_segment(SEGMENT)
        dataplane.plug(VIF)
        dataplane.ensure_router(ROUTER)


def test_removing_twice_or_what_never_was_is_no_error(dataplane: Dataplane) -> None:
    dataplane.plug(VIF)
    for _ in range(2):
        dataplane.unplug(VIF.port_id)
        dataplane.remove_router(ROUTER.router_id)
        dataplane.remove_segment(SEGMENT.network_id)


def test_an_unknown_driver_stops_the_start_naming_the_known_ones() -> None:
    with pytest.raises(SystemExit, match="noop"):
        make_dataplane(NetworkSettings(dataplane="nope"))
