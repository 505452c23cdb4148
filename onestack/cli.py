"""The `onestack` command: `up`, `serve api`, `agent image`, `status`, `db upgrade`,
`image metadefs load`,
`policy dump`, `token`, `host-clean`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from onestack.common import logs
from onestack.identity import keys
from onestack.oslib import process
from onestack.settings import Settings, load_settings

# Kept past the longest lifetime of what a retired key encrypted, for processes yet to notice.
KEY_RETIRE_MARGIN_S = 60


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings(
        state_dir=args.state_dir,
        database_url=args.database_url,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        public_url=getattr(args, "public_url", None),
        workers=getattr(args, "workers", None),
        bus_url=getattr(args, "bus_url", None),
    )
    return int(args.handler(settings, args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onestack", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--state-dir",
        type=Path,
        help="state directory (default ~/.local/share/onestack, or $ONESTACK_STATE_DIR)",
    )
    common.add_argument(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql://user@host/db (default: SQLite in the state dir)",
    )
    commands = parser.add_subparsers(required=True, metavar="command")

    serving = argparse.ArgumentParser(add_help=False, parents=[common])
    serving.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serving.add_argument("--port", type=int, help="port to listen on (default 5000)")
    serving.add_argument("--public-url", help="base URL published in the catalog")
    serving.add_argument("--workers", type=int, help="API worker processes (default 1)")
    serving.add_argument(
        "--bus-url",
        help="AMQP URL of the message bus, e.g. amqp://guest:guest@127.0.0.1:5672// "
        "(default: in-process)",
    )

    up = commands.add_parser(
        "up", parents=[serving], help="bootstrap if needed and serve the cloud"
    )
    up.set_defaults(handler=cmd_up)

    serve = commands.add_parser("serve", help="run one part of a scaled-out cloud")
    serve_commands = serve.add_subparsers(required=True, metavar="part")
    api = serve_commands.add_parser(
        "api", parents=[serving], help="the API processes of a controller (no agents)"
    )
    api.set_defaults(handler=cmd_up)

    bus = argparse.ArgumentParser(add_help=False, parents=[common])
    bus.add_argument("--bus-url", help="AMQP URL of the message bus (default: none; it polls)")
    agent = commands.add_parser("agent", help="run an agent process of a scaled-out cloud")
    agent_kinds = agent.add_subparsers(required=True, metavar="kind")
    image_agent = agent_kinds.add_parser(
        "image", parents=[bus], help="runs image imports, and resumes those a dead agent left"
    )
    image_agent.set_defaults(handler=cmd_agent)
    network_agent = agent_kinds.add_parser(
        "network", parents=[bus], help="plugs ports through the host's dataplane driver"
    )
    network_agent.set_defaults(handler=cmd_network_agent)
    compute_agent = agent_kinds.add_parser(
        "compute", parents=[bus], help="builds, powers and deletes this host's servers"
    )
    compute_agent.set_defaults(handler=cmd_compute_agent)

    status = commands.add_parser("status", parents=[common], help="what runs where, and answers")
    status.set_defaults(handler=cmd_status)

    host_clean = commands.add_parser(
        "host-clean", parents=[common], help="remove everything the dataplane made on this host"
    )
    host_clean.set_defaults(handler=cmd_host_clean)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(required=True, metavar="action")
    upgrade = db_commands.add_parser("upgrade", parents=[common], help="apply schema migrations")
    upgrade.set_defaults(handler=cmd_db_upgrade)

    policy = commands.add_parser("policy", help="the API policy")
    policy_commands = policy.add_subparsers(required=True, metavar="action")
    dump = policy_commands.add_parser(
        "dump", parents=[common], help="write the default policy, to override rule by rule"
    )
    dump.add_argument("--output", type=Path, help="file to write (default: standard output)")
    dump.add_argument(
        "--service",
        choices=["identity", "image", "placement", "network", "compute"],
        default="identity",
        help="whose policy",
    )
    dump.set_defaults(handler=cmd_policy_dump)
    token = commands.add_parser("token", help="token and credential keys")
    token_commands = token.add_subparsers(required=True, metavar="action")
    rotate = token_commands.add_parser(
        "rotate-keys",
        parents=[common],
        help="new primary token and credential keys; tokens still valid stay valid",
    )
    rotate.set_defaults(handler=cmd_token_rotate_keys)
    _object_commands(commands, common)
    images = commands.add_parser("images", help="onestack's own guest images")
    images_commands = images.add_subparsers(required=True, metavar="action")
    build = images_commands.add_parser(
        "build",
        parents=[common],
        help="build the guest images from Debian packages (skipped when up to date)",
    )
    build.add_argument(
        "--output", type=Path, help="directory for the images (default <state_dir>/guest-images)"
    )
    build.set_defaults(handler=cmd_images_build)
    register = images_commands.add_parser(
        "register",
        parents=[common],
        help="build the guest images if needed and register them as public images",
    )
    register.set_defaults(handler=cmd_images_register)
    image = commands.add_parser("image", help="the image service's catalog")
    image_commands = image.add_subparsers(required=True, metavar="what")
    metadefs = image_commands.add_parser("metadefs", help="the metadata definitions catalog")
    metadefs_commands = metadefs.add_subparsers(required=True, metavar="action")
    load = metadefs_commands.add_parser(
        "load",
        parents=[common],
        help="(re)load the shipped namespaces as shipped; others are left alone",
    )
    load.set_defaults(handler=cmd_image_metadefs_load)
    return parser


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    from onestack import cloud

    logs.configure(settings.log_level)
    print(f"onestack: state in {settings.state_dir}", flush=True)
    result = cloud.setup(settings)

    def ready() -> None:
        print(f"onestack: credentials in {result.credentials_file}", flush=True)
        print(f"onestack: clouds.yaml at {result.clouds_file}", flush=True)
        print(f"onestack: export OS_CLIENT_CONFIG_FILE={result.clouds_file}", flush=True)
        for service, url in cloud.service_urls(settings).items():
            print(f"onestack: {service} at {url}", flush=True)
        workers = f", {settings.workers} workers" if settings.workers > 1 else ""
        print(
            f"onestack: up on {settings.base_url} (pid {os.getpid()}{workers}); Ctrl-C stops",
            flush=True,
        )

    builder: list[process.Child] = _start_object_nodes(settings)

    def ready_then_images() -> None:
        ready()
        if settings.image.guest_images:
            # In its own process, so the API answers at once and a failed build harms nothing.
            child = process.start(_self_command(settings, "images", "register"))
            # Reaped as soon as it ends, or it would stay a zombie until the cloud stops.
            threading.Thread(target=child.wait, name="guest-images", daemon=True).start()
            builder.append(child)

    status = cloud.run(settings, ready_then_images)
    for child in builder:
        if child.poll() is None:
            child.terminate()
        child.wait()
    print("onestack: stopped", flush=True)
    return status


def _start_object_nodes(settings: Settings) -> list[process.Child]:
    """One process per storage node of the ring; returns once each listens."""
    from onestack import cloud
    from onestack.object.paths import address_file

    children, deadline = [], time.monotonic() + settings.object.node_start_timeout_s
    for node in cloud.object_nodes(settings):
        address_file(settings.state_dir, node).unlink(missing_ok=True)
        children.append(process.start(_self_command(settings, "object", "node", node)))
    for node in cloud.object_nodes(settings):
        while not address_file(settings.state_dir, node).exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"onestack: storage node {node} did not start")
            time.sleep(0.05)
    return children


def _object_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    obj = commands.add_parser("object", help="object storage: its ring and storage nodes")
    actions = obj.add_subparsers(required=True, metavar="action")
    node = actions.add_parser("node", parents=[common], help="run one storage node")
    node.add_argument("node", help="the node's name in the ring (node1, ...)")
    node.set_defaults(handler=cmd_object_node)
    ring = actions.add_parser("ring", help="the ring: devices and partitions")
    ring_actions = ring.add_subparsers(required=True, metavar="action")
    show = ring_actions.add_parser("show", parents=[common], help="devices and their shares")
    show.set_defaults(handler=cmd_ring_show)
    add = ring_actions.add_parser("add", parents=[common], help="add a device (then rebalance)")
    add.add_argument("node")
    add.add_argument("--device", default="d0")
    add.add_argument("--zone", type=int, required=True)
    add.add_argument("--weight", type=float, default=100.0)
    add.set_defaults(handler=cmd_ring_add)
    remove = ring_actions.add_parser("remove", parents=[common], help="remove a device")
    remove.add_argument("device_id", type=int)
    remove.set_defaults(handler=cmd_ring_remove)
    rebalance = ring_actions.add_parser("rebalance", parents=[common], help="reassign partitions")
    rebalance.set_defaults(handler=cmd_ring_rebalance)


def cmd_object_node(settings: Settings, args: argparse.Namespace) -> int:
    from onestack.object import node

    logs.configure(settings.log_level)
    node.serve(settings.state_dir, args.node)
    return 0


def cmd_ring_show(settings: Settings, args: argparse.Namespace) -> int:
    from onestack.object import ring as rings
    from onestack.object.paths import ring_file

    ring = rings.load(ring_file(settings.state_dir))
    held = Counter(i for devs in ring.parts for i in devs)
    print(f"partitions {len(ring.parts)} (power {ring.part_power}), replicas {ring.replicas}")
    for d in ring.devices:
        print(f"  {d.device_id:>3} {d.node}/{d.name} zone {d.zone} weight {d.weight:g} "
              f"partitions {held[d.device_id]}")  # fmt: skip
    return 0


def _change_ring(settings: Settings, change: Any) -> int:
    from onestack.object import ring as rings
    from onestack.object.paths import ring_file

    path = ring_file(settings.state_dir)
    ring = rings.load(path)
    try:
        message = change(ring)
    except KeyError as exc:
        print(f"onestack: no device {exc}", file=sys.stderr)
        return 1
    rings.save(ring, path)
    print(message)
    return 0


def cmd_ring_add(settings: Settings, args: argparse.Namespace) -> int:
    def add(ring: Any) -> str:
        device = ring.add(args.node, args.device, args.zone, args.weight)
        return f"added device {device.device_id}; rebalance to give it partitions"

    return _change_ring(settings, add)


def cmd_ring_remove(settings: Settings, args: argparse.Namespace) -> int:
    def remove(ring: Any) -> str:
        ring.remove(args.device_id)
        return f"removed device {args.device_id}; rebalance to move its partitions"

    return _change_ring(settings, remove)


def cmd_ring_rebalance(settings: Settings, args: argparse.Namespace) -> int:
    return _change_ring(settings, lambda ring: f"{ring.rebalance()} partition replicas moved")


def _self_command(settings: Settings, *command: str) -> process.Command:
    """This `onestack`, run again on the same state dir and database."""
    found = [sys.executable, "-m", "onestack.cli", *command, "--state-dir", str(settings.state_dir)]
    if settings.database_url:
        found += ["--database-url", settings.database_url]
    return process.Command(tuple(found))


def cmd_agent(settings: Settings, args: argparse.Namespace) -> int:
    """Run the image agent in this process until SIGTERM or SIGINT."""
    from onestack import cloud
    from onestack.common import migrate

    logs.configure(settings.log_level)
    migrate.upgrade(settings.sqlalchemy_url)
    print(f"onestack: image agent running (pid {os.getpid()})", flush=True)
    cloud.serve_agent(settings)
    return 0


def cmd_compute_agent(settings: Settings, args: argparse.Namespace) -> int:
    """Run this host's compute agent in this process until SIGTERM or SIGINT."""
    from onestack import cloud
    from onestack.common import migrate

    logs.configure(settings.log_level)
    migrate.upgrade(settings.sqlalchemy_url)
    print(f"onestack: compute agent running (pid {os.getpid()})", flush=True)
    cloud.serve_compute_agent(settings)
    return 0


