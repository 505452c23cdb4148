"""Per-project compute quotas over unified limits, with Nova's unified-limit resource names.

    servers            instances a project has (deleted ones not counted)
    class:VCPU         their vcpus
    class:MEMORY_MB    their RAM in MiB
    server_key_pairs   a user's keypairs (reported; counted per user as Nova does)

Limits come from identity through `common.quota.Quotas`; usage is counted from compute's own
tables. Without a limit source nothing is enforced.
"""

from __future__ import annotations

from sqlalchemy import select

from onestack.common.db import Database
from onestack.common.quota import UNLIMITED, OverQuota, Quotas
from onestack.compute.models import Flavor, Server

SERVICE = "compute"
SERVERS, CORES, RAM, KEYPAIRS = "servers", "class:VCPU", "class:MEMORY_MB", "server_key_pairs"
# How Nova's 403 names each resource.
WORDS = {SERVERS: "instances", CORES: "cores", RAM: "ram", KEYPAIRS: "key_pairs"}


class ComputeQuotas:
    def __init__(self, db: Database, quotas: Quotas | None) -> None:
        self.db = db
        self.quotas = quotas

    def claim(self, project_id: str, flavor: Flavor, count: int) -> None:
        """OverQuota when `count` more servers of `flavor` would pass a limit."""
        if self.quotas is None:
            return
        deltas = {SERVERS: count, CORES: flavor.vcpus * count, RAM: flavor.memory_mb * count}
        self.quotas.enforce(project_id, SERVICE, deltas, self.usage)

    def usage(self, project_id: str, names: list[str]) -> dict[str, int]:
        with self.db.reader() as session:
            flavors = list(
                session.scalars(
                    select(Server.flavor).where(
                        Server.project_id == project_id, Server.deleted.is_(False)
                    )
                )
            )
        return {
            SERVERS: len(flavors),
            CORES: sum(int(f.get("vcpus", 0)) for f in flavors),
            RAM: sum(int(f.get("memory_mb", 0)) for f in flavors),
        }

    def limits(self, project_id: str) -> dict[str, int]:
        names = [SERVERS, CORES, RAM, KEYPAIRS]
        if self.quotas is None:
            return dict.fromkeys(names, UNLIMITED)
        return self.quotas.limits(project_id, SERVICE, names)

    @staticmethod
    def message(exc: OverQuota) -> str:
        """Nova's words: "Quota exceeded for cores: Requested 4, but already used 20 of 20
        cores"."""
        word = WORDS.get(exc.resource, exc.resource)
        return (
            f"Quota exceeded for {word}: Requested {exc.requested}, but already used "
            f"{exc.usage} of {exc.limit} {word}"
        )
