"""Kernel module lookups with kmod's `modprobe` against a kernel that need not be running."""

from __future__ import annotations

from onestack.oslib.process import Command


def show_depends(kernel_version: str, module: str) -> Command:
    """The insmod lines that would load `module` and its (soft) dependencies, in order."""
    return Command(("modprobe", "-S", kernel_version, "--show-depends", module))


def parse_show_depends(output: str) -> list[str]:
    """Module file paths from `show_depends` output, in load order; built-ins are skipped."""
    paths = []
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "insmod":
            paths.append(words[1])
    return paths


def load(module: str) -> Command:
    """Load `module` into the running kernel (nothing happens when it is there or built in)."""
    return Command(("modprobe", module))
