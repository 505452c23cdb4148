"""Command builders for busybox (package busybox-static)."""

from __future__ import annotations

from pathlib import Path

from onestack.oslib.process import Command


def list_applets(busybox: Path) -> Command:
    """Every applet with the path it installs to, e.g. `sbin/acpid`."""
    return Command((str(busybox), "--list-full"))
