"""Where a server goes: placement's candidates that fit the flavor, filtered by the image's
`hypervisor_type` against each node's driver (the fake stands in for any), then an atomic
claim (the next candidate when a concurrent build took the room first). None fits:
NoValidHost, the server's fault."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onestack.common.db import Database
from onestack.compute.manager.peers import PlacementPeer
from onestack.compute.models import ComputeNode

NO_VALID_HOST = "No valid host was found. "


class NoValidHost(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(NO_VALID_HOST + reason)


def resources(flavor: dict[str, Any]) -> dict[str, int]:
    disk = int(flavor["root_gb"]) + int(flavor.get("ephemeral_gb", 0))
    wanted = {"VCPU": int(flavor["vcpus"]), "MEMORY_MB": int(flavor["memory_mb"])}
    if disk:
        wanted["DISK_GB"] = disk
    return wanted


# The fake driver runs nothing for real, so it stands in for every hypervisor: a cloud on it
# (API tests, a laptop without QEMU) still boots the guest images marked qemu or container.
STANDS_IN_FOR_ANY = "fake"


def _runs(node: ComputeNode, wanted_type: str) -> bool:
    node_type = node.hypervisor_type.lower()
    return not wanted_type or node_type in (wanted_type, STANDS_IN_FOR_ANY)


class Scheduler:
    def __init__(self, db: Database, placement: PlacementPeer) -> None:
        self.db = db
        self.placement = placement

    def place(
        self,
        server_id: str,
        flavor: dict[str, Any],
        image_properties: dict[str, str],
        project_id: str,
        user_id: str,
        host: str,
    ) -> ComputeNode:
        """Claim room for the server on a node of `host` (the agent's own: routing a build
        to another host's agent comes with multi-host)."""
        wanted = resources(flavor)
        candidates = self.placement.candidates(wanted)
        nodes = self._nodes(candidates, host)
        wanted_type = (image_properties.get("hypervisor_type") or "").lower()
        fitting = [n for n in nodes if _runs(n, wanted_type)]
        if not fitting:
            reason = (
                "There are not enough hosts available."
                if not nodes
                else (f"No host runs hypervisor_type {wanted_type}.")
            )
            raise NoValidHost(reason)
        for node in fitting:
            if self.placement.claim(server_id, node.uuid, wanted, project_id, user_id):
                return node
        raise NoValidHost("There are not enough hosts available.")

    def _nodes(self, candidates: list[str], host: str) -> list[ComputeNode]:
        with self.db.reader() as session:
            rows = session.scalars(select(ComputeNode).where(ComputeNode.host == host))
            by_uuid = {row.uuid: row for row in rows}
        return [by_uuid[uuid] for uuid in candidates if uuid in by_uuid]
