"""Assembles the cloud: schema, bootstrap, services, and the one-port server.

`setup()` runs once per start (migrations, bootstrap); `assemble()` builds the services and the
ASGI app in the process that serves them; `run()` serves it under uvicorn until SIGINT or
SIGTERM, in this process or in several workers (`onestack.workers`) beside an agent process
(`serve_agent`). Each service is built from its own public pieces only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from onestack import workers
from onestack.common import migrate
from onestack.common.agent import Agent, agent_kind
from onestack.common.auth import TokenValidator, context_reader
from onestack.common.bus import Bus, JsonLinesSink, LocalBus, Notifier
from onestack.common.context import RequestContext
from onestack.common.cors import with_cors
from onestack.common.db import Database
from onestack.common.guard import GuardedHttpToolsProtocol, sweep_forever
from onestack.common.http import root_app
from onestack.common.metrics import Metrics
from onestack.common.ops import healthcheck_app, metrics_app
from onestack.common.ownership import Heartbeat, Ownership
from onestack.common.policy import Policy
from onestack.common.quota import Quotas
from onestack.common.rpc import BusUnavailable, LocalRpc, Rpc
from onestack.compute.agent import ComputeAgent
from onestack.compute.api import MOUNT_PATH as COMPUTE_PATH
from onestack.compute.api import build_app as compute_app
from onestack.compute.api import routes as compute_routes
from onestack.compute.manager import ComputeManager, bootstrap_compute
from onestack.compute.manager.peers import GlanceImages
from onestack.compute.policy import load_policy as load_compute_policy
from onestack.identity.accounts import ACCOUNTS, DEFAULT_DOMAIN_ID
from onestack.identity.api import MOUNT_PATH as IDENTITY_PATH
from onestack.identity.api import build_app as identity_app
from onestack.identity.api import routes as identity_routes
from onestack.identity.bootstrap import (
    BootstrapResult,
    bootstrap,
    bootstrap_files,
    prepare_passwords,
)
from onestack.identity.keys import CREDENTIAL_KEYS, TOKEN_KEYS, KeyRing, load_keys
from onestack.identity.manager import IdentityManager
from onestack.identity.manager.projects import ProjectFilters
from onestack.identity.manager.tokens import TokenManager
from onestack.identity.policy import load_policy
from onestack.identity.tokens import TokenFormat
from onestack.image.api import MOUNT_PATH as IMAGE_PATH
from onestack.image.api import build_app as image_app
from onestack.image.api import routes as image_routes
from onestack.image.manager import ImageManager
from onestack.image.manager.stores import build_stores, process_local
from onestack.image.policy import load_policy as load_image_policy
from onestack.network.api import MOUNT_PATH as NETWORK_PATH
from onestack.network.api import build_app as network_app
from onestack.network.api import routes as network_routes
from onestack.network.errors import NoRegisteredLimit as NetworkNoRegisteredLimit
from onestack.network.manager import NetworkManager
from onestack.network.policy import load_policy as load_network_policy
from onestack.object import ring as object_ring
from onestack.object.api import MOUNT_PATH as OBJECT_PATH
from onestack.object.api import build_app as object_app
from onestack.object.api import routes as object_routes
from onestack.object.drivers import DRIVERS as OBJECT_DRIVERS
from onestack.object.drivers import ObjectStore
from onestack.object.drivers import make_store as make_object_store
from onestack.object.manager import ObjectStorage
from onestack.object.paths import ring_file
from onestack.oslib.routes import host_routes
from onestack.placement.api import MOUNT_PATH as PLACEMENT_PATH
from onestack.placement.api import build_app as placement_app
from onestack.placement.api import routes as placement_routes
from onestack.placement.manager import PlacementManager
from onestack.placement.policy import load_policy as load_placement_policy
from onestack.settings import Settings

IMAGE_AGENT = "image"
NETWORK_AGENT = "network"
COMPUTE_AGENT = "compute"
log = logging.getLogger("onestack.cloud")

# Every HTTP API the cloud serves: its mount path and its routes. Whatever must cover every
# route (the fuzz suite in tests/functional/test_fuzz.py) reads them here, so a new service
# that mounts its app in `assemble` adds its routes here too.
API_ROUTES: dict[str, Callable[[], list[BaseRoute]]] = {
    IDENTITY_PATH: identity_routes,
    IMAGE_PATH: image_routes,
    PLACEMENT_PATH: placement_routes,
    COMPUTE_PATH: compute_routes,
    NETWORK_PATH: network_routes,
    OBJECT_PATH: object_routes,
}


@dataclass
class Cloud:
    app: ASGIApp
    db: Database
    services: dict[str, str]
    bus: Bus | None = None
    rpc: Rpc | None = None
    heartbeat: Heartbeat | None = None
    agent: Agent | None = None
    compute_agent: ComputeAgent | None = None
    network_agent: Agent | None = None

    def close(self) -> None:
        if self.compute_agent is not None:
            self.compute_agent.stop()
        if self.network_agent is not None:
            self.network_agent.stop()
        shut_down(self.db, self.bus, self.rpc, self.heartbeat, self.agent)


def shut_down(
    db: Database,
    bus: Bus | None,
    rpc: Rpc | None,
    heartbeat: Heartbeat | None,
    agent: Agent | None,
) -> None:
    """Stop taking work and retire as an owner, then close the bus and the database."""
    for runner in (agent, heartbeat):
        if runner is not None:
            runner.stop()
    if heartbeat is not None:
        heartbeat.ownership.retire()
    for part in (rpc, bus):
        if part is not None:
            part.close()
    db.dispose()


def setup(settings: Settings) -> BootstrapResult:
    """Create the state dir, migrate the schema and bootstrap identity; once per start.

    With several workers this runs in a short-lived child process: the supervisor's memory is
    what every worker starts from, and it should hold none of what setup leaves behind
    (Alembic on a first start, the bootstrap's ORM objects and freed memory that workers would
    write into and so copy).
    """
    if settings.workers > 1:
        workers.run_in_child(lambda: _setup(settings))
        return bootstrap_files(settings.state_dir)
    return _setup(settings)


def _setup(settings: Settings) -> BootstrapResult:
    settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    passwords = prepare_passwords(settings.state_dir)  # on a first start, hashed meanwhile
    migrate.upgrade(settings.sqlalchemy_url)
    local = process_local(settings.image)
    if local and settings.workers > 1:
        raise SystemExit(f"The {local[0]} image store keeps data in one process: use --workers 1.")
    # Every worker must sign and decrypt with the same keys: create them before any fork.
    load_keys(settings.state_dir / TOKEN_KEYS)
    load_keys(settings.state_dir / CREDENTIAL_KEYS)
    if settings.workers > 1 and object_store_driver(settings).process_local:
        raise SystemExit("The memory object store keeps data in one process: use --workers 1.")
    ensure_ring(settings)
    db = Database(settings.sqlalchemy_url)
    try:
        result = bootstrap(
            db, settings.state_dir, settings.base_url, settings.identity.region, passwords
        )
        # Uploads, stages and imports of processes that are gone are settled before serving;
        # another process on this database may be running, and keeps its own.
        image = image_manager(settings, db, Notifier(LocalBus(), "image"))
        image.recover()
        image.ownership.retire()
        if settings.network.bootstrap:
            bootstrap_network(settings, db)
        bootstrap_compute(db, settings.compute)  # DevStack's flavors
        image.metadef_defaults.load()  # the shipped namespaces that are missing
        return result
    finally:
        db.dispose()  # workers fork after this; none may inherit an open connection


def bootstrap_network(settings: Settings, db: Database) -> None:
    """The external network and the demo project's network and router, where missing."""
    identity = identity_manager(settings, db, LocalBus())
    admin = identity.cloud_admin()
    demo = ProjectFilters(name=ACCOUNTS[1].project, domain_id=DEFAULT_DOMAIN_ID)
    demo_project = identity.projects.list(demo)[0].project
    network = network_manager(settings, db, LocalBus(), None, None, load_network_policy(settings))
    routes = [(route.interface, route.destination) for route in host_routes()]
    network.bootstrap(admin.project_id, demo_project.project_id, routes)