def cmd_network_agent(settings: Settings, args: argparse.Namespace) -> int:
    """Run the network agent in this process until SIGTERM or SIGINT."""
    from onestack import cloud
    from onestack.common import migrate

    logs.configure(settings.log_level)
    migrate.upgrade(settings.sqlalchemy_url)
    print(f"onestack: network agent running (pid {os.getpid()})", flush=True)
    cloud.serve_network_agent(settings)
    return 0


def cmd_host_clean(settings: Settings, args: argparse.Namespace) -> int:
    """Remove the dataplane's namespaces, links, chains, daemons and files (and nothing else);
    refused while this state directory's cloud runs, whose agent would make them again."""
    from onestack.common.ownership import pid_running
    from onestack.network.drivers.linuxbridge import LinuxBridgeDataplane

    if settings.run_file.exists() and pid_running(json.loads(settings.run_file.read_text())["pid"]):
        print("onestack is running here; stop it before host-clean", file=sys.stderr)
        return 1
    dataplane = LinuxBridgeDataplane.from_settings(settings.network)
    found = dataplane.host_inventory()
    dataplane.host_clean()
    for kind, items in found.items():
        print(f"removed {len(items)} {kind}" + "".join(f"\n  {item}" for item in items))
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    """Print each service's URL and whether it answers; non-zero when the cloud is down."""
    from onestack.common.ownership import pid_running

    if not settings.run_file.exists():
        print(f"onestack is not running (no {settings.run_file})")
        return 3
    record = json.loads(settings.run_file.read_text())
    alive = pid_running(record["pid"])
    print(
        f"onestack pid {record['pid']} ({'running' if alive else 'gone'}), "
        f"database {record['database']}"
    )
    healthy = alive
    for service, url in record["services"].items():
        answer = _probe(url)
        healthy = healthy and answer.startswith("answers")
        print(f"  {service:<10} {url:<45} {answer}")
    for kind, pid, host in _agents(settings):
        print(f"  agent {kind:<10} pid {pid:<8} host {host}")
    for node, pid, url in _object_nodes(settings):
        state = "running" if pid_running(pid) else "gone"
        print(f"  object node {node:<6} pid {pid:<8} {url} ({state})")
    return 0 if healthy else 1


