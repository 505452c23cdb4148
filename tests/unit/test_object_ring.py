"""The object ring: every partition on distinct zones, shares by weight, and few moves."""

from __future__ import annotations

from collections import Counter

from onestack.object import ring as rings


def held(ring: rings.Ring) -> Counter[int]:
    return Counter(i for devs in ring.parts for i in devs)


def test_each_partition_has_its_replicas_in_distinct_zones() -> None:
    ring = rings.initial(part_power=6, replicas=3, nodes=3)
    zones = {d.device_id: d.zone for d in ring.devices}
    assert all(len({zones[i] for i in devs}) == 3 for devs in ring.parts)
    assert len(ring.parts) == 64


def test_fewer_devices_than_replicas_gives_each_partition_every_device() -> None:
    ring = rings.initial(part_power=4, replicas=3, nodes=1)
    assert all(devs == [0] for devs in ring.parts)


def test_an_added_device_takes_its_share_and_little_else_moves() -> None:
    ring = rings.initial(part_power=8, replicas=3, nodes=3)
    before = [list(devs) for devs in ring.parts]
    ring.add("node4", "d0", zone=4, weight=100.0)
    moved = ring.rebalance()
    assert 3 * 256 / 4 - 8 <= held(ring)[3] <= 3 * 256 / 4 + 8
    assert moved <= held(ring)[3] + 8
    kept = sum(len(set(a) & set(b)) for a, b in zip(before, ring.parts, strict=True))
    assert kept >= 3 * 256 - moved


def test_a_removed_device_drains() -> None:
    ring = rings.initial(part_power=6, replicas=2, nodes=3)
    ring.remove(1)
    ring.rebalance()
    assert 1 not in held(ring) and all(len(devs) == 2 for devs in ring.parts)


def test_the_ring_file_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ring = rings.initial(part_power=4, replicas=2, nodes=2)
    rings.save(ring, tmp_path / "ring.json")
    again = rings.load(tmp_path / "ring.json")
    assert again.parts == ring.parts and again.devices == ring.devices
    assert again.partition("ffffffff" + "0" * 24) == 15
