"""Compute hosts: the os-services row and the compute node (hypervisor) an agent registers at
its start, and their resource provider in placement."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from onestack.compute import errors
from onestack.compute.manager.base import ComputeBase, now
from onestack.compute.models import ComputeNode, ComputeService, Server

# Nova's default allocation ratios and reserved host memory.
RATIOS = {"VCPU": 16.0, "MEMORY_MB": 1.5, "DISK_GB": 1.0}
RESERVED = {"VCPU": 0, "MEMORY_MB": 512, "DISK_GB": 0}
BINARY = "nova-compute"


def node_uuid(host: str, hypervisor_type: str) -> str:
    """Stable across restarts, so a returning agent finds its node and provider again."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"onestack-compute-node:{host}:{hypervisor_type}"))


def inventories(vcpus: int, memory_mb: int, disk_gb: int) -> dict[str, dict]:
    totals = {"VCPU": vcpus, "MEMORY_MB": memory_mb, "DISK_GB": disk_gb}
    return {
        rc: {
            "total": total,
            "reserved": min(RESERVED[rc], max(total - 1, 0)),
            "allocation_ratio": RATIOS[rc],
            "min_unit": 1,
            "max_unit": total,
            "step_size": 1,
        }
        for rc, total in totals.items()
    }


class NodeManager(ComputeBase):
    def register(
        self,
        host: str,
        hypervisor_type: str,
        vcpus: int,
        memory_mb: int,
        disk_gb: int,
        nodename: str | None = None,
    ) -> ComputeNode:
        """Record (or refresh) this host's service and node, and its placement provider.
        `nodename` (default: the host) names the node and its provider, which placement
        wants unique: a host with several drivers names each node apart."""
        nodename = nodename or host
        node_id = node_uuid(host, hypervisor_type)
        moment = now()
        with self.writing() as session:
            service = session.scalar(select(ComputeService).where(ComputeService.host == host))
            if service is None:
                session.add(
                    ComputeService(
                        uuid=str(uuid.uuid4()),
                        host=host,
                        binary=BINARY,
                        zone=self.settings.availability_zone,
                        disabled=False,
                        created_at=moment,
                        updated_at=moment,
                    )
                )
            else:
                service.updated_at = moment
            node = session.scalar(select(ComputeNode).where(ComputeNode.uuid == node_id))
            if node is None:
                node = ComputeNode(uuid=node_id, host=host, created_at=moment)
                session.add(node)
            node.hypervisor_hostname = nodename
            node.hypervisor_type = hypervisor_type
            node.vcpus, node.memory_mb, node.disk_gb = vcpus, memory_mb, disk_gb
            node.updated_at = moment
        self.deps.placement.ensure_provider(
            node_id, nodename, inventories(vcpus, memory_mb, disk_gb)
        )
        return node

    def heartbeat(self, host: str) -> None:
        with self.writing() as session:
            service = session.scalar(select(ComputeService).where(ComputeService.host == host))
            if service is not None:
                service.updated_at = now()

    def nodes(self) -> list[ComputeNode]:
        with self.db.reader() as session:
            return list(session.scalars(select(ComputeNode).order_by(ComputeNode.node_id)))

    def node(self, hypervisor_id: str) -> ComputeNode:
        with self.db.reader() as session:
            column = ComputeNode.node_id if hypervisor_id.isdigit() else ComputeNode.uuid
            value: int | str = int(hypervisor_id) if hypervisor_id.isdigit() else hypervisor_id
            found = session.scalar(select(ComputeNode).where(column == value))
        if found is None:
            raise errors.HypervisorNotFound(hypervisor_id)
        return found

    def services(self) -> list[ComputeService]:
        with self.db.reader() as session:
            return list(session.scalars(select(ComputeService).order_by(ComputeService.service_id)))

    def usage(self, node: ComputeNode) -> dict[str, int]:
        """What the node's live servers take: vcpus, memory_mb, disk_gb, running_vms."""
        with self.db.reader() as session:
            flavors = list(
                session.scalars(
                    select(Server.flavor).where(
                        Server.node_uuid == node.uuid, Server.deleted.is_(False)
                    )
                )
            )
        return {
            "vcpus": sum(int(f["vcpus"]) for f in flavors),
            "memory_mb": sum(int(f["memory_mb"]) for f in flavors),
            "disk_gb": sum(int(f["root_gb"]) + int(f.get("ephemeral_gb", 0)) for f in flavors),
            "running_vms": len(flavors),
        }

    def servers_on(self, node: ComputeNode) -> list[Server]:
        with self.db.reader() as session:
            query = select(Server).where(Server.node_uuid == node.uuid, Server.deleted.is_(False))
            return list(session.scalars(query))

    def count(self) -> int:
        with self.db.reader() as session:
            return session.scalar(select(func.count()).select_from(ComputeNode)) or 0
