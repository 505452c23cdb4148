"""Command builders and files for dnsmasq as a DHCP-only server (DNS off) in a namespace:
static leases from a hosts file and options from an options file, both re-read on SIGHUP."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from onestack.oslib import netns as netns_cmd
from onestack.oslib.process import Command

LEASE = "24h"


@dataclass(frozen=True)
class Files:
    """The files of one dnsmasq, all under one directory of ours."""

    directory: Path

    @property
    def pid(self) -> Path:
        return self.directory / "dnsmasq.pid"

    @property
    def hosts(self) -> Path:
        return self.directory / "hosts"

    @property
    def opts(self) -> Path:
        return self.directory / "opts"

    @property
    def leases(self) -> Path:
        return self.directory / "leases"

    @property
    def log(self) -> Path:
        return self.directory / "dnsmasq.log"


def start(netns: str, interface: str, cidrs: Iterable[str], files: Files) -> Command:
    """A daemonizing dnsmasq on `interface` that answers only the hosts file's entries
    (`static` ranges), without a ping check, tagging each subnet `s<index>` for the options."""
    ranges = []
    for index, cidr in enumerate(cidrs):
        net = ipaddress.ip_network(cidr)
        ranges.append(f"--dhcp-range=set:s{index},{net.network_address},static,"
                      f"{net.netmask},{LEASE}")  # fmt: skip
    argv = ("dnsmasq", "--conf-file=/dev/null", "--user=root", "--group=root",
            f"--pid-file={files.pid}", f"--interface={interface}", "--bind-interfaces",
            "--except-interface=lo", "--port=0", "--dhcp-authoritative", "--no-ping",
            "--no-hosts", "--no-resolv", *ranges, f"--dhcp-hostsfile={files.hosts}",
            f"--dhcp-optsfile={files.opts}", f"--dhcp-leasefile={files.leases}",
            "--log-dhcp", f"--log-facility={files.log}")  # fmt: skip
    return netns_cmd.exec_in(netns, Command(argv))


def hosts_text(hosts: Iterable[tuple[str, str, str]]) -> str:
    """The hosts file: `mac,ip,hostname` a line, for (mac, ip, hostname) entries."""
    return "".join(f"{mac},{ip},{name}\n" for mac, ip, name in hosts)


def opts_text(tag: str, gateway: str | None, mtu: int, dns: Iterable[str],
              routes: Iterable[tuple[str, str]] = ()) -> str:  # fmt: skip
    """The options of one subnet (tag from `start`): router, MTU, DNS servers, and classless
    static routes (destination, next hop); with routes the default route is among them, as
    a client that takes option 121 ignores option 3."""
    lines = [f"tag:{tag},option:router,{gateway}"] if gateway else [f"tag:{tag},option:router"]
    lines.append(f"tag:{tag},option:mtu,{mtu}")
    servers = ",".join(dns)
    if servers:
        lines.append(f"tag:{tag},option:dns-server,{servers}")
    pairs = [*routes, *([("0.0.0.0/0", gateway)] if gateway and routes else [])]
    if pairs:
        flat = ",".join(f"{dest},{hop}" for dest, hop in pairs)
        lines.append(f"tag:{tag},option:classless-static-route,{flat}")
    return "".join(line + "\n" for line in lines)