def assemble(settings: Settings, with_agent: bool = True) -> Cloud:
    """Build every service's manager and the one-port app, in the process that serves it;
    `with_agent`, also the image agent, on this process's threads."""
    db = Database(settings.sqlalchemy_url)
    bus = make_bus(settings)
    rpc = make_rpc(settings)
    ownership = Ownership(db, "api", settings.agent.lease_s)
    identity, image = managers(settings, db, bus, ownership)
    placement = PlacementManager(db, Notifier(bus, "placement"))
    heartbeat = own_work(image)
    agent = start_agent(settings, image, rpc) if with_agent else None
    if agent is not None or settings.bus.url is not None:  # else the agent process polls
        image.imports.wake_agent = waker(rpc, IMAGE_AGENT)
    network_policy = load_network_policy(settings)
    network = network_manager(settings, db, bus, identity, ownership, network_policy)
    network_agent = start_network_agent(settings, network, rpc) if with_agent else None
    if network_agent is not None or settings.bus.url is not None:
        network.set_waker(waker(rpc, NETWORK_AGENT))
    quotas = Quotas(identity.limits, settings.identity.region)
    peers = ComputePeers(image, network, placement)
    compute = compute_manager(settings, db, Notifier(bus, "compute"), peers, quotas, rpc)
    compute_agent = start_compute_agent(settings, compute, rpc) if with_agent else None
    if compute_agent is not None or settings.bus.url is not None:
        compute.servers.wake_agent = waker(rpc, COMPUTE_AGENT)
    metrics = Metrics(settings.metrics_dir if settings.workers > 1 else None)
    # Every service but identity (which reads its own tokens) is handed this one reader.
    reader = context_reader(token_validator(identity.tokens))
    mounts = {
        IDENTITY_PATH: identity_app(identity, load_policy(settings)),
        IMAGE_PATH: image_app(image, load_image_policy(settings), reader),
        PLACEMENT_PATH: placement_app(placement, load_placement_policy(settings), reader),
        COMPUTE_PATH: compute_app(compute, load_compute_policy(settings), reader),
        NETWORK_PATH: network_app(network, network_policy, reader),
        OBJECT_PATH: object_app(object_storage(settings, db, bus), reader),
        "/healthcheck": healthcheck_app({"database": db.ping}),
        "/metrics": metrics_app(metrics),
    }
    app = with_cors(root_app(mounts, metrics), settings.cors)
    services = service_urls(settings)
    return Cloud(
        app,
        db,
        services,
        bus=bus,
        rpc=rpc,
        heartbeat=heartbeat,
        agent=agent,
        compute_agent=compute_agent,
        network_agent=network_agent,
    )


