"""The ring: which devices hold each partition of the key space, and how that changes.

A key's partition is the top `part_power` bits of its first 32 hex bits (the manager's keys
start with an MD5 of the object's path, so partitions fill evenly). Each partition is held by
`replicas` devices, in distinct zones while there are enough zones. `rebalance` moves as few
partitions as it can: an assignment stays while its device lives and is not over its share
by weight; only the rest is handed to the devices furthest below theirs. The ring is a JSON
file in the state dir, written atomically; pure logic, no I/O but `load` and `save`.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Device:
    device_id: int
    node: str  # the storage node (process) that serves it
    name: str  # its directory name on that node
    zone: int
    weight: float


@dataclass
class Ring:
    part_power: int
    replicas: int
    devices: list[Device] = field(default_factory=list)
    parts: list[list[int]] = field(default_factory=list)  # partition -> device ids

    def partition(self, key: str) -> int:
        return int(key[:8], 16) >> (32 - self.part_power)

    def primaries(self, key: str) -> list[Device]:
        by_id = {d.device_id: d for d in self.devices}
        return [by_id[i] for i in self.parts[self.partition(key)] if i in by_id]

    def add(self, node: str, name: str, zone: int, weight: float) -> Device:
        device_id = max((d.device_id for d in self.devices), default=-1) + 1
        device = Device(device_id, node, name, zone, weight)
        self.devices.append(device)
        return device

    def remove(self, device_id: int) -> None:
        """Drop a device; its partitions move at the next rebalance."""
        if all(d.device_id != device_id for d in self.devices):
            raise KeyError(device_id)
        self.devices = [d for d in self.devices if d.device_id != device_id]

    def rebalance(self) -> int:
        """Reassign partitions; returns how many (partition, replica) assignments moved."""
        live = {d.device_id: d for d in self.devices if d.weight > 0}
        count = 1 << self.part_power
        wanted = min(self.replicas, len(live))
        share = _shares(live, count * wanted)
        old = self.parts if len(self.parts) == count else [[] for _ in range(count)]
        kept = [_valid(devs, live, wanted) for devs in old]
        held = Counter(i for devs in kept for i in devs)
        _shed(kept, held, share)
        moved = 0
        for devs in kept:
            while len(devs) < wanted:
                devs.append(_emptiest(live, held, share, devs))
                held[devs[-1]] += 1
                moved += 1
        self.parts = kept
        return moved


def _valid(devs: list[int], live: dict[int, Device], wanted: int) -> list[int]:
    """The assignments that may stay: live devices, one per zone, at most `wanted`."""
    keep: list[int] = []
    for i in devs:
        zones = {live[k].zone for k in keep}
        if i in live and i not in keep and live[i].zone not in zones and len(keep) < wanted:
            keep.append(i)
    return keep


def _shed(parts: list[list[int]], held: Counter[int], share: dict[int, int]) -> None:
    """Take replicas off devices over their share, one per partition and pass, so the freed
    places spread over many partitions (a new device can take one in each)."""
    changed = True
    while changed:
        changed = False
        for devs in parts:
            over = [i for i in devs if held[i] > share[i]]
            if over:
                devs.remove(over[0])
                held[over[0]] -= 1
                changed = True


def _shares(live: dict[int, Device], slots: int) -> dict[int, int]:
    total = sum(d.weight for d in live.values()) or 1.0
    return {i: math.ceil(slots * d.weight / total) for i, d in live.items()}


def _emptiest(
    live: dict[int, Device], held: dict[int, int], share: dict[int, int], devs: list[int]
) -> int:
    """The device furthest below its share, preferring a zone the partition lacks."""
    zones = {live[i].zone for i in devs}
    candidates = [i for i in live if i not in devs]
    return min(candidates, key=lambda i: (live[i].zone in zones, held[i] - share[i], i))


def load(path: Path) -> Ring:
    raw = json.loads(path.read_text())
    devices = [Device(**d) for d in raw["devices"]]
    return Ring(raw["part_power"], raw["replicas"], devices, raw["parts"])


def save(ring: Ring, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    body = {
        "part_power": ring.part_power,
        "replicas": ring.replicas,
        "devices": [asdict(d) for d in ring.devices],
        "parts": ring.parts,
    }
    tmp.write_text(json.dumps(body))
    os.replace(tmp, path)


def initial(part_power: int, replicas: int, nodes: int) -> Ring:
    """A ring of `nodes` nodes with one device each, each node its own zone."""
    ring = Ring(part_power, replicas)
    for index in range(nodes):
        ring.add(f"node{index + 1}", "d0", zone=index + 1, weight=100.0)
    ring.rebalance()
    return ring
