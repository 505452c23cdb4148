"""Security groups as iptables text for the dataplane namespace (pure: no host access).

Bridged frames cross FORWARD (br_netfilter), so one dispatch chain sends traffic leaving a
port (`--physdev-in`) to its out chain and traffic to a port (`--physdev-out`) to its in chain.
Allowed traffic RETURNs rather than ACCEPTs, so a frame between two ports on one bridge passes
the sender's egress and then the receiver's ingress; what a chain does not allow is dropped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from onestack.network.drivers.base import SecurityRule, Vif
from onestack.network.drivers.linuxbridge import names

PROTOCOL_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp"}


def port_rules(vif: Vif) -> tuple[list[str], list[str]]:
    """(chains, rules) for one port; a port without port security has no chains."""
    if not vif.port_security_enabled:
        return [], []
    chain_in, chain_out, chain_egress = names.sg_chains(vif.devname)
    rules = _ingress(chain_in, vif.security_rules)
    rules += _anti_spoofing(chain_out, chain_egress, vif)
    rules += _egress(chain_egress, vif.security_rules)
    return [chain_in, chain_out, chain_egress], rules


def dispatch(devnames: Iterable[str]) -> list[str]:
    """The dispatch chain's rules for every filtered port, egress first."""
    ordered = sorted(set(devnames))
    out = [f"-A {names.SG_DISPATCH} -m physdev --physdev-in {dev} --physdev-is-bridged "
           f"-j {names.sg_chains(dev)[1]}" for dev in ordered]  # fmt: skip
    into = [f"-A {names.SG_DISPATCH} -m physdev --physdev-out {dev} --physdev-is-bridged "
            f"-j {names.sg_chains(dev)[0]}" for dev in ordered]  # fmt: skip
    return out + into


def zones(bridges: dict[str, int]) -> list[str]:
    """One conntrack zone per bridge (its ifindex: unique in the namespace), so two networks
    with the same addresses never share a connection's state (raw table, before conntrack)."""
    return [f"-A {names.CT_ZONES} -i {bridge} -j CT --zone {index}"
            for bridge, index in sorted(bridges.items())]  # fmt: skip


def filtered_devices(chains: Iterable[str]) -> list[str]:
    """The devices that have chains, read back from the chain names."""
    return [chain[len(names.SG_IN) :] for chain in chains if chain.startswith(names.SG_IN)]


def _ingress(chain: str, rules: Sequence[SecurityRule]) -> list[str]:
    lines = [f"-A {chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
             f"-A {chain} -m conntrack --ctstate INVALID -j DROP",
             f"-A {chain} -p udp -m udp --sport 67 --dport 68 -j RETURN"]  # fmt: skip
    for rule in rules:
        if rule.direction == "ingress" and rule.ethertype == "IPv4":
            lines += [f"-A {chain}{match} -j RETURN" for match in _matches(rule, "-s")]
    return [*lines, f"-A {chain} -j DROP"]


def _anti_spoofing(chain: str, egress: str, vif: Vif) -> list[str]:
    """Only the port's MAC with its own addresses goes on (goto: their RETURN ends the
    port's egress, back in the dispatch chain) to the egress rules; a DHCP
    request (from 0.0.0.0) is let through first."""
    mac = vif.mac_address.lower()
    lines = [f"-A {chain} -s 0.0.0.0/32 -p udp -m udp --sport 68 --dport 67 "
             f"-m mac --mac-source {mac} -j RETURN"]  # fmt: skip
    for _subnet, ip in vif.fixed_ips:
        lines.append(f"-A {chain} -s {ip}/32 -m mac --mac-source {mac} -g {egress}")
    return [*lines, f"-A {chain} -j DROP"]


def _egress(chain: str, rules: Sequence[SecurityRule]) -> list[str]:
    lines = [f"-A {chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
             f"-A {chain} -m conntrack --ctstate INVALID -j DROP"]  # fmt: skip
    for rule in rules:
        if rule.direction == "egress" and rule.ethertype == "IPv4":
            lines += [f"-A {chain}{match} -j RETURN" for match in _matches(rule, "-d")]
    return [*lines, f"-A {chain} -j DROP"]


def _matches(rule: SecurityRule, remote_flag: str) -> list[str]:
    """One match text per remote prefix (one with no address match when from anywhere)."""
    proto = _protocol_match(rule)
    if rule.remote is None:
        return [proto]
    return [f" {remote_flag} {prefix}{proto}" for prefix in rule.remote]


def _protocol_match(rule: SecurityRule) -> str:
    if rule.protocol in (None, "any", "0"):
        return ""
    proto = PROTOCOL_NUMBERS.get(rule.protocol, rule.protocol)
    text = f" -p {proto}"
    if proto in ("tcp", "udp") and rule.port_range_min is not None:
        high = rule.port_range_max or rule.port_range_min
        ports = (
            str(rule.port_range_min)
            if high == rule.port_range_min
            else f"{rule.port_range_min}:{high}"
        )
        text += f" -m {proto} --dport {ports}"
    elif proto == "icmp" and rule.port_range_min is not None:
        code = f"/{rule.port_range_max}" if rule.port_range_max is not None else ""
        text += f" -m icmp --icmp-type {rule.port_range_min}{code}"
    return text
