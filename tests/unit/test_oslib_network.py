"""The network command builders (ip netns, ip link/addr/route, iptables-restore, dnsmasq),
checked as data: given these arguments, expect these commands and files."""

from pathlib import Path

import pytest

from onestack.oslib import dnsmasq, iproute, iptables, kmod, netns
from onestack.oslib.process import Command


def test_exec_in_wraps_the_command_and_keeps_its_input() -> None:
    inner = Command(("iptables-restore",), {"A": "1"}, b"*filter\n")

    command = netns.exec_in("onestack-x", inner)

    assert command.argv == ("ip", "netns", "exec", "onestack-x", "iptables-restore")
    assert (command.env, command.stdin) == ({"A": "1"}, b"*filter\n")


def test_exec_in_the_host_namespace_is_the_command_itself() -> None:
    inner = Command(("true",))

    assert netns.exec_in("", inner) is inner


def test_netns_names_are_parsed_from_the_listing() -> None:
    listing = "onestack-dhcp-n1 (id: 3)\nonestack-dataplane (id: 0)\n\n"

    assert netns.parse_names(listing) == ["onestack-dhcp-n1", "onestack-dataplane"]


def test_sysctl_runs_inside_the_namespace() -> None:
    command = netns.sysctl("r1", "net.ipv4.ip_forward", "1")

    assert command.argv == ("ip", "netns", "exec", "r1", "sysctl", "-qw", "net.ipv4.ip_forward=1")


def test_bridge_is_made_in_the_namespace_without_forward_delay() -> None:
    command = iproute.bridge_add("brqabc", "dp")

    assert command.argv == ("ip", "-n", "dp", "link", "add", "name", "brqabc", "type", "bridge",
                            "forward_delay", "0")  # fmt: skip


def test_vxlan_has_no_learning_and_no_peer() -> None:
    argv = iproute.vxlan_add("vxlan-7", 7, "dp").argv

    assert argv[argv.index("id") + 1] == "7"
    assert "nolearning" in argv
    assert "remote" not in argv and "group" not in argv


def test_veth_peer_goes_to_the_other_namespace() -> None:
    command = iproute.veth_add("dhpabc", "ns-abc", "onestack-dhcp-abc", "dp")

    assert command.argv == ("ip", "-n", "dp", "link", "add", "dev", "dhpabc", "type", "veth",
                            "peer", "name", "ns-abc", "netns", "onestack-dhcp-abc")  # fmt: skip


def test_link_up_sets_the_mtu_only_when_given() -> None:
    assert iproute.link_up("lo", "x").argv == ("ip", "-n", "x", "link", "set", "dev", "lo", "up")
    assert iproute.link_up("e", "", 1450).argv == ("ip", "link", "set", "dev", "e", "mtu", "1450",
                                                   "up")  # fmt: skip


def test_addresses_are_added_and_removed_with_their_prefix() -> None:
    assert iproute.addr_add("qg-1", "172.24.4.50/32", "r").argv[-4:] == (
        "add", "172.24.4.50/32", "dev", "qg-1")  # fmt: skip
    assert iproute.addr_del("qg-1", "172.24.4.50/32", "r").argv[-4:] == (
        "del", "172.24.4.50/32", "dev", "qg-1")  # fmt: skip


def test_the_host_default_route_is_never_changed() -> None:
    with pytest.raises(ValueError):
        iproute.route_replace_default("172.24.4.1", "")
    assert iproute.route_replace_default("172.24.4.1", "r").argv == (
        "ip", "-n", "r", "route", "replace", "default", "via", "172.24.4.1")  # fmt: skip


def test_restore_waits_for_the_lock_and_keeps_other_chains() -> None:
    command = iptables.restore("dp", "*filter\nCOMMIT\n")

    assert command.argv == ("ip", "netns", "exec", "dp", "iptables-restore", "-w", "10",
                            "--noflush")  # fmt: skip
    assert command.stdin == b"*filter\nCOMMIT\n"
    assert "--noflush" not in iptables.restore("r", "", noflush=False).argv


def test_ruleset_declares_chains_before_rules() -> None:
    text = iptables.ruleset("nat", ["mine"], ["-A PREROUTING -j mine"], ["PREROUTING"])

    assert text.splitlines() == ["*nat", ":PREROUTING ACCEPT [0:0]", ":mine - [0:0]",
                                 "-A PREROUTING -j mine", "COMMIT"]  # fmt: skip


def test_saved_chains_and_rules_are_read_back() -> None:
    saved = "*filter\n:INPUT ACCEPT [0:0]\n:oi-tap1 - [0:0]\n-A FORWARD -j onestack-sg\nCOMMIT\n"

    assert iptables.chains(saved) == ["oi-tap1"]
    assert iptables.has_rule(saved, "-A FORWARD -j onestack-sg")
    assert not iptables.has_rule(saved, "-A FORWARD -j other")


def test_dnsmasq_serves_static_entries_only_on_its_interface(tmp_path: Path) -> None:
    files = dnsmasq.Files(tmp_path)

    argv = dnsmasq.start("onestack-dhcp-n", "ns-n", ["10.0.0.0/26", "10.0.1.0/24"], files).argv

    assert argv[:5] == ("ip", "netns", "exec", "onestack-dhcp-n", "dnsmasq")
    assert "--dhcp-range=set:s0,10.0.0.0,static,255.255.255.192,24h" in argv
    assert "--dhcp-range=set:s1,10.0.1.0,static,255.255.255.0,24h" in argv
    assert {"--no-ping", "--port=0", "--bind-interfaces", "--interface=ns-n"} <= set(argv)
    assert f"--dhcp-hostsfile={tmp_path / 'hosts'}" in argv
    assert f"--pid-file={tmp_path / 'dnsmasq.pid'}" in argv


def test_dnsmasq_hosts_file_has_one_line_per_port() -> None:
    text = dnsmasq.hosts_text([("fa:16:3e:00:00:01", "10.0.0.5", "vm1")])

    assert text == "fa:16:3e:00:00:01,10.0.0.5,vm1\n"


def test_dnsmasq_options_route_metadata_and_keep_the_default_route() -> None:
    text = dnsmasq.opts_text("s0", "10.0.0.1", 1450, ["9.9.9.9"],
                             [("169.254.169.254/32", "10.0.0.2")])  # fmt: skip

    assert text.splitlines() == [
        "tag:s0,option:router,10.0.0.1",
        "tag:s0,option:mtu,1450",
        "tag:s0,option:dns-server,9.9.9.9",
        "tag:s0,option:classless-static-route,169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1",
    ]


def test_dnsmasq_without_gateway_offers_no_router() -> None:
    text = dnsmasq.opts_text("s0", None, 1500, [])

    assert text.splitlines() == ["tag:s0,option:router", "tag:s0,option:mtu,1500"]


def test_modprobe_loads_one_module() -> None:
    assert kmod.load("br_netfilter").argv == ("modprobe", "br_netfilter")
