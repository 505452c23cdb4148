"""Command builders for network namespaces (`ip netns`): list, pids, run inside (creating and
deleting one are `iproute.netns_add` / `netns_delete`). Only namespaces onestack owns are
ever named here."""

from __future__ import annotations

from onestack.oslib.process import Command


def list_all() -> Command:
    """One namespace a line, its name first (`name (id: N)`)."""
    return Command(("ip", "netns", "list"))


def pids(name: str) -> Command:
    """The pids of every process inside `name`, one a line."""
    return Command(("ip", "netns", "pids", name))


def exec_in(name: str, command: Command) -> Command:
    """`command` run inside namespace `name` (the same command when `name` is "")."""
    if not name:
        return command
    return Command(("ip", "netns", "exec", name, *command.argv), command.env, command.stdin)


def sysctl(name: str, key: str, value: str) -> Command:
    """Set a sysctl of the namespace, e.g. `net.ipv4.ip_forward` = 1 in a router."""
    return exec_in(name, Command(("sysctl", "-qw", f"{key}={value}")))


def parse_names(listing: str) -> list[str]:
    """The names in the output of `list_all`."""
    return [line.split()[0] for line in listing.splitlines() if line.strip()]