def _object_nodes(settings: Settings) -> list[tuple[str, int, str]]:
    """The storage nodes that recorded themselves: name, pid and URL."""
    found = []
    for record in sorted((settings.state_dir / "run" / "object-nodes").glob("*.json")):
        try:
            data = json.loads(record.read_text())
        except (OSError, ValueError):
            continue
        found.append((record.stem, int(data["pid"]), str(data["url"])))
    return found


def _agents(settings: Settings) -> list[tuple[str, int, str]]:
    """The agents that are alive: their kind, pid and host."""
    from sqlalchemy.exc import SQLAlchemyError

    from onestack.common.agent import AGENT_KIND
    from onestack.common.db import Database
    from onestack.common.ownership import Ownership

    db = Database(settings.sqlalchemy_url)
    try:
        owners = Ownership(db, "status").live_owners()
    except SQLAlchemyError as exc:  # the services' answers above already tell what is down
        print(f"  agents unknown: the database does not answer ({type(exc).__name__})")
        return []
    finally:
        db.dispose()
    return [
        (owner.kind.removeprefix(AGENT_KIND), owner.pid, owner.host)
        for owner in owners
        if owner.kind.startswith(AGENT_KIND)
    ]


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from onestack.common import migrate

    migrate.upgrade(settings.sqlalchemy_url)
    print("onestack: database schema is current")
    return 0


