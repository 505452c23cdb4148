"""A real `onestack up` in a subprocess, and the real clients pointed at it.

`Cloud` is what a test may use of any cloud (its URLs, the personas' passwords, the CLI and
openstacksdk); `CloudProcess` is one the test suite starts, stops and reads the logs of;
`CloudFactory` (the `make_cloud` fixture) is the one way a test module starts them.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
import pytest

ONESTACK = [sys.executable, "-m", "onestack.cli"]
OPENSTACK = str(Path(sys.executable).with_name("openstack"))
START_TIMEOUT_S = 60
# Names a clouds.yaml entry to test instead of starting clouds (tests/functional/running.py).
RUNNING_CLOUD_VARIABLE = "ONESTACK_TEST_CLOUD"


def helpers_of(cloud: CloudProcess) -> set[int]:
    """The agents and object storage nodes `onestack status` lists: the supervisor's children
    that are not API workers."""
    listed = subprocess.run(cloud.args("status"), capture_output=True, text=True, check=False)
    pattern = r"^\s+(?:agent|object node) \S+\s+pid (\d+)"
    return {int(pid) for pid in re.findall(pattern, listed.stdout, re.M)}


def children_of(pid: int) -> set[int]:
    """The pids of the running processes whose parent is `pid` (a supervisor's workers, agents)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cloud:
    """A cloud the tests reach over HTTP and with the real clients, however it was started."""

    url: str  # the base URL; identity is at <url>/identity
    clouds_file: Path  # a clouds.yaml with the onestack, onestack-demo, ... entries

    @property
    def identity_url(self) -> str:
        return f"{self.url}/identity"

    def password(self, user: str) -> str:
        raise NotImplementedError

    def entry(self, name: str) -> str:
        """The clouds.yaml entry that stands for onestack's own entry `name`."""
        return name

    def openstack(
        self,
        *args: str,
        cloud: str = "onestack",
        check: bool = True,
        clouds_file: Path | None = None,
    ) -> Any:
        """Run the real `openstack` CLI against this cloud; JSON output parsed when asked."""
        env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(clouds_file or self.clouds_file)}
        entry = cloud if clouds_file else self.entry(cloud)
        result = subprocess.run(
            [OPENSTACK, "--os-cloud", entry, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed: {result.stderr}")
        if "-f" in args and "json" in args and result.returncode == 0:
            return json.loads(result.stdout)
        return result

    def sdk(self, user: str = "admin", project: str | None = None) -> Any:
        """An openstacksdk connection as `user`, scoped to `project` (default: same name)."""
        import openstack

        return openstack.connect(
            auth_url=self.identity_url,
            username=user,
            password=self.password(user),
            project_name=project or user,
            user_domain_name="Default",
            project_domain_name="Default",
        )

    def server_errors(self) -> list[str]:
        """Requests answered with a 5xx, where the cloud's log can be read."""
        return []


@dataclass
class CloudProcess(Cloud):
    """One cloud: its state dir, port and database, started and stopped like a user would."""

    state_dir: Path
    database_url: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    log: TextIO | None = None
    # Extra environment for `onestack up` (e.g. ONESTACK_IDENTITY__LOCKOUT_FAILURE_ATTEMPTS).
    env: dict[str, str] = field(default_factory=dict)
    # `onestack up --bus-url`: notifications and RPC over AMQP instead of in-process.
    bus_url: str | None = None
    # What runs the cloud: `onestack up`, or `onestack serve api` beside another process.
    command: tuple[str, ...] = ("up",)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def notifications_file(self) -> Path:
        return self.state_dir.parent / "notifications.jsonl"

    def notifications(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Every notification the cloud emitted so far (optionally of one event type)."""
        if not self.notifications_file.exists():
            return []
        lines = self.notifications_file.read_text().splitlines()
        found = [json.loads(line) for line in lines if line]
        return [n for n in found if event_type is None or n["event_type"] == event_type]

    @property
    def clouds_file(self) -> Path:
        return self.state_dir / "clouds.yaml"

    def args(self, *command: str) -> list[str]:
        args = [*ONESTACK, *command, "--state-dir", str(self.state_dir)]
        if self.database_url:
            args += ["--database-url", self.database_url]
        return args

    def start(self) -> None:
        self.log = (self.state_dir.parent / "onestack.log").open("a")
        self.process = subprocess.Popen(
            [*self.args(*self.command), "--port", str(self.port), *self.bus_args()],
            env={
                **os.environ,
                # Building the guest images takes a while; only their own test turns it on.
                "ONESTACK_IMAGE__GUEST_IMAGES": "false",
                **self.env,
                "ONESTACK_BUS__NOTIFICATIONS_FILE": str(self.notifications_file),
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.wait_until_answering()

    def bus_args(self) -> list[str]:
        return ["--bus-url", self.bus_url] if self.bus_url else []

    def wait_until_answering(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"onestack up exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.identity_url}/v3", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError("onestack up did not answer in time")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None
        return code

    def log_text(self) -> str:
        """Everything `onestack up` printed and logged so far."""
        log = self.state_dir.parent / "onestack.log"
        return log.read_text() if log.exists() else ""

    def server_errors(self) -> list[str]:
        """Log lines of requests answered with a 5xx or failing with a traceback."""
        log = self.state_dir.parent / "onestack.log"
        if not log.exists():
            return []
        return [
            line
            for line in log.read_text().splitlines()
            if " status=5" in line or "unhandled error" in line
        ]

    def restart(self) -> None:
        self.stop()
        self.start()

    def password(self, user: str) -> str:
        import yaml

        return yaml.safe_load((self.state_dir / "credentials.yaml").read_text())["passwords"][user]

    def status(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.args("status"), capture_output=True, text=True, timeout=30)


def settings_env(settings: dict[str, Any]) -> dict[str, str]:
    """{"image.stores": {...}, "workers": 2} -> ONESTACK_IMAGE__STORES='{...}',
    ONESTACK_WORKERS=2: what `onestack up` reads, as an onestack.toml would say it."""
    env = {}
    for name, value in settings.items():
        variable = "ONESTACK_" + name.upper().replace(".", "__")
        env[variable] = value if isinstance(value, str) else json.dumps(value)
    return env


class CloudFactory:
    """Starts clouds for one test module and, at its end, stops them and checks their logs."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.started: list[CloudProcess] = []

    def __call__(
        self,
        *,
        workers: int = 1,
        database_url: str | None = None,
        settings: dict[str, Any] | None = None,
        bus_url: str | None = None,
        name: str = "cloud",
        state_dir: Path | None = None,
        command: tuple[str, ...] = ("up",),
    ) -> CloudProcess:
        """A started `onestack up`: on SQLite in its own state dir unless `database_url` says
        otherwise, with `settings` (dotted names, as in onestack.toml) on top of the defaults.
        `state_dir` shares (or prepares) a state dir; `command` runs e.g. `serve api` instead."""
        if os.environ.get(RUNNING_CLOUD_VARIABLE):
            pytest.skip(f"starts a cloud of its own; {RUNNING_CLOUD_VARIABLE} names a running one")
        env = settings_env({**(settings or {}), **({"workers": workers} if workers > 1 else {})})
        process = CloudProcess(
            state_dir=state_dir or self.tmp_path_factory.mktemp(name) / "state",
            database_url=database_url,
            env=env,
            bus_url=bus_url,
            command=command,
        )
        self.started.append(process)
        process.start()
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.process is not None:
                process.stop()
        # Bad input must never be a 500: any server error in the whole module fails it.
        for process in self.started:
            assert process.server_errors() == []
