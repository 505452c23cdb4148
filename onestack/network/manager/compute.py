"""The facade compute calls (see docs/architecture.md "Network"): check a server's network
requests, make or bind its ports, plug them through the agent, report its addresses and
undo it all. Arguments and results are plain dicts shaped like Neutron's REST bodies.

A request is "auto" | "none" | [{"uuid": net} | {"port": id} | {"uuid": net, "fixed_ip": ip}].
Ports made here carry `created_for` "compute:<index of the request>", so a retried
allocation finds them again and deallocation deletes them (user ports are only unbound).
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.network import errors
from onestack.network.manager import ipam
from onestack.network.manager.base import (
    Caller,
    NetworkBase,
    NetworkDeps,
    get_network,
    network_visible,
)
from onestack.network.manager.plugging import Plugging
from onestack.network.manager.ports import PortRecords, get_port, render
from onestack.network.manager.security_groups import SecurityGroupRecords
from onestack.network.models import FloatingIp, IpAllocation, Network, Port, SecurityGroup, Subnet

COMPUTE_OWNER = "compute:nova"
CREATED_FOR = "compute:"

Requests = list[dict[str, Any]] | str


class ComputeFacade(NetworkBase):
    def __init__(
        self,
        deps: NetworkDeps,
        ports: PortRecords,
        groups: SecurityGroupRecords,
        plugging: Plugging,
        is_admin: Callable[[RequestContext], bool],
    ) -> None:
        super().__init__(deps)
        self.ports = ports
        self.groups = groups
        self.plugging = plugging
        self.is_admin = is_admin

    def caller(self, ctx: RequestContext) -> Caller:
        return Caller(ctx, self.is_admin(ctx))

    def validate_requests(self, ctx: RequestContext, requests: Requests, project_id: str) -> None:
        caller = self.caller(ctx)
        if requests == "none":
            return
        if requests == "auto":
            self._auto_network(caller, project_id)
            return
        if not isinstance(requests, list):
            raise errors.InvalidInput("networks must be 'auto', 'none' or a list.")
        with self.db.reader() as session:
            for request in requests:
                self._check_one(session, caller, request)

    def _check_one(self, session: Any, caller: Caller, request: dict[str, Any]) -> None:
        if "port" in request:
            port = get_port(session, caller, str(request["port"]))
            if port.device_id:
                raise errors.PortInUse(port.network_id, port.port_id, port.device_id)
            return
        network = get_network(session, caller, str(request.get("uuid")))
        if request.get("fixed_ip") is None:
            return
        address = ipam.parse_address(request["fixed_ip"], "fixed_ip")
        subnets = session.scalars(select(Subnet).where(Subnet.network_id == network.network_id))
        for subnet in subnets:
            if address in ipaddress.ip_network(subnet.cidr):
                taken = session.scalar(
                    select(IpAllocation.port_id).where(
                        IpAllocation.subnet_id == subnet.subnet_id,
                        IpAllocation.ip_address == str(address),
                    )
                )
                if taken is not None or str(address) == subnet.gateway_ip:
                    raise errors.IpAddressAlreadyAllocated(str(address), subnet.subnet_id)
                return
        raise errors.FixedIpNotValid(str(address), network.network_id)

    def _auto_network(self, caller: Caller, project_id: str) -> str:
        """The project's only network, else the only shared one (never external)."""
        with self.db.reader() as session:
            candidates = [
                n
                for n in session.scalars(select(Network).where(Network.external.is_(False)))
                if network_visible(caller, n)
            ]
        own = [n for n in candidates if n.project_id == project_id]
        pick = own or [n for n in candidates if n.shared]
        if len(pick) > 1:
            raise errors.NetworkAmbiguous()
        if not pick:
            raise errors.NoAutoNetwork(project_id)
        return pick[0].network_id

    def allocate_for_server(
        self,
        ctx: RequestContext,
        server_id: str,
        project_id: str,
        host: str,
        requests: Requests,
        security_groups: list[str],
    ) -> list[dict[str, Any]]:
        caller = self.caller(ctx)
        if requests == "none":
            return []
        if requests == "auto":
            requests = [{"uuid": self._auto_network(caller, project_id)}]
        assert isinstance(requests, list)
        group_ids = self._group_ids(project_id, security_groups or ["default"])
        existing = {p["id"]: p for p in self.ports_of(server_id)}
        made = self._created(server_id)
        result = []
        for index, request in enumerate(requests):
            if "port" in request:
                result.append(self._bind(caller, server_id, host, str(request["port"]), existing))
            else:
                mark = f"{CREATED_FOR}{index}"
                port = made.get(mark) or self._create(
                    caller, server_id, project_id, host, request, group_ids, mark
                )
                result.append(port)
        return result

    def _created(self, server_id: str) -> dict[str, dict[str, Any]]:
        """The ports made for the server so far, by the request they were made for."""
        with self.db.reader() as session:
            rows = list(session.scalars(select(Port).where(Port.device_id == server_id)))
            return {
                row.created_for: body
                for row, body in zip(rows, render(session, rows), strict=True)
                if row.created_for.startswith(CREATED_FOR)
            }

    def _create(
        self,
        caller: Caller,
        server_id: str,
        project_id: str,
        host: str,
        request: dict[str, Any],
        group_ids: list[str],
        mark: str,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "network_id": request["uuid"],
            "project_id": project_id,
            "device_id": server_id,
            "device_owner": COMPUTE_OWNER,
            "binding:host_id": host,
            "security_groups": group_ids,
            "_created_for": mark,
        }
        if request.get("fixed_ip") is not None:
            body["fixed_ips"] = [{"ip_address": request["fixed_ip"]}]
        return self.ports.create(caller, body)

    def _bind(
        self,
        caller: Caller,
        server_id: str,
        host: str,
        port_id: str,
        existing: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        if port_id in existing:
            return existing[port_id]
        with self.db.reader() as session:
            port = get_port(session, caller, port_id)
            if port.device_id and port.device_id != server_id:
                raise errors.PortInUse(port.network_id, port_id, port.device_id)
        changes = {"device_id": server_id, "device_owner": COMPUTE_OWNER, "binding:host_id": host}
        return self.ports.update(caller, port_id, changes)

    def _group_ids(self, project_id: str, names: list[str]) -> list[str]:
        default = self.groups.ensure_default(project_id)
        with self.db.reader() as session:
            own = list(
                session.scalars(select(SecurityGroup).where(SecurityGroup.project_id == project_id))
            )
        ids = []
        for name in names:
            if name == "default":
                ids.append(default)
                continue
            match = [g.group_id for g in own if name in (g.group_id, g.name)]
            if not match:
                raise errors.SecurityGroupNotFound(name)
            if len(match) > 1:
                raise errors.DuplicateSecurityGroupName(name)
            ids.append(match[0])
        return ids

    def deallocate_for_server(self, server_id: str) -> None:
        with self.db.reader() as session:
            rows = list(session.scalars(select(Port).where(Port.device_id == server_id)))
        for row in rows:
            if row.created_for.startswith(CREATED_FOR):
                # A concurrent deallocation may have got there first.
                with contextlib.suppress(errors.PortNotFound):
                    self.ports.delete(None, row.port_id, by_service=True)
            else:
                unbind = {"device_id": "", "device_owner": "", "binding:host_id": ""}
                self.ports.update(None, row.port_id, unbind)
                self._set_down(row.port_id)

    def _set_down(self, port_id: str) -> None:
        with self.writing() as session:
            port = session.get(Port, port_id)
            if port is not None:
                port.status = "DOWN"

    def plug_vifs(self, server_id: str, timeout_s: float) -> list[dict[str, Any]]:
        ports = self.ports_of(server_id)
        waiting = [p["id"] for p in ports if p["status"] != "ACTIVE"]
        if waiting:
            self.plugging.request(waiting)
            if not self.plugging.wait_active(waiting, timeout_s):
                raise errors.VifPlugTimeout(server_id, timeout_s)
        return self.ports_of(server_id)

    def ports_of(self, server_id: str) -> list[dict[str, Any]]:
        with self.db.reader() as session:
            query = select(Port).where(Port.device_id == server_id).order_by(Port.created_at)
            return render(session, list(session.scalars(query)))

    def addresses_for(self, server_ids: list[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        result: dict[str, dict[str, list[dict[str, Any]]]] = {s: {} for s in server_ids}
        if not server_ids:
            return result
        with self.db.reader() as session:
            ports = list(
                session.scalars(
                    select(Port).where(Port.device_id.in_(server_ids)).order_by(Port.created_at)
                )
            )
            network_ids = {p.network_id for p in ports}
            query = select(Network.network_id, Network.name)
            names = {
                row.network_id: row.name
                for row in session.execute(query.where(Network.network_id.in_(network_ids)))
            }
            port_ids = [p.port_id for p in ports]
            floating = list(
                session.scalars(select(FloatingIp).where(FloatingIp.port_id.in_(port_ids)))
            )
        for port in ports:
            entries = result[port.device_id].setdefault(names.get(port.network_id, ""), [])
            for allocation in port.fixed_ips:
                entries.append(_address(allocation.ip_address, "fixed", port.mac_address))
            for fip in floating:
                if fip.port_id == port.port_id:
                    entries.append(_address(fip.floating_ip_address, "floating", port.mac_address))
        return result

    def ensure_project_defaults(self, project_id: str) -> None:
        self.groups.ensure_default(project_id)


def _address(address: str, kind: str, mac: str) -> dict[str, Any]:
    return {
        "version": ipaddress.ip_address(address).version,
        "addr": address,
        "OS-EXT-IPS:type": kind,
        "OS-EXT-IPS-MAC:mac_addr": mac,
    }
