"""Where the object store's files are under the state dir: the ring, each node's devices and
each running node's address record."""

from __future__ import annotations

from pathlib import Path


def ring_file(state_dir: Path) -> Path:
    return state_dir / "object" / "ring.json"


def node_root(state_dir: Path, node: str) -> Path:
    return state_dir / "object" / "nodes" / node


def address_file(state_dir: Path, node: str) -> Path:
    return state_dir / "run" / "object-nodes" / f"{node}.json"
