"""A cloud started elsewhere, named by a clouds.yaml entry, for the functional suite to check.

`ONESTACK_TEST_CLOUD=<entry>` (with `OS_CLIENT_CONFIG_FILE` naming the clouds.yaml) points the
`cloud` fixture at that cloud instead of starting one, as Swift's functional tests run against
a deployed cluster: a PostgreSQL or multi-worker deployment runs the same tests. The entry is
the admin's (project admin); `<entry>-demo` and `<entry>-system-admin` are the other personas,
as in the clouds.yaml `onestack up` writes. Whatever needs the process itself (its state dir,
log, notifications file, restart, its own settings) skips.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest
import yaml

from tests.functional.cloud import RUNNING_CLOUD_VARIABLE as ENTRY_VARIABLE
from tests.functional.cloud import Cloud


def entry_name() -> str | None:
    """The clouds.yaml entry the suite runs against, or None to start its own clouds."""
    return os.environ.get(ENTRY_VARIABLE) or None


def clouds_yaml_path() -> Path:
    """Where the clients find clouds.yaml (openstacksdk's own default when unset)."""
    configured = os.environ.get("OS_CLIENT_CONFIG_FILE")
    return Path(configured) if configured else Path.home() / ".config/openstack/clouds.yaml"


class RunningCloud(Cloud):
    """The cloud of one clouds.yaml entry; the suite neither starts nor stops it."""

    def __init__(self, entry: str, clouds_file: Path) -> None:
        self.name = entry
        self.clouds_file = clouds_file
        self.entries: dict[str, Any] = yaml.safe_load(clouds_file.read_text())["clouds"]
        if entry not in self.entries:
            raise LookupError(f"{ENTRY_VARIABLE}={entry} is not in {clouds_file}")
        self.url = _base_url(self.entries[entry]["auth"]["auth_url"])

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    def entry(self, name: str) -> str:
        """onestack's `onestack-demo` is this cloud's `<entry>-demo`, and so on."""
        return self.name + name.removeprefix("onestack")

    def password(self, user: str) -> str:
        for suffix in ("", "-demo", "-system-admin"):
            auth = self.entries.get(self.name + suffix, {}).get("auth", {})
            if auth.get("username") == user:
                return auth["password"]
        pytest.skip(f"no entry of {self.clouds_file} logs in as {user!r}")

    def __getattr__(self, name: str) -> NoReturn:
        if name.startswith("_"):  # copy, pickle and pytest's own probing
            raise AttributeError(name)
        # Everything else a test may ask of a CloudProcess needs the process itself.
        pytest.skip(f"needs the cloud's own process ({name}); {ENTRY_VARIABLE} names a running one")


def _base_url(auth_url: str) -> str:
    """http://host:5000/identity/v3 -> http://host:5000"""
    url = auth_url.rstrip("/").removesuffix("/v3")
    return url.removesuffix("/identity")
