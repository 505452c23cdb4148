"""Resource classes: the standard ones (in code, as placement's os-resource-classes) and
the operator's CUSTOM_* ones (rows)."""

from __future__ import annotations

import re

from sqlalchemy import select

from onestack.placement import errors
from onestack.placement.manager.base import PlacementBase
from onestack.placement.models import Allocation, CustomClass, Inventory

STANDARD = (
    "VCPU",
    "MEMORY_MB",
    "DISK_GB",
    "PCI_DEVICE",
    "SRIOV_NET_VF",
    "NUMA_SOCKET",
    "NUMA_CORE",
    "NUMA_THREAD",
    "NUMA_MEMORY_MB",
    "IPV4_ADDRESS",
    "VGPU",
    "VGPU_DISPLAY_HEAD",
    "NET_BW_EGR_KILOBIT_PER_SEC",
    "NET_BW_IGR_KILOBIT_PER_SEC",
    "PCPU",
    "MEM_ENCRYPTION_CONTEXT",
    "FPGA",
    "PGPU",
    "NET_PACKET_RATE_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
)
CUSTOM_NAME = re.compile(r"^CUSTOM_[A-Z0-9_]+$")


def is_custom_name(name: str) -> bool:
    return len(name) <= 255 and CUSTOM_NAME.match(name) is not None


class ResourceClasses(PlacementBase):
    """List, show, create and delete resource classes; standard ones are read-only."""

    def list(self) -> list[str]:
        with self.db.reader() as session:
            custom = session.scalars(select(CustomClass.name).order_by(CustomClass.name))
            return [*STANDARD, *custom]

    def exists(self, name: str) -> bool:
        if name in STANDARD:
            return True
        with self.db.reader() as session:
            return session.get(CustomClass, name) is not None

    def get(self, name: str) -> str:
        if not self.exists(name):
            raise errors.ResourceClassNotFound(name)
        return name

    def create(self, name: str) -> None:
        """A new CUSTOM_* class; 409 when it exists."""
        self._check_custom(name)
        if self.exists(name):
            raise errors.ResourceClassExists(name)
        with self.writing(errors.ResourceClassExists(name)) as session:
            session.add(CustomClass(name=name))

    def ensure(self, name: str) -> bool:
        """Create CUSTOM_* class `name` unless it exists; True when it was created."""
        self._check_custom(name)
        if self.exists(name):
            return False
        try:
            self.create(name)
        except errors.ResourceClassExists:
            return False
        return True

    def delete(self, name: str) -> None:
        if name in STANDARD:
            raise errors.StandardClassReadOnly(name)
        with self.writing() as session:
            row = session.get(CustomClass, name)
            if row is None:
                raise errors.ResourceClassNotFound(name)
            for table in (Inventory, Allocation):
                used = session.scalar(
                    select(table.resource_class).where(table.resource_class == name).limit(1)
                )
                if used is not None:
                    raise errors.ResourceClassInUse(name)
            session.delete(row)

    @staticmethod
    def _check_custom(name: str) -> None:
        if not is_custom_name(name):
            raise errors.InvalidRequest(
                f"Failed validating 'pattern': '{name}' does not match '^CUSTOM_[A-Z0-9_]+$'"
            )
