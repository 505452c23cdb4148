"""Fixtures of the host tests: the guest images, built once per session (a no-op when the
host's inputs did not change), and a module's lab namespace (tests/host/lab.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from onestack.guest import GuestImages, ensure_images
from tests.host.lab import Lab, make_lab


@pytest.fixture(scope="session")
def guest_images(tmp_path_factory: pytest.TempPathFactory) -> GuestImages:
    return ensure_images(tmp_path_factory.mktemp("guest-images"))


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    prefix = getattr(request.module, "LAB_PREFIX", "osl")
    with make_lab(tmp_path_factory.mktemp(f"{prefix}-lab"), prefix) as made:
        yield made
