"""The linuxbridge dataplane alone, on the real host (root): "guests" are network namespaces
with a veth on their network's bridge, as the container driver makes them, running busybox
udhcpc. One module-scoped lab (three tenant networks, an external one on 172.24.99.0/24, a
router with a floating IP) is driven through the driver's own methods with spec dataclasses;
the last test removes everything and counts what is left on the host."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from onestack.network.drivers import (
    DhcpHost,
    DhcpSpec,
    FloatingIp,
    RouterLeg,
    RouterSpec,
    SecurityRule,
    Segment,
    Subnet,
    Vif,
)
from onestack.network.drivers.linuxbridge import LinuxBridgeDataplane, names

NEEDED = ("dnsmasq", "busybox", "iptables-restore", "ip", "curl")
MISSING = [tool for tool in NEEDED if shutil.which(tool) is None]
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="host test: needs root (netns, veth, bridge)"),
    pytest.mark.skipif(bool(MISSING), reason=f"host test: not installed: {MISSING}"),
]

NET_A = "a0a0a0a0-0000-4000-8000-00000000000a"
NET_B = "b0b0b0b0-0000-4000-8000-00000000000b"
NET_C = "c0c0c0c0-0000-4000-8000-00000000000c"  # another project: the same CIDR as A
NET_X = "e0e0e0e0-0000-4000-8000-00000000000e"  # external
ROUTER = "d0d0d0d0-0000-4000-8000-00000000000d"
EXT_CIDR, EXT_HOST, EXT_ROUTER, FIP = (
    "172.24.99.0/24",
    "172.24.99.1",
    "172.24.99.10",
    "172.24.99.50",
)
DEADLINE_S = 15.0
UDHCPC_SCRIPT = """#!/bin/sh
# The part of busybox's default.script a test guest needs: address, then routes.
[ "$1" = bound ] || exit 0
ip addr add "$ip/$mask" dev "$interface"
if [ -n "$staticroutes" ]; then
  set -- $staticroutes
  while [ $# -ge 2 ]; do ip route add "$1" via "$2" dev "$interface" || true; shift 2; done
elif [ -n "$router" ]; then
  ip route add default via "$router" dev "$interface"
fi
"""


def segment(network_id: str, **extra: object) -> Segment:
    return Segment(network_id, "flat", None, None, 1500, **extra)  # type: ignore[arg-type]


SEG = {NET_A: segment(NET_A), NET_B: segment(NET_B), NET_C: segment(NET_C),
       NET_X: segment(NET_X, host_address=f"{EXT_HOST}/24")}  # fmt: skip
CIDR = {NET_A: "10.0.0.0/26", NET_B: "10.0.1.0/26", NET_C: "10.0.0.0/26"}


@dataclass(frozen=True)
class Guest:
    name: str
    port_id: str
    network_id: str
    mac: str
    ip: str

    @property
    def netns(self) -> str:
        return f"osdt-{self.name}"  # the test's own prefix: never one of the cloud's

    def vif(self, rules: tuple[SecurityRule, ...] = (), security: bool = True) -> Vif:
        seg = SEG[self.network_id]
        return Vif(self.port_id, seg, self.mac, ((f"sub-{self.network_id}", self.ip),),
                   "compute:nova", names.port_device(self.port_id),
                   names.bridge(self.network_id), ("default",), security, rules)  # fmt: skip

    def sh(self, *argv: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ip", "netns", "exec", self.netns, *argv], capture_output=True,
                              text=True, timeout=timeout)  # fmt: skip

    def pings(self, address: str) -> bool:
        return self.sh("busybox", "ping", "-c", "1", "-W", "1", address).returncode == 0


G1 = Guest("g1", "11111111-1111-4111-8111-111111111111", NET_A, "fa:16:3e:00:00:01", "10.0.0.5")
G2 = Guest("g2", "22222222-2222-4222-8222-222222222222", NET_A, "fa:16:3e:00:00:02", "10.0.0.6")
G3 = Guest("g3", "33333333-3333-4333-8333-333333333333", NET_B, "fa:16:3e:00:00:03", "10.0.1.5")
G4 = Guest("g4", "44444444-4444-4444-8444-444444444444", NET_C, "fa:16:3e:00:00:04", "10.0.0.9")
GUESTS = (G1, G2, G3, G4)


def default_group(*members: Guest) -> tuple[SecurityRule, ...]:
    """The project default group: ingress from its members (expanded), egress anywhere."""
    return (SecurityRule("ingress", remote=tuple(f"{g.ip}/32" for g in members)),
            SecurityRule("egress"))  # fmt: skip


ICMP_IN = SecurityRule("ingress", "icmp", remote=("0.0.0.0/0",))
HTTP_IN = SecurityRule("ingress", "tcp", 80, 80)


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {DEADLINE_S}s: {what}")
        time.sleep(0.2)


class MetadataRecorder(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        MetadataRecorder.seen.append({"path": self.path, **dict(self.headers.items())})
        body = b"i-test\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def dhcp_spec(network_id: str, *guests: Guest) -> DhcpSpec:
    cidr = CIDR[network_id]
    base = cidr.rsplit(".", 1)[0]
    subnet = Subnet(f"sub-{network_id}", network_id, cidr, f"{base}.1", True)
    hosts = tuple(DhcpHost(g.mac, g.ip, g.name) for g in guests)
    return DhcpSpec(SEG[network_id], (subnet,), ((subnet.subnet_id, f"{base}.2"),), hosts)


def router_spec(floating: bool) -> RouterSpec:
    legs = (RouterLeg("r0a0a0a0-0000", NET_A, CIDR[NET_A], "10.0.0.1"),
            RouterLeg("r0b0b0b0-0000", NET_B, CIDR[NET_B], "10.0.1.1"))  # fmt: skip
    external = RouterLeg("r0e0e0e0-0000", NET_X, EXT_CIDR, EXT_ROUTER)
    fips = (FloatingIp(FIP, G1.ip),) if floating else ()
    return RouterSpec(ROUTER, legs=legs, external=external, external_gateway=EXT_HOST,
                      floating_ips=fips)  # fmt: skip


def host_counts() -> dict[str, object]:
    """What the host's own tools show of ours and of this test's guests, for before/after
    comparisons (other engineers' tests may come and go on the same host meanwhile)."""
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = json.loads(subprocess.run(["ip", "-j", "link"], capture_output=True, text=True).stdout)
    # Zombies are left out: killed daemons wait there for whichever ancestor reaps orphans.
    procs = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True).stdout
    running = [line.split(None, 1)[1] for line in procs.splitlines() if not line.startswith("Z")]
    spaces = [line.split()[0] for line in netns.splitlines() if line.strip()]
    mine = [ns for ns in spaces if names.is_our_netns(ns) or ns.startswith("osdt-")]
    return {"netns": sorted(mine),
            "links": sorted(link["ifname"] for link in links
                            if link["ifname"].startswith(names.HOST_LINK_PREFIX)),
            "daemons": sorted(line for line in running
                              if "onestack-dhcp-" in line or "metadata_proxy" in line)}  # fmt: skip


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LinuxBridgeDataplane]:
    if names.DATAPLANE_NETNS in host_counts()["netns"]:  # type: ignore[operator]
        pytest.skip("a cloud's dataplane already runs on this host; not touching it")
    state = tmp_path_factory.mktemp("dataplane")
    script = state.parent / "udhcpc.script"
    script.write_text(UDHCPC_SCRIPT)
    script.chmod(0o755)
    server = ThreadingHTTPServer(("127.0.0.1", 0), MetadataRecorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    before = host_counts()
    driver = LinuxBridgeDataplane(state / "run", f"http://127.0.0.1:{server.server_port}")
    driver.before = before  # type: ignore[attr-defined]
    try:
        _build(driver, script)
        yield driver
    finally:
        server.shutdown()
        server.server_close()
        driver.host_clean()
        remove_guests()


def _build(driver: LinuxBridgeDataplane, script: Path) -> None:
    for seg in SEG.values():
        driver.ensure_segment(seg)
    driver.ensure_dhcp(dhcp_spec(NET_A, G1, G2))
    driver.ensure_dhcp(dhcp_spec(NET_B, G3))
    driver.ensure_dhcp(dhcp_spec(NET_C, G4))
    for guest in GUESTS:
        _make_guest(guest)
    driver.plug(G1.vif(default_group(G1, G2)))
    driver.plug(G2.vif(security=False))
    driver.plug(G3.vif(default_group(G3)))
    driver.plug(G4.vif((*default_group(G4), ICMP_IN)))
    driver.ensure_router(router_spec(floating=True))
    for guest in GUESTS:
        udhcpc = ("udhcpc", "-i", "eth0", "-q", "-n", "-t", "5", "-T", "1")
        done = guest.sh("busybox", *udhcpc, "-O", "staticroutes", "-s", str(script), timeout=30)
        assert done.returncode == 0, f"{guest.name}: no lease: {done.stderr}"


def _make_guest(guest: Guest) -> None:
    """As the container driver does: a namespace, a veth whose host end is on the bridge."""
    dev = names.port_device(guest.port_id)
    subprocess.run(["ip", "netns", "add", guest.netns], check=True)
    subprocess.run(["ip", "-n", names.DATAPLANE_NETNS, "link", "add", dev, "type", "veth",
                    "peer", "name", "eth0", "netns", guest.netns], check=True)  # fmt: skip
    subprocess.run(["ip", "-n", guest.netns, "link", "set", "eth0", "address", guest.mac, "up"],
                   check=True)  # fmt: skip
    subprocess.run(["ip", "-n", guest.netns, "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "-n", names.DATAPLANE_NETNS, "link", "set", dev, "master",
                    names.bridge(guest.network_id), "up"], check=True)  # fmt: skip


def remove_guests() -> None:
    """Stop what runs in the guests (the test's httpd) and delete their namespaces."""
    for guest in GUESTS:
        pids = subprocess.run(["ip", "netns", "pids", guest.netns], capture_output=True, text=True)
        for pid in pids.stdout.split():
            os.kill(int(pid), 9)
        subprocess.run(["ip", "netns", "delete", guest.netns], capture_output=True)


def host_clean_cli(lab: LinuxBridgeDataplane) -> str:
    """`onestack host-clean`, as an operator runs it, on the lab's state."""
    env = {**os.environ, "ONESTACK_NETWORK__DATAPLANE_DIR": str(lab.state_dir)}
    state = lab.state_dir.parent / "cloud-state"  # no cloud runs from it
    done = subprocess.run([str(Path(sys.executable).parent / "onestack"), "host-clean",
                           "--state-dir", str(state)], capture_output=True, text=True, env=env,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def address_of(guest: Guest) -> str:
    out = guest.sh("ip", "-j", "-4", "addr", "show", "dev", "eth0").stdout
    return json.loads(out)[0]["addr_info"][0]["local"]


def test_guests_get_their_addresses_from_dhcp(lab: LinuxBridgeDataplane) -> None:
    assert [address_of(g) for g in GUESTS] == [g.ip for g in GUESTS]


def test_default_group_lets_members_in_and_keeps_others_out(lab: LinuxBridgeDataplane) -> None:
    eventually(lambda: G2.pings(G1.ip), "g2 (a member) pings g1")
    assert G1.pings(G2.ip)  # g2 has no port security
    assert not G3.pings(G1.ip)  # routed in from the other subnet, not a member


def test_router_connects_two_subnets(lab: LinuxBridgeDataplane) -> None:
    eventually(lambda: G3.pings(G2.ip), "g3 reaches g2 through the router")
    assert G1.pings(G3.ip) is False  # g3's own group lets no one from A in


def test_a_rule_opens_and_its_removal_closes_again(lab: LinuxBridgeDataplane) -> None:
    lab.plug(G1.vif((*default_group(G1, G2), ICMP_IN)))
    eventually(lambda: G3.pings(G1.ip), "the icmp rule lets g3 in")

    lab.plug(G1.vif(default_group(G1, G2)))

    assert not G3.pings(G1.ip)
    assert G2.pings(G1.ip)


def test_floating_ip_is_reachable_from_the_host(lab: LinuxBridgeDataplane) -> None:
    G1.sh("busybox", "mkdir", "-p", "/tmp/osdt-www")
    Path("/tmp/osdt-www/index.html").write_text("hello from g1\n")
    G1.sh("busybox", "httpd", "-p", "80", "-h", "/tmp/osdt-www")
    try:
        lab.plug(G1.vif((*default_group(G1, G2), HTTP_IN)))
        fetch = ["curl", "-s", "-m", "2", f"http://{FIP}/"]
        page = lambda: subprocess.run(fetch, capture_output=True, text=True).stdout  # noqa: E731
        eventually(lambda: page() == "hello from g1\n", "the host fetches g1's page on its FIP")
        assert G3.pings(EXT_HOST)  # SNAT out through the router's gateway

        lab.ensure_router(router_spec(floating=False))

        assert subprocess.run(fetch, capture_output=True, timeout=10).returncode != 0
    finally:
        shutil.rmtree("/tmp/osdt-www", ignore_errors=True)
        lab.ensure_router(router_spec(floating=True))


def test_each_network_tracks_connections_in_its_own_zone(lab: LinuxBridgeDataplane) -> None:
    raw = subprocess.run(["ip", "netns", "exec", names.DATAPLANE_NETNS, "iptables-save", "-t",
                          "raw"], capture_output=True, text=True, check=True).stdout  # fmt: skip
    zones = [line.split("--zone ")[1].split()[0] for line in raw.splitlines() if "--zone" in line]

    assert f"-A onestack-ct -i {names.bridge(NET_C)} -j CT --zone" in raw
    assert len(zones) == len(SEG) == len(set(zones))


def test_projects_with_the_same_cidr_stay_apart(lab: LinuxBridgeDataplane) -> None:
    lab.plug(G1.vif((*default_group(G1, G2), ICMP_IN)))
    eventually(lambda: G4.pings("10.0.0.2"), "g4 reaches its own network's DHCP address")
    assert not G4.pings(G1.ip)
    assert not G4.pings(G2.ip)


def test_metadata_proxy_names_network_and_fixed_ip(lab: LinuxBridgeDataplane) -> None:
    MetadataRecorder.seen.clear()
    got = G1.sh("curl", "-s", "-m", "5", "-H", "X-Forwarded-For: 10.0.0.6",
                "http://169.254.169.254/latest/meta-data/instance-id")  # fmt: skip

    assert got.stdout == "i-test\n", got.stderr
    (request,) = MetadataRecorder.seen
    assert request["path"] == "/latest/meta-data/instance-id"
    assert request["X-Forwarded-For"] == G1.ip  # as the proxy saw it, not what g1 claimed
    assert request["X-Onestack-Network-Id"] == NET_A


def test_dhcp_hosts_change_without_restart(lab: LinuxBridgeDataplane) -> None:
    pid_file = lab.dhcp.files(NET_A).pid
    pid = pid_file.read_text()
    spec = dhcp_spec(NET_A, G1, G2)
    lab.ensure_dhcp(
        replace(spec, hosts=(*spec.hosts, DhcpHost("fa:16:3e:00:00:07", "10.0.0.7", "g7")))
    )

    assert "fa:16:3e:00:00:07,10.0.0.7,g7" in lab.dhcp.files(NET_A).hosts.read_text()
    assert pid_file.read_text() == pid


NET_V = "f0f0f0f0-0000-4000-8000-00000000000f"


def test_vxlan_network_gets_a_device_without_learning_or_peers(lab: LinuxBridgeDataplane) -> None:
    lab.ensure_segment(Segment(NET_V, "vxlan", None, 4242, 1450))
    lab.ensure_segment(Segment(NET_V, "vxlan", None, 4242, 1450))  # again: no change, no error

    shown = subprocess.run(["ip", "-n", names.DATAPLANE_NETNS, "-d", "-j", "link", "show",
                            "vxlan-4242"], capture_output=True, text=True, check=True)  # fmt: skip
    (link,) = json.loads(shown.stdout)
    assert link["master"] == names.bridge(NET_V)
    assert link["linkinfo"]["info_data"]["id"] == 4242
    assert link["linkinfo"]["info_data"].get("learning") is False
    assert "remote" not in link["linkinfo"]["info_data"]


def test_everything_removed_leaves_nothing(lab: LinuxBridgeDataplane) -> None:
    inventory = lab.host_inventory()
    assert len(inventory["namespaces"]) == 5  # dataplane, three DHCP, one router
    assert any(
        chain.endswith(f"oi-{names.port_device(G1.port_id)}") for chain in inventory["chains"]
    )

    lab.remove_router(ROUTER)
    for guest in GUESTS:
        lab.unplug(guest.port_id)
    for network_id in [*SEG, NET_V]:
        lab.remove_segment(network_id)
    left = lab.host_inventory()
    assert left["namespaces"] == [names.DATAPLANE_NETNS]
    assert left["links"] == []
    assert [c for c in left["chains"] if not c.endswith((names.SG_DISPATCH, names.CT_ZONES))] == []
    assert left["processes"] == []

    cleaned = host_clean_cli(lab)
    remove_guests()

    assert "removed 1 namespaces\n  onestack-dataplane\n" in cleaned

    assert lab.host_inventory() == {"namespaces": [], "links": [], "chains": [],
                                    "processes": [], "files": []}  # fmt: skip
    assert host_counts() == lab.before  # type: ignore[attr-defined]
