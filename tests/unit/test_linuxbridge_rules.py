"""The linuxbridge dataplane's rule text (security groups, router NAT) and the metadata
proxy's headers, checked as data."""

from onestack.network.drivers import FloatingIp, RouterLeg, RouterSpec, SecurityRule, Segment, Vif
from onestack.network.drivers.linuxbridge import firewall, names, router
from onestack.network.drivers.linuxbridge.metadata_proxy import forward_headers

SEGMENT = Segment("net-1", "flat", None, None, 1500)
PORT = "0123456789abcdef"
DEV = names.port_device(PORT)


def vif(*rules: SecurityRule, security: bool = True) -> Vif:
    return Vif(PORT, SEGMENT, "FA:16:3E:00:00:01", (("s", "10.0.0.5"),), "compute:nova", DEV,
               names.bridge("net-1"), ("default",), security, rules)  # fmt: skip


def test_names_fit_the_kernel_limit_and_carry_our_prefixes() -> None:
    uuid = "0e57ac4b-6f75-4d5e-9a1b-2c0de51ab1e5"
    links = [names.bridge(uuid), names.port_device(uuid), names.host_link(uuid),
             names.dhcp_outer(uuid), names.router_inner(uuid, True),
             names.vxlan(16_777_215)]  # fmt: skip

    assert all(len(link) <= 15 for link in links)
    assert names.host_link(uuid).startswith(names.HOST_LINK_PREFIX)
    assert names.is_our_netns(names.dhcp_netns(uuid))
    assert names.is_our_netns(names.router_netns(uuid))
    assert names.is_our_netns(names.DATAPLANE_NETNS)


def test_other_onestack_namespaces_are_not_ours() -> None:
    assert not names.is_our_netns("onestack-6e2f3a41-9b5c-4d7e-8f10-b2c3d4e5f607")  # a container


def test_a_port_without_rules_lets_in_only_replies_and_dhcp() -> None:
    chains, rules = firewall.port_rules(vif())

    assert chains == [f"oi-{DEV}", f"oo-{DEV}", f"oe-{DEV}"]
    inbound = [rule for rule in rules if rule.startswith(f"-A oi-{DEV} ")]
    assert inbound == [
        f"-A oi-{DEV} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"-A oi-{DEV} -m conntrack --ctstate INVALID -j DROP",
        f"-A oi-{DEV} -p udp -m udp --sport 67 --dport 68 -j RETURN",
        f"-A oi-{DEV} -j DROP",
    ]


def test_rules_become_matches_on_protocol_ports_and_remote() -> None:
    rules = firewall.port_rules(vif(
        SecurityRule("ingress", "tcp", 22, 22, ("192.0.2.0/24",)),
        SecurityRule("ingress", "udp", 1000, 2000),
        SecurityRule("ingress", "icmp", 8, 0),
        SecurityRule("egress", "6", 443, 443),
    ))[1]  # fmt: skip

    assert f"-A oi-{DEV} -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -j RETURN" in rules
    assert f"-A oi-{DEV} -p udp -m udp --dport 1000:2000 -j RETURN" in rules
    assert f"-A oi-{DEV} -p icmp -m icmp --icmp-type 8/0 -j RETURN" in rules
    assert f"-A oe-{DEV} -p tcp -m tcp --dport 443 -j RETURN" in rules


def test_a_remote_group_with_no_members_allows_nothing() -> None:
    rules = firewall.port_rules(vif(SecurityRule("ingress", remote=())))[1]

    assert [rule for rule in rules if rule.startswith(f"-A oi-{DEV} -s")] == []


def test_ipv6_rules_are_not_written_to_iptables() -> None:
    rules = firewall.port_rules(vif(SecurityRule("ingress", ethertype="IPv6")))[1]

    assert f"-A oi-{DEV} -j RETURN" not in rules


def test_only_the_ports_mac_and_address_get_out() -> None:
    rules = firewall.port_rules(vif())[1]

    assert (f"-A oo-{DEV} -s 10.0.0.5/32 -m mac --mac-source fa:16:3e:00:00:01 -g oe-{DEV}"
            in rules)  # fmt: skip
    assert rules[-1] == f"-A oe-{DEV} -j DROP"
    assert f"-A oo-{DEV} -j DROP" in rules


def test_port_security_off_means_no_chains() -> None:
    assert firewall.port_rules(vif(security=False)) == ([], [])


def test_dispatch_sends_egress_before_ingress_and_reads_devices_back() -> None:
    rules = firewall.dispatch(["tapb", "tapa"])

    assert rules[0] == "-A onestack-sg -m physdev --physdev-in tapa --physdev-is-bridged -j oo-tapa"
    assert (
        rules[-1] == "-A onestack-sg -m physdev --physdev-out tapb --physdev-is-bridged -j oi-tapb"
    )
    assert firewall.filtered_devices(["oi-tapa", "oo-tapa", "onestack-sg"]) == ["tapa"]


def test_router_nat_snats_subnets_and_translates_floating_ips() -> None:
    spec = RouterSpec("r1", legs=(RouterLeg("p1", "n1", "10.0.0.0/26", "10.0.0.1"),),
                      external=RouterLeg("pg", "nx", "172.24.4.0/24", "172.24.4.10"),
                      external_gateway="172.24.4.1",
                      floating_ips=(FloatingIp("172.24.4.50", "10.0.0.5"),))  # fmt: skip
    out = names.router_inner("pg", True)

    lines = router.nat_ruleset(spec).splitlines()

    assert "-A onestack-dnat -d 172.24.4.50/32 -j DNAT --to-destination 10.0.0.5" in lines
    assert f"-A onestack-snat -s 10.0.0.5/32 -o {out} -j SNAT --to-source 172.24.4.50" in lines
    assert f"-A onestack-snat -s 10.0.0.0/26 -o {out} -j SNAT --to-source 172.24.4.10" in lines
    assert lines.index("-A onestack-dnat -d 172.24.4.50/32 -j DNAT --to-destination 10.0.0.5") > 0


def test_router_without_snat_translates_only_floating_ips() -> None:
    spec = RouterSpec("r1", enable_snat=False,
                      legs=(RouterLeg("p1", "n1", "10.0.0.0/26", "10.0.0.1"),),
                      external=RouterLeg("pg", "nx", "172.24.4.0/24", "172.24.4.10"))  # fmt: skip

    assert "--to-source 172.24.4.10" not in router.nat_ruleset(spec)


def test_metadata_proxy_replaces_identity_headers_the_guest_sent() -> None:
    sent = {"X-Forwarded-For": "10.0.0.6", "X-Onestack-Network-Id": "other", "Accept": "*/*",
            "Host": "169.254.169.254"}  # fmt: skip

    headers = forward_headers(sent, "net-1", "10.0.0.5")

    assert headers == {"Accept": "*/*", "X-Onestack-Network-Id": "net-1",
                       "X-Forwarded-For": "10.0.0.5"}  # fmt: skip


def test_each_bridge_gets_its_own_conntrack_zone() -> None:
    assert firewall.zones({"brqb": 7, "brqa": 5}) == [
        "-A onestack-ct -i brqa -j CT --zone 5",
        "-A onestack-ct -i brqb -j CT --zone 7",
    ]