def cmd_policy_dump(settings: Settings, args: argparse.Namespace) -> int:
    """The shipped defaults (the shared personas, then the service's rules), verbatim; an
    operator copies what they change to the override."""
    import importlib

    from onestack.common.policy import PERSONAS_FILE

    policy = importlib.import_module(f"onestack.{args.service}.policy")
    text = PERSONAS_FILE.read_text() + "\n" + policy.DEFAULT_POLICY_FILE.read_text()
    output: Path | None = args.output
    if output is None:
        sys.stdout.write(text)
        return 0
    output.write_text(text)
    override = policy.override_file(settings)
    print(f"onestack: defaults written to {output}; overrides go in {override}")
    return 0


def cmd_token_rotate_keys(settings: Settings, args: argparse.Namespace) -> int:
    """Rotate both key repositories; running processes pick the new keys up by themselves."""
    from onestack.common.bus import LocalBus, Notifier
    from onestack.common.db import Database
    from onestack.identity.manager.base import IdentityDeps
    from onestack.identity.manager.credentials import CredentialManager

    # A retired token key must outlive every token it signed: the token lifetime plus a margin.
    retire_after_s = settings.identity.token_expiration_s + KEY_RETIRE_MARGIN_S
    tokens = keys.rotate(settings.state_dir / keys.TOKEN_KEYS, retire_after_s)
    print(f"onestack: token keys: new primary key {tokens.primary}{_retired(tokens)}", flush=True)
    credentials = keys.rotate(settings.state_dir / keys.CREDENTIAL_KEYS, KEY_RETIRE_MARGIN_S)
    print(
        f"onestack: credential keys: new primary key {credentials.primary}{_retired(credentials)}",
        flush=True,
    )
    key_dir = settings.state_dir / keys.CREDENTIAL_KEYS
    notifier = Notifier(LocalBus(), "identity")
    db = Database(settings.sqlalchemy_url)
    manager = CredentialManager(IdentityDeps(db, notifier, settings.identity), key_dir)
    count = manager.reencrypt_all()
    db.dispose()
    print(f"onestack: {count} credentials re-encrypted with key {credentials.primary}")
    return 0