def ensure_ring(settings: Settings) -> None:
    """On a first start, the object ring: `[object] nodes` nodes, one device and zone each."""
    path = ring_file(settings.state_dir)
    if not path.exists():
        conf = settings.object
        object_ring.save(object_ring.initial(conf.part_power, conf.replicas, conf.nodes), path)


def object_store_driver(settings: Settings) -> type[ObjectStore]:
    found = OBJECT_DRIVERS.get(settings.object.driver)
    if found is None:
        known = ", ".join(OBJECT_DRIVERS)
        raise SystemExit(f"Unknown object store driver {settings.object.driver!r}; known: {known}.")
    return found


def object_nodes(settings: Settings) -> list[str]:
    """The storage nodes the ring names (each a process `onestack up` starts)."""
    if settings.object.driver != "ring":
        return []
    return sorted({d.node for d in object_ring.load(ring_file(settings.state_dir)).devices})


def object_storage(settings: Settings, db: Database, bus: Bus) -> ObjectStorage:
    store = make_object_store(settings.object, settings.state_dir)
    return ObjectStorage(db, Notifier(bus, "object"), store)


def waker(rpc: Rpc, agent: str) -> Callable[[], None]:
    """Casts `wake` to `agent`; a bus that is away only delays the work to the agent's poll."""

    def wake() -> None:
        try:
            rpc.cast(agent, "wake")
        except BusUnavailable:
            log.warning("could not wake the %s agent: the bus is not reachable", agent)

    return wake


def own_work(image: ImageManager) -> Heartbeat:
    """Register this process as the owner of the work it starts and keep its lease; each beat
    (and now: a replaced worker's work is taken over at once) puts back dead owners' work."""
    image.ownership.register()
    image.reap()
    heartbeat = Heartbeat(image.ownership, sweep=image.reap)
    heartbeat.start()
    return heartbeat


def start_agent(settings: Settings, image: ImageManager, rpc: Rpc | None) -> Agent:
    """The image agent: runs queued imports and resumes those a dead agent left."""
    ownership = Ownership(image.ownership.db, agent_kind(IMAGE_AGENT), settings.agent.lease_s)
    agent = Agent(
        IMAGE_AGENT,
        ownership,
        image.agent_handlers(),
        poll_s=settings.agent.poll_s,
        threads=settings.agent.threads,
    )
    agent.start(rpc)
    return agent


