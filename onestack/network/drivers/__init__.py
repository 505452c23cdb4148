"""The dataplane drivers, found by name here and nowhere else (`[network] dataplane`)."""

from __future__ import annotations

from onestack.network.drivers.base import (
    Dataplane,
    DataplaneError,
    DhcpHost,
    DhcpSpec,
    FloatingIp,
    RouterLeg,
    RouterSpec,
    SecurityRule,
    Segment,
    Subnet,
    Vif,
)
from onestack.network.drivers.linuxbridge import LinuxBridgeDataplane
from onestack.network.drivers.noop import NoopDataplane
from onestack.settings import NetworkSettings

__all__ = [
    "DRIVERS",
    "Dataplane",
    "DataplaneError",
    "DhcpHost",
    "DhcpSpec",
    "FloatingIp",
    "RouterLeg",
    "RouterSpec",
    "SecurityRule",
    "Segment",
    "Subnet",
    "Vif",
]

DRIVERS: dict[str, type[Dataplane]] = {"noop": NoopDataplane, "linuxbridge": LinuxBridgeDataplane}


def make_dataplane(settings: NetworkSettings) -> Dataplane:
    """The configured dataplane; an unknown name is a start-up error listing the known."""
    try:
        driver = DRIVERS[settings.dataplane]
    except KeyError:
        known = ", ".join(sorted(DRIVERS))
        raise SystemExit(
            f"Unknown network dataplane {settings.dataplane!r}; known: {known}."
        ) from None
    return driver.from_settings(settings)