def cmd_image_metadefs_load(settings: Settings, args: argparse.Namespace) -> int:
    """Put the shipped metadef namespaces back as shipped (a running cloud sees them at once)."""
    from onestack.cloud import image_manager
    from onestack.common import migrate
    from onestack.common.bus import LocalBus, Notifier
    from onestack.common.db import Database

    migrate.upgrade(settings.sqlalchemy_url)
    db = Database(settings.sqlalchemy_url)
    try:
        image = image_manager(settings, db, Notifier(LocalBus(), "image"))
        written = image.metadef_defaults.load(replace=True)
        image.ownership.retire()
    finally:
        db.dispose()
    print(f"onestack: metadef namespaces loaded: {', '.join(written) or 'none'}")
    return 0


def cmd_images_build(settings: Settings, args: argparse.Namespace) -> int:
    """Build (or confirm) the guest images and list them with their checksums."""
    from onestack import guest

    out_dir: Path = args.output or settings.state_dir / "guest-images"
    try:
        images = guest.ensure_images(
            out_dir, lambda message: print(f"onestack: {message}", flush=True)
        )
    except guest.BuildFailed as exc:
        print(f"onestack: cannot build guest images: {exc}", file=sys.stderr)
        return 1
    for image in images.all():
        print(f"  {image.name:<24} {image.disk_format:<6} {image.size_bytes:>10}  "
              f"sha256:{image.sha256}  {image.path}")  # fmt: skip
    return 0


def cmd_images_register(settings: Settings, args: argparse.Namespace) -> int:
    """Build the guest images when needed, then register each as a public image once."""
    from onestack import cloud, guest
    from onestack.common.db import Database
    from onestack.guest.publish import admin_caller, publish

    def progress(message: str) -> None:
        print(f"onestack: guest images: {message}", flush=True)

    try:
        images = guest.ensure_images(settings.state_dir / "guest-images", progress)
    except guest.BuildFailed as exc:
        print(f"onestack: guest images: cannot build them: {exc}", file=sys.stderr, flush=True)
        return 1
    db, bus = Database(settings.sqlalchemy_url), cloud.make_bus(settings)
    try:
        identity, image = cloud.managers(settings, db, bus)
        ids = publish(images, image, admin_caller(identity), progress)
    finally:
        bus.close()
        db.dispose()
    progress(f"ready: {ids['disk_qcow2']} ({images.disk_qcow2.name})")
    return 0


def _retired(rotation: keys.Rotation) -> str:
    retired = ", ".join(map(str, rotation.retired)) or "none"
    return f"; retired: {retired}; kept: {', '.join(map(str, rotation.kept))}"


def _probe(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return f"answers ({response.status})"
    except urllib.error.HTTPError as exc:
        # Version discovery answers 300 Multiple Choices, which urllib reports as an error.
        return f"answers ({exc.code})" if exc.code < 500 else f"fails ({exc.code})"
    except OSError as exc:
        return f"does not answer ({exc})"


if __name__ == "__main__":
    sys.exit(main())
