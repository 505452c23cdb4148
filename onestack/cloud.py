"""Assembles the cloud in one process: schema, bootstrap, services, and the one-port server.

`prepare()` does everything before serving and returns the ASGI app; `serve()` runs it under
uvicorn until SIGINT or SIGTERM. Each service is built from its own public pieces only.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from onestack.common import migrate
from onestack.common.bus import JsonLinesSink, LocalBus, Notifier
from onestack.common.db import Database
from onestack.common.http import root_app
from onestack.identity.api import MOUNT_PATH as IDENTITY_PATH
from onestack.identity.api import build_app as identity_app
from onestack.identity.bootstrap import BootstrapResult, bootstrap
from onestack.identity.manager import IdentityManager
from onestack.identity.policy import load_policy
from onestack.identity.tokens import TokenFormat, load_keys
from onestack.settings import Settings


@dataclass
class Cloud:
    app: ASGIApp
    db: Database
    bootstrap: BootstrapResult
    services: dict[str, str]


def prepare(settings: Settings) -> Cloud:
    """Create the state dir, migrate the schema, bootstrap identity and build the app."""
    settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    migrate.upgrade(settings.sqlalchemy_url)
    db = Database(settings.sqlalchemy_url)
    result = bootstrap(db, settings.state_dir, settings.base_url, settings.identity.region)
    bus = make_bus(settings)
    token_format = TokenFormat(load_keys(settings.state_dir / "fernet-keys"))
    manager = IdentityManager(
        db, token_format, settings.identity, Notifier(bus, "identity"), settings.state_dir
    )
    app = root_app({IDENTITY_PATH: identity_app(manager, load_policy(settings))})
    services = {"identity": f"{settings.base_url}{IDENTITY_PATH}"}
    return Cloud(app=app, db=db, bootstrap=result, services=services)


def make_bus(settings: Settings) -> LocalBus:
    """The in-process bus, with the notifications file as a subscriber when configured."""
    bus = LocalBus()
    if settings.bus.notifications_file is not None:
        bus.subscribe("*", JsonLinesSink(settings.bus.notifications_file))
    return bus


def serve(settings: Settings, cloud: Cloud, on_ready: Callable[[], None]) -> None:
    """Serve until a stop signal; `on_ready()` runs once the port accepts connections."""
    config = uvicorn.Config(
        cloud.app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="off",
        server_header=False,
    )
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            write_run_file(settings.run_file, settings, cloud.services)
            on_ready()
        await task

    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the handler
    # that was installed before it; a quiet handler makes a requested stop exit with status 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    try:
        asyncio.run(run())
    finally:
        settings.run_file.unlink(missing_ok=True)
        cloud.db.dispose()
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
