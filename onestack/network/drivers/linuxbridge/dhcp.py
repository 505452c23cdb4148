"""DHCP and metadata for one network: a namespace of its own with a veth on the network's
bridge, a dnsmasq answering the ports' static entries, and the metadata proxy on
169.254.169.254 (guests reach it through a classless static route via the DHCP address)."""

from __future__ import annotations

import ipaddress
import shutil
import time
from pathlib import Path

from onestack.network.drivers.base import DataplaneError, DhcpSpec
from onestack.network.drivers.linuxbridge import host, names
from onestack.oslib import dnsmasq, pidfile, process

PROXY_MODULE = "onestack.network.drivers.linuxbridge.metadata_proxy"
PROXY_READY_S = 10.0


class DhcpServers:
    """The DHCP namespaces of this host, their files under `state_dir/dhcp/<network_id>`."""

    def __init__(self, state_dir: Path, metadata_url: str | None) -> None:
        self.state_dir = state_dir
        self.metadata_url = metadata_url

    def files(self, network_id: str) -> dnsmasq.Files:
        return dnsmasq.Files(self.state_dir / "dhcp" / network_id)

    def ensure(self, spec: DhcpSpec) -> None:
        network_id = spec.segment.network_id
        ns = names.dhcp_netns(network_id)
        host.ensure_netns(ns)
        inner = names.dhcp_inner(network_id)
        host.ensure_veth(names.dhcp_outer(network_id), inner, ns,
                         names.bridge(network_id), spec.segment.mtu)  # fmt: skip
        serve_metadata = spec.metadata and self.metadata_url is not None
        host.ensure_addresses(ns, inner, _addresses(spec, serve_metadata))
        self._ensure_dnsmasq(spec, ns, inner, serve_metadata)
        if serve_metadata:
            self._ensure_proxy(network_id, ns)
        else:
            pidfile.stop(self._proxy_pid(network_id), network_id)

    def proxy_pid_files(self) -> list[Path]:
        return sorted((self.state_dir / "dhcp").glob("*/metadata-proxy.pid"))

    def remove(self, network_id: str) -> None:
        files = self.files(network_id)
        pidfile.stop(files.pid, str(files.directory))
        pidfile.stop(self._proxy_pid(network_id), network_id)
        host.delete_link(names.DATAPLANE_NETNS, names.dhcp_outer(network_id))  # both ends
        host.remove_netns(names.dhcp_netns(network_id))
        shutil.rmtree(files.directory, ignore_errors=True)

    def _ensure_dnsmasq(self, spec: DhcpSpec, ns: str, inner: str, metadata: bool) -> None:
        files = self.files(spec.segment.network_id)
        cidrs = [subnet.cidr for subnet in spec.subnets]
        hosts = [(h.mac_address.lower(), h.ip_address, h.hostname) for h in spec.hosts]
        host.write_file(files.hosts, dnsmasq.hosts_text(hosts))
        host.write_file(files.opts, _options(spec, metadata))
        # The ranges are on the command line: a change of subnets needs a new process.
        ranges_changed = host.write_file(files.directory / "cidrs", "\n".join(cidrs) + "\n")
        marker = str(files.directory)
        if not ranges_changed and pidfile.reload(files.pid, marker):
            return
        pidfile.stop(files.pid, marker)
        host.do(
            dnsmasq.start(ns, inner, cidrs, files), f"start dnsmasq for {spec.segment.network_id}"
        )

    def _proxy_pid(self, network_id: str) -> Path:
        return self.files(network_id).directory / "metadata-proxy.pid"

    def _ensure_proxy(self, network_id: str, ns: str) -> None:
        pid_file = self._proxy_pid(network_id)
        if pidfile.find(pid_file, network_id) is not None:
            return
        pid_file.unlink(missing_ok=True)
        command = process.python_module(PROXY_MODULE, "--netns", ns, "--network-id", network_id,
                                        "--upstream", str(self.metadata_url),
                                        "--pid-file", str(pid_file))  # fmt: skip
        log = self.files(network_id).directory / "metadata-proxy.log"
        process.spawn_detached(command, log)
        deadline = time.monotonic() + PROXY_READY_S
        while pidfile.find(pid_file, network_id) is None:
            if time.monotonic() > deadline:
                raise DataplaneError(f"metadata proxy for {network_id} did not start; see {log}")
            time.sleep(0.05)


def _server_ip(spec: DhcpSpec, subnet_id: str) -> str:
    for sid, ip in spec.server_ips:
        if sid == subnet_id:
            return ip
    raise DataplaneError(f"no DHCP address given for subnet {subnet_id}")


def _addresses(spec: DhcpSpec, metadata: bool) -> set[str]:
    wanted = {f"{_server_ip(spec, s.subnet_id)}/{ipaddress.ip_network(s.cidr).prefixlen}"
              for s in spec.subnets}  # fmt: skip
    return wanted | ({f"{names.METADATA_IP}/32"} if metadata else set())


def _options(spec: DhcpSpec, metadata: bool) -> str:
    text = ""
    for index, subnet in enumerate(spec.subnets):
        routes = (
            [(f"{names.METADATA_IP}/32", _server_ip(spec, subnet.subnet_id))] if metadata else []
        )
        text += dnsmasq.opts_text(f"s{index}", subnet.gateway_ip, spec.segment.mtu,
                                  subnet.dns_nameservers, routes)  # fmt: skip
    return text