def start_compute_agent(
    settings: Settings, compute: ComputeManager, rpc: Rpc | None
) -> ComputeAgent:
    """This host's compute agent: registers its node, runs builds, actions and deletes."""
    agent = ComputeAgent(compute, settings)
    agent.start(rpc)
    return agent


def network_manager(
    settings: Settings,
    db: Database,
    bus: Bus,
    identity: IdentityManager | None,
    ownership: Ownership | None,
    policy: Policy,
) -> NetworkManager:
    """The network service; its facade asks policy whether a caller is a network admin, and
    it enforces identity's unified limits when `identity` is given."""
    quotas = Quotas(identity.limits, settings.identity.region) if identity else None

    def is_admin(ctx: RequestContext) -> bool:
        return policy.allowed("context_is_admin", ctx.credentials(), {})

    writer = IdentityLimits(identity) if identity else None
    return NetworkManager(
        db,
        settings.network,
        Notifier(bus, "network"),
        quotas,
        ownership,
        is_admin,
        limit_writer=writer,
    )


class IdentityLimits:
    """A service's quota API writing a project's own limits as identity's unified limits
    (network's `LimitWriter`), through identity's public managers."""

    def __init__(self, identity: IdentityManager) -> None:
        self.identity = identity

    def _service_id(self, service: str) -> str:
        found = self.identity.catalog.list_services(type=service)
        if not found:
            raise NetworkNoRegisteredLimit(service)
        return found[0].service_id

    def set_project_limits(
        self, ctx: RequestContext, project_id: str, service: str, values: Mapping[str, int]
    ) -> None:
        service_id = self._service_id(service)
        limits = self.identity.limits
        existing = {v.resource_name: v for v in limits.list(service_id, project_id=project_id)}
        for name, value in values.items():
            if name in existing:
                limits.update(ctx, existing[name].limit_id, {"resource_limit": value})
                continue
            registered = limits.list_registered(service_id, resource_name=name)
            if not registered:
                raise NetworkNoRegisteredLimit(name)
            fields = {
                "project_id": project_id,
                "service_id": service_id,
                "region_id": registered[0].region_id,
                "resource_name": name,
                "resource_limit": value,
            }
            limits.create(ctx, [fields])

    def clear_project_limits(self, ctx: RequestContext, project_id: str, service: str) -> None:
        service_id = self._service_id(service)
        for view in self.identity.limits.list(service_id, project_id=project_id):
            self.identity.limits.delete(ctx, view.limit_id)


def start_network_agent(settings: Settings, network: NetworkManager, rpc: Rpc | None) -> Agent:
    """The network agent: plugs ports through the dataplane and marks them ACTIVE."""
    ownership = Ownership(network.ownership.db, agent_kind(NETWORK_AGENT), settings.agent.lease_s)
    agent = Agent(
        NETWORK_AGENT,
        ownership,
        network.agent_handlers(),
        poll_s=settings.agent.poll_s,
        threads=settings.agent.threads,
    )
    agent.start(rpc)
    return agent


@dataclass(frozen=True)
class ComputePeers:
    """The services compute calls, by their public managers."""

    image: ImageManager
    network: NetworkManager
    placement: PlacementManager


def compute_manager(
    settings: Settings,
    db: Database,
    notifier: Notifier,
    peers: ComputePeers,
    quotas: Quotas | None = None,
    rpc: Rpc | None = None,
) -> ComputeManager:
    """The compute service over the image, network and placement services' managers."""
    ownership = Ownership(db, "api", settings.agent.lease_s)
    return ComputeManager(
        db,
        settings.compute,
        notifier,
        GlanceImages(peers.image),
        ownership,
        network=peers.network,
        placement=peers.placement,
        quotas=quotas,
        rpc=rpc,
    )


def serve_network_agent(settings: Settings) -> None:
    """A network agent process (beside several workers, or `onestack agent network`)."""
    db = Database(settings.sqlalchemy_url)
    bus = make_bus(settings)
    rpc = make_rpc(settings) if settings.bus.url is not None else None
    network = network_manager(settings, db, bus, None, None, load_network_policy(settings))
    agent = start_network_agent(settings, network, rpc)
    try:
        workers.wait_for_stop_signal()
    finally:
        agent.stop()
        shut_down(db, bus, rpc, None, None)


