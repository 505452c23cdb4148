"""Runs a built command, to completion (a failing tool becomes one `CommandFailed` error, raised
here) or in the background (`start`, for long work the caller stops and reaps)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Command:
    """An argument list plus the environment variables it needs on top of ours."""

    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    stdin: bytes | None = None


class CommandFailed(Exception):
    """A host command exited non-zero or could not be started."""

    def __init__(self, argv: tuple[str, ...], message: str) -> None:
        super().__init__(f"{argv[0]} failed: {message}")
        self.argv = argv


def run(command: Command, cwd: Path | None = None) -> str:
    """Run `command` to completion and return its standard output (as text)."""
    env = {**os.environ, "LC_ALL": "C", "PATH": _with_sbin(os.environ.get("PATH", "")),
           **command.env}  # fmt: skip
    try:
        result = subprocess.run(
            command.argv,
            input=command.stdin,
            capture_output=True,
            env=env,
            cwd=cwd,
            check=True,
        )
    except FileNotFoundError as exc:
        raise CommandFailed(command.argv, f"not installed ({exc.filename})") from exc
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace").strip() or f"exit status {exc.returncode}"
        raise CommandFailed(command.argv, detail) from exc
    return result.stdout.decode(errors="replace")


# A command started in the background; its owner terminates and waits for it.
Child = subprocess.Popen[bytes]


def start(command: Command) -> Child:
    """Start `command` with our environment (plus its own) and return at once."""
    try:
        return subprocess.Popen(command.argv, env={**os.environ, **command.env})
    except FileNotFoundError as exc:
        raise CommandFailed(command.argv, f"not installed ({exc.filename})") from exc


def _with_sbin(path: str) -> str:
    """mke2fs, debugfs and modprobe live in sbin, which a user's PATH may lack."""
    parts = path.split(os.pathsep) if path else ["/usr/local/bin", "/usr/bin", "/bin"]
    return os.pathsep.join(parts + [d for d in ("/usr/sbin", "/sbin") if d not in parts])


def spawn_detached(command: Command, log: Path) -> None:
    """Start `command` as a daemon (`setsid -f`: a new session, forked again so it is not our
    child), its output appended to `log`. It outlives us; its owner finds it by its pid file."""
    env = {**os.environ, "PATH": _with_sbin(os.environ.get("PATH", "")), **command.env}
    argv = ("setsid", "-f", *command.argv)
    with open(log, "ab") as out:
        try:
            subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                           check=True)  # fmt: skip
        except FileNotFoundError as exc:
            raise CommandFailed(argv, f"not installed ({exc.filename})") from exc
        except subprocess.CalledProcessError as exc:
            raise CommandFailed(argv, f"exit status {exc.returncode}; see {log}") from exc


def python_module(module: str, *args: str) -> Command:
    """Our own Python, running one of onestack's modules (a small daemon such as a proxy)."""
    return Command((sys.executable, "-m", module, *args))
