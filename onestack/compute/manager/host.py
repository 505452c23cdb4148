"""The compute agent's side of a host: builds, power actions and deletes taken from the work
queue (`manager.servers` queues them), run against this host's drivers (one compute node each;
a server's node says which driver runs it), each step persisted so a killed agent's successor
resumes (or, past `max_build_attempts`, ends in ERROR with a fault).

A build or action that finds its server marked `deleting` at a step hands it to a delete
(queued in the same transaction that ends its own work), so a delete never races a spawn.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.ownership import Ownership, Work, WorkRow, work_id
from onestack.compute.drivers import (
    BootImage,
    ComputeDriver,
    GuestError,
    GuestNotFound,
    GuestSpec,
    PowerState,
    Vif,
)
from onestack.compute.manager import states
from onestack.compute.manager.base import ComputeBase, ComputeDeps, now
from onestack.compute.manager.imagecache import ImageCache
from onestack.compute.manager.nodes import NodeManager, node_uuid
from onestack.compute.manager.scheduler import NoValidHost, Scheduler
from onestack.compute.manager.servers import BUILD, DELETE, POWER, payload
from onestack.compute.models import Server

log = logging.getLogger("onestack.compute.host")


class Handover(Exception):
    """The server was marked deleting while this work ran: the delete takes over."""


class ComputeHost(ComputeBase):
    """One host's compute agent logic over its driver."""

    def __init__(
        self,
        deps: ComputeDeps,
        drivers: Sequence[ComputeDriver],
        nodes: NodeManager,
        ownership: Ownership,
        host: str | None = None,
        image_cache: ImageCache | None = None,
    ) -> None:
        super().__init__(deps)
        if not drivers:
            raise ValueError("A compute host needs at least one driver.")
        self.drivers = list(drivers)
        self.nodes = nodes
        self.agent_ownership = ownership
        self.host = host or socket.gethostname()
        self.by_node = {node_uuid(self.host, d.hypervisor_type): d for d in self.drivers}
        self.image_cache = image_cache
        self.scheduler = Scheduler(deps.db, deps.placement)
        self.network = deps.network

    def handlers(self) -> dict[str, Any]:
        return {BUILD: self.run_build, POWER: self.run_power, DELETE: self.run_delete}

    def register(self) -> None:
        """One compute node (and placement provider) per driver; with several, each node is
        named `<host>-<hypervisor type>` (placement's provider names are unique)."""
        for driver in self.drivers:
            res = driver.host_resources()
            kind = driver.hypervisor_type
            name = self.host if len(self.drivers) == 1 else f"{self.host}-{kind.lower()}"
            self.nodes.register(self.host, kind, res.vcpus, res.memory_mb, res.disk_gb, name)

    def driver_of(self, server: Server) -> ComputeDriver:
        """The driver of the node the server was placed on (the first before placement)."""
        return self.by_node.get(server.node_uuid or "", self.drivers[0])

    # -- build ---------------------------------------------------------------------------

    def run_build(self, work: Work) -> None:
        server = self._server(work.resource_id)
        if server is None:
            return
        try:
            self._check_live(server.server_id)
            if work.attempts > self.settings.max_build_attempts:
                raise GuestError(f"The build was interrupted {work.attempts - 1} times.")
            self._build(work, server)
        except Handover:
            self._hand_over(work)
        except NoValidHost as exc:
            self._fail(work, server, str(exc), cleanup=False)
        except (GuestError, GuestNotFound, Exception) as exc:
            log.exception("build of %s failed", server.server_id)
            self._fail(work, server, str(exc) or type(exc).__name__, cleanup=True)

    def _build(self, work: Work, server: Server) -> None:
        image = work.detail.get("image", {})
        detail = dict(work.detail)
        if "node" not in detail:
            node = self.scheduler.place(
                server.server_id,
                server.flavor,
                image.get("properties", {}),
                server.project_id,
                server.user_id,
                self.host,
            )
            detail["node"] = node.uuid
            self._set(
                server.server_id, host=self.host, node_uuid=node.uuid, task_state="networking"
            )
            self._step(work, "scheduled", detail)
        ports = self.network.allocate_for_server(
            owner_context(server),
            server.server_id,
            server.project_id,
            self.host,
            server.requested_networks,
            list(server.security_groups),
        )
        self._step(work, "networked", detail)
        ports = self.network.plug_vifs(server.server_id, self.settings.vif_plug_timeout_s) or ports
        self._set(server.server_id, task_state="spawning", progress=50)
        self._step(work, "spawning", detail)
        driver = self.by_node.get(detail["node"], self.drivers[0])
        driver.spawn(self._guest(driver, server, image, ports))
        self._finish(
            work,
            server.server_id,
            vm_state=states.ACTIVE,
            task_state=None,
            power_state=int(driver.info(server.server_id).power_state),
            progress=100,
            launched_at=now(),
        )
        self.notify(None, "instance.create.end", payload(self._server(server.server_id) or server))

    def _guest(
        self,
        driver: ComputeDriver,
        server: Server,
        image: dict[str, Any] | None,
        ports: list[dict[str, Any]],
    ) -> GuestSpec:
        """The spec to start `server` with; for a driver that reads disks, its image (and
        kernel and ramdisk) cached on local disk, fetched as the owner. `image` None: the
        image's facts are read again (a start or resume after the build)."""
        facts = {"image_id": server.image_id, **(image or {})}
        if not driver.needs_image_file:
            return spec(server, facts, ports)
        if self.image_cache is None:
            raise GuestError("This host has no image cache to boot images from.")
        if image is None:
            source = self.deps.images(owner_context(server), server.image_id)
            if source is None:
                raise GuestError(f"Image {server.image_id} could not be found.")
            facts = asdict(source)
        guest = spec(server, facts, ports)
        return replace(guest, image=self.image_cache.boot_image(owner_context(server), facts))

    def _fail(self, work: Work, server: Server, message: str, cleanup: bool) -> None:
        if cleanup:
            self._teardown(server.server_id)
        else:
            self.deps.placement.release(server.server_id)
        fault = {
            "code": 500,
            "message": message[:255],
            "created": now().isoformat() + "Z",
            "details": message,
        }
        try:
            self._finish(
                work,
                server.server_id,
                vm_state=states.ERROR,
                task_state=None,
                fault=fault,
                progress=0,
            )
        except Handover:
            self._hand_over(work)
            return
        self.notifier.error(
            "compute.instance.create.error", {**payload(server), "message": message}
        )

    # -- power actions -------------------------------------------------------------------

    def run_power(self, work: Work) -> None:
        server = self._server(work.resource_id)
        if server is None:
            return
        action = states.ACTIONS[work.detail["action"]]
        try:
            self._check_live(server.server_id)
            self._power(work.detail["action"], server)
            state = self.driver_of(server).info(server.server_id).power_state
            self._finish(
                work,
                server.server_id,
                vm_state=action.result,
                task_state=None,
                power_state=int(state),
            )
        except Handover:
            self._hand_over(work)
            return
        except (GuestError, GuestNotFound) as exc:
            log.warning("%s of %s failed: %s", action.name, server.server_id, exc)
            try:
                self._finish(work, server.server_id, task_state=None)
            except Handover:
                self._hand_over(work)
            return
        self.notify(None, f"instance.{action.event}.end", payload(server))

    def _power(self, action: str, server: Server) -> None:
        sid, driver = server.server_id, self.driver_of(server)
        if action == "stop":
            driver.power_off(sid, 60)
        elif action in ("start", "reboot_hard", "resume"):
            self._start_again(action, server)
        elif action == "reboot_soft":
            driver.reboot(sid, hard=False)
        elif action == "pause":
            driver.pause(sid)
        elif action == "unpause":
            driver.unpause(sid)
        elif action == "suspend":
            driver.suspend(sid)

    def _start_again(self, action: str, server: Server) -> None:
        """Start, resume or hard reboot; a guest the driver lost (a host restart) is spawned
        again from its disk, as Nova's hard reboot recreates the domain."""
        driver = self.driver_of(server)
        guest = self._guest(driver, server, None, self.network.ports_of(server.server_id))
        try:
            if action == "start":
                driver.power_on(guest)
            elif action == "resume":
                driver.resume(guest)
            else:
                driver.reboot(server.server_id, hard=True)
        except GuestNotFound:
            driver.spawn(guest)

    # -- delete --------------------------------------------------------------------------

    def run_delete(self, work: Work) -> None:
        server = self._server(work.resource_id)
        if server is None:
            return
        self._teardown(server.server_id)
        moment = now()
        with self.writing() as session:
            row = session.get(Server, server.server_id)
            if row is not None:
                row.deleted, row.vm_state, row.task_state = True, states.DELETED, None
                row.power_state, row.terminated_at, row.updated_at = 0, moment, moment
        self.notify(None, "instance.delete.end", payload(server))

    def _teardown(self, server_id: str) -> None:
        for driver in self.drivers:  # destroy of a guest a driver does not know is a no-op
            driver.destroy(server_id)
        self.network.deallocate_for_server(server_id)
        self.deps.placement.release(server_id)

    # -- power-state sync ----------------------------------------------------------------

    def sync_power_states(self) -> None:
        """A guest the driver no longer runs is shown SHUTOFF (Nova's periodic sync)."""
        with self.db.reader() as session:
            rows = list(
                session.scalars(
                    select(Server).where(
                        Server.host == self.host,
                        Server.deleted.is_(False),
                        Server.task_state.is_(None),
                    )
                )
            )
        for server in rows:
            state = self.driver_of(server).info(server.server_id).power_state
            if state == server.power_state:
                continue
            changes: dict[str, Any] = {"power_state": int(state)}
            if server.vm_state == states.ACTIVE and state in (
                PowerState.NOSTATE,
                PowerState.SHUTDOWN,
                PowerState.CRASHED,
            ):
                changes["vm_state"] = states.STOPPED
            self._set_if_idle(server.server_id, changes)

    def console_log(self, server_id: str, lines: int | None = None) -> str:
        server = self._server(server_id)
        if server is None:
            raise GuestNotFound(server_id)
        return self.driver_of(server).console_log(server_id, lines)

    # -- persistence helpers ---------------------------------------------------------------

    def _server(self, server_id: str) -> Server | None:
        with self.db.reader() as session:
            return session.get(Server, server_id)

    def _check_live(self, server_id: str) -> None:
        server = self._server(server_id)
        if server is None or server.deleted or server.task_state == "deleting":
            raise Handover

    def _set(self, server_id: str, **values: Any) -> None:
        with self.writing() as session:
            row = _locked(session, server_id)
            if row.task_state == "deleting":
                raise Handover
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = now()

    def _set_if_idle(self, server_id: str, values: dict[str, Any]) -> None:
        with self.writing() as session:
            row = _locked(session, server_id)
            if row.task_state is None and not row.deleted:
                for name, value in values.items():
                    setattr(row, name, value)
                row.updated_at = now()

    def _step(self, work: Work, step: str, detail: dict[str, Any]) -> None:
        self.agent_ownership.step(work.work_id, step, detail)

    def _finish(self, work: Work, server_id: str, **values: Any) -> None:
        """The work's last write and its release, together; Handover if deleting."""
        with self.writing() as session:
            row = _locked(session, server_id)
            if row.task_state == "deleting":
                raise Handover
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = now()
            self.agent_ownership.release(work.work_id, session)

    def _hand_over(self, work: Work) -> None:
        with self.writing() as session:
            row = session.get(Server, work.resource_id)
            queued = session.get(WorkRow, work_id(DELETE, work.resource_id))
            if row is not None and not row.deleted and queued is None:
                self.agent_ownership.enqueue(session, DELETE, work.resource_id)
            self.agent_ownership.release(work.work_id, session)