def serve_agent(settings: Settings) -> None:
    """An agent process (beside several workers, or `onestack agent image`): runs until
    SIGTERM or SIGINT."""
    db = Database(settings.sqlalchemy_url)
    bus = make_bus(settings)
    rpc = make_rpc(settings) if settings.bus.url is not None else None
    # The owner of the agent's partial files; the agent itself is owner `agent:image`.
    ownership = Ownership(db, "agent-data", settings.agent.lease_s)
    image = image_manager(settings, db, Notifier(bus, "image"), ownership=ownership)
    heartbeat = own_work(image)
    agent = start_agent(settings, image, rpc)
    try:
        workers.wait_for_stop_signal()
    finally:
        shut_down(db, bus, rpc, heartbeat, agent)


def serve_compute_agent(settings: Settings) -> None:
    """A compute agent process (beside several workers, or `onestack agent compute`): this
    host's builds, power actions and deletes, until SIGTERM or SIGINT."""
    db = Database(settings.sqlalchemy_url)
    bus = make_bus(settings)
    rpc = make_rpc(settings) if settings.bus.url is not None else None
    image = image_manager(settings, db, Notifier(bus, "image"))
    network = network_manager(settings, db, bus, None, None, load_network_policy(settings))
    peers = ComputePeers(image, network, PlacementManager(db, Notifier(bus, "placement")))
    compute = compute_manager(settings, db, Notifier(bus, "compute"), peers, rpc=rpc)
    agent = start_compute_agent(settings, compute, rpc)
    try:
        workers.wait_for_stop_signal()
    finally:
        agent.stop()
        shut_down(db, bus, rpc, None, None)


def managers(
    settings: Settings, db: Database, bus: Bus, ownership: Ownership | None = None
) -> tuple[IdentityManager, ImageManager]:
    """Each service's manager (its public Python interface) over one database and bus;
    `ownership` is this process as the owner of the work it starts."""
    identity = identity_manager(settings, db, bus)
    quotas = Quotas(identity.limits, settings.identity.region)
    image = image_manager(settings, db, Notifier(bus, "image"), quotas, ownership)
    return identity, image


def identity_manager(settings: Settings, db: Database, bus: Bus) -> IdentityManager:
    token_format = TokenFormat(KeyRing(settings.state_dir / TOKEN_KEYS))
    return IdentityManager(
        db, token_format, settings.identity, Notifier(bus, "identity"), settings.state_dir
    )


def service_urls(settings: Settings) -> dict[str, str]:
    return {
        "identity": f"{settings.base_url}{IDENTITY_PATH}",
        "image": f"{settings.base_url}{IMAGE_PATH}",
        "placement": f"{settings.base_url}{PLACEMENT_PATH}",
        "compute": f"{settings.base_url}{COMPUTE_PATH}/v2.1",
        "network": f"{settings.base_url}{NETWORK_PATH}",
        "object-store": f"{settings.base_url}{OBJECT_PATH}/info",
    }


def image_manager(
    settings: Settings,
    db: Database,
    notifier: Notifier,
    quotas: Quotas | None = None,
    ownership: Ownership | None = None,
) -> ImageManager:
    """The image service over its configured store, enforcing `quotas` when given."""
    stores = build_stores(settings.image, settings.image_store_dir, settings.image_staging_dir)
    ownership = ownership or Ownership(db, "api", settings.agent.lease_s)
    return ImageManager(db, stores, settings.image, notifier, quotas, ownership)


def token_validator(tokens: TokenManager) -> TokenValidator:
    """X-Auth-Token validation for the other services, through identity's token manager."""

    def validate(token_id: str) -> RequestContext:
        return tokens.validate(token_id).context()

    return validate


def make_bus(settings: Settings) -> Bus:
    """In-process, or AMQP when `[bus] url` is set; the notifications file subscribes to it."""
    bus: Bus = LocalBus()
    if settings.bus.url is not None:
        from onestack.common.amqp import AmqpBus  # kombu costs ~0.1 s to import: only when used

        # The workers of one cloud share one subscription queue, so each notification
        # reaches one of them (and the notifications file once).
        cloud_id = hashlib.sha256(str(settings.state_dir).encode()).hexdigest()[:12]
        bus = AmqpBus(
            settings.bus.url,
            topic=settings.bus.notifications_topic,
            exchange=settings.bus.notifications_exchange,
            durable=settings.bus.durable,
            max_pending=settings.bus.max_pending,
            subscription=f"onestack-subscriber-{socket.gethostname()}-{cloud_id}",
        )
    if settings.bus.notifications_file is not None:
        bus.subscribe("*", JsonLinesSink(settings.bus.notifications_file))
    return bus


