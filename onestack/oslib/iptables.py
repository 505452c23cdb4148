"""Command builders for iptables, always through `iptables-restore` (one atomic commit per
table, waiting for the xtables lock) in a namespace of ours, and only on chains we name.
`ruleset` renders the restore text; `chains` reads `iptables-save` output back."""

from __future__ import annotations

from collections.abc import Sequence

from onestack.oslib import netns as netns_cmd
from onestack.oslib.process import Command

WAIT_S = "10"  # seconds to wait for the xtables lock another tool holds


def restore(netns: str, text: str, *, noflush: bool = True) -> Command:
    """Apply `text` (see `ruleset`); with `noflush` only the chains it declares are reset."""
    flags = ("--noflush",) if noflush else ()
    argv = ("iptables-restore", "-w", WAIT_S, *flags)
    return netns_cmd.exec_in(netns, Command(argv, stdin=text.encode()))


def save(netns: str, table: str = "filter") -> Command:
    return netns_cmd.exec_in(netns, Command(("iptables-save", "-t", table)))


def ruleset(table: str, chains: Sequence[str], rules: Sequence[str],
            builtins: Sequence[str] = ()) -> str:  # fmt: skip
    """The restore text of one table: `builtins` keep policy ACCEPT, each chain in `chains` is
    created or emptied, then `rules` ("-A chain ...", "-X chain") are applied in order."""
    lines = [f"*{table}"]
    lines += [f":{name} ACCEPT [0:0]" for name in builtins]
    lines += [f":{name} - [0:0]" for name in chains]
    lines += [*rules, "COMMIT", ""]
    return "\n".join(lines)


def chains(saved: str) -> list[str]:
    """The user chains declared in `iptables-save` output."""
    return [line[1:].split()[0] for line in saved.splitlines()
            if line.startswith(":") and line.split()[1] == "-"]  # fmt: skip


def has_rule(saved: str, rule: str) -> bool:
    """Whether `rule` ("-A chain ...", as iptables-save prints it) is in `saved`."""
    return rule in saved.splitlines()