def owner_context(server: Server) -> RequestContext:
    """The agent acts for the server's owner (the request was checked when it was made)."""
    return RequestContext(
        user_id=server.user_id,
        user_domain_id="default",
        roles=frozenset({"member", "reader"}),
        project_id=server.project_id,
    )


def _locked(session: Any, server_id: str) -> Server:
    row = session.scalar(select(Server).where(Server.server_id == server_id).with_for_update())
    if row is None or row.deleted:
        raise Handover
    return row


def spec(server: Server, image: dict[str, Any], ports: list[dict[str, Any]]) -> GuestSpec:
    """What the driver needs to start `server` (the image as the build's work detail has it;
    the agent's image cache fills `path` for drivers that read disks, in the QEMU slice)."""
    flavor = server.flavor
    return GuestSpec(
        server_id=server.server_id,
        name=server.name,
        hostname=server.hostname,
        vcpus=int(flavor["vcpus"]),
        memory_mb=int(flavor["memory_mb"]),
        disk_gb=int(flavor["root_gb"]),
        image=BootImage(
            image_id=image.get("image_id", server.image_id),
            path=Path(),
            disk_format=image.get("disk_format", ""),
            container_format=image.get("container_format", ""),
            properties=dict(image.get("properties", {})),
        ),
        vifs=tuple(vif(port) for port in ports),
    )


def vif(port: dict[str, Any]) -> Vif:
    details = port.get("binding:vif_details") or {}
    return Vif(
        port_id=port["id"],
        mac_address=port.get("mac_address", ""),
        network_id=port.get("network_id", ""),
        devname=details.get("devname", ""),
        bridge=details.get("bridge_name", ""),
        netns=details.get("netns", ""),
        mtu=int(port.get("mtu") or 1500),
        fixed_ips=tuple(ip["ip_address"] for ip in port.get("fixed_ips", [])),
    )


class PowerSync:
    """A daemon thread running the power-state sync (and the service heartbeat) periodically."""

    def __init__(self, host: ComputeHost, interval_s: float) -> None:
        self.host = host
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="compute-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.host.sync_power_states()
                self.host.nodes.heartbeat(self.host.host)
            except Exception:  # the database may be away for a moment: next time
                log.exception("power-state sync failed")