def make_rpc(settings: Settings) -> Rpc:
    """RPC between services and agents: in-process, or AMQP when `[bus] url` is set."""
    if settings.bus.url is None:
        return LocalRpc(timeout_s=settings.bus.rpc_timeout_s)
    from onestack.common.rpc_amqp import AmqpRpc

    return AmqpRpc(
        settings.bus.url, exchange=settings.bus.rpc_exchange, timeout_s=settings.bus.rpc_timeout_s
    )


def run(settings: Settings, on_ready: Callable[[], None]) -> int:
    """Serve the APIs until a stop signal, in this process or in `settings.workers` workers."""
    if settings.workers == 1:
        serve(settings, assemble(settings), on_ready)
        return 0
    sock = workers.bind(settings.host, settings.port)
    shutil.rmtree(settings.metrics_dir, ignore_errors=True)  # counts start again with the server
    settings.metrics_dir.mkdir(parents=True)

    def ready() -> None:
        write_run_file(settings.run_file, settings, service_urls(settings))
        on_ready()

    _preload_server(settings)
    try:
        return workers.supervise(
            settings.workers,
            lambda: _serve_worker(settings, sock),
            ready,
            agents=[
                lambda: serve_agent(settings),
                lambda: serve_network_agent(settings),
                lambda: serve_compute_agent(settings),
            ],
        )
    finally:
        settings.run_file.unlink(missing_ok=True)
        sock.close()


def _preload_server(settings: Settings) -> None:
    """Import what a worker would import when it starts serving (uvicorn's lifespan and loop,
    the threadpool's backend, the database driver), so that workers share these modules with
    the supervisor instead of each importing its own copy after the fork."""
    import anyio._backends._asyncio  # noqa: F401  (run_in_threadpool's backend)
    from sqlalchemy.engine import make_url
    from uvicorn.config import LIFESPAN, LOOP_FACTORIES
    from uvicorn.importer import import_from_string

    import_from_string(LIFESPAN["off"])
    import_from_string(LOOP_FACTORIES["auto"])()  # imports uvloop when it is installed
    make_url(settings.sqlalchemy_url).get_dialect().import_dbapi()


def _serve_worker(settings: Settings, sock: socket.socket) -> None:
    # The agent is a process of its own beside the workers (`serve_agent`).
    serve(settings, assemble(settings, with_agent=False), on_ready=lambda: None, sock=sock)


def serve(
    settings: Settings,
    cloud: Cloud,
    on_ready: Callable[[], None],
    sock: socket.socket | None = None,
) -> None:
    """Serve until a stop signal; `on_ready()` runs once the port accepts connections.

    With `sock` (a worker of several) the socket is already bound and the supervisor keeps
    the run file; alone, this process binds the port and records itself.
    """
    config = uvicorn.Config(
        cloud.app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="none",  # no API speaks WebSocket; "auto" would import the websockets package
        server_header=False,
        http=GuardedHttpToolsProtocol,  # header block and body in one write; deadlines
        # uvicorn answers 503 once this many connections are open, this one included.
        limit_concurrency=settings.server.max_connections + 1,
    )
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock] if sock else None))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        workers.accept_stop_signals()  # uvicorn's handlers are in place (a worker's were held)
        if server.started:
            if sock is None:
                write_run_file(settings.run_file, settings, cloud.services)
            on_ready()
        guard = asyncio.create_task(
            sweep_forever(
                server.server_state.connections,
                settings.server.header_timeout_s,
                settings.server.body_idle_timeout_s,
            )
        )
        try:
            await task
        finally:
            guard.cancel()

    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the handler
    # that was installed before it; a quiet handler makes a requested stop exit with status 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    try:
        # uvicorn's own choice of loop (uvloop when installed, which answers requests faster
        # than asyncio's); asyncio.run() would always make asyncio's.
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            runner.run(run())
    finally:
        if sock is None:
            settings.run_file.unlink(missing_ok=True)
        cloud.close()
    if not server.started:
        raise SystemExit(f"onestack could not listen on {settings.host}:{settings.port}")


def write_run_file(path: Path, settings: Settings, services: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "pid": os.getpid(),
        "url": settings.base_url,
        "services": services,
        "database": settings.sqlalchemy_url.split("@")[-1],
    }
    path.write_text(json.dumps(record, indent=2))
