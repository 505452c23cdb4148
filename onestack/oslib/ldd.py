"""The shared libraries a dynamically linked program needs, from `ldd`."""

from __future__ import annotations

from pathlib import Path

from onestack.oslib.process import Command


def ldd(program: Path) -> Command:
    return Command(("ldd", str(program)))


def parse_ldd(output: str) -> list[str]:
    """Absolute library paths (the loader included) named in `ldd` output, in order."""
    libraries = []
    for line in output.split("\n"):
        words = line.split()
        if "=>" in words:
            target = words[words.index("=>") + 1]
            if target.startswith("/"):
                libraries.append(target)
        elif words and words[0].startswith("/"):
            libraries.append(words[0])
    return libraries
