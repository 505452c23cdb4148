"""`onestack object ring show|add|remove|rebalance` on a state dir's ring file."""

from __future__ import annotations

from pathlib import Path

import pytest

from onestack.cli import main
from onestack.object import ring as rings
from onestack.object.paths import ring_file


def test_add_rebalance_remove_and_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = ["--state-dir", str(tmp_path)]
    rings.save(rings.initial(6, 3, 3), ring_file(tmp_path))
    assert main(["object", "ring", "add", "node4", "--zone", "4", *state]) == 0
    assert main(["object", "ring", "rebalance", *state]) == 0
    grown = rings.load(ring_file(tmp_path))
    assert main(["object", "ring", "remove", "0", *state]) == 0
    assert main(["object", "ring", "rebalance", *state]) == 0
    assert main(["object", "ring", "remove", "9", *state]) == 1
    assert main(["object", "ring", "show", *state]) == 0
    shrunk = rings.load(ring_file(tmp_path))
    out = capsys.readouterr().out
    assert any(3 in devs for devs in grown.parts)
    assert all(0 not in devs and len(devs) == 3 for devs in shrunk.parts)
    assert "node4/d0 zone 4" in out and "partitions 64 (power 6), replicas 3" in out
