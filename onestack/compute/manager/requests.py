"""What a server create asks for, validated against the image, flavor, keypair and network
before anything is written (each refusal a 4xx naming what to fix, as Nova words it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onestack.common.errors import OneStackError
from onestack.compute import errors
from onestack.compute.manager.base import Caller
from onestack.compute.manager.peers import BootSource, ImageLookup, NetworkPeer
from onestack.compute.models import Flavor, Keypair

NOT_BOOTABLE = ("aki", "ari")


@dataclass(frozen=True)
class ServerRequest:
    name: str
    image_id: str
    flavor_id: str
    networks: Any = "auto"
    key_name: str | None = None
    user_data: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    security_groups: list[str] = field(default_factory=lambda: ["default"])
    availability_zone: str | None = None
    min_count: int = 1
    max_count: int = 1
    config_drive: bool = False
    description: str | None = None
    access_ipv4: str = ""
    access_ipv6: str = ""
    hostname: str | None = None


def boot_source(images: ImageLookup, caller: Caller, image_id: str) -> BootSource:
    """The image to boot, if the caller sees it, it is active and it is a bootable kind."""
    image = images(caller.ctx, image_id)
    if image is None:
        raise errors.InvalidInput(f"Image {image_id} could not be found.")
    if image.status != "active":
        raise errors.InvalidInput(f"Image {image_id} is not active.")
    if image.container_format in NOT_BOOTABLE or image.disk_format in NOT_BOOTABLE:
        raise errors.InvalidInput(
            f"Image {image_id} is unacceptable: a kernel or ramdisk image "
            f"(container_format {image.container_format}) cannot be booted."
        )
    return image


def check_fits(flavor: Flavor, image: BootSource) -> None:
    """400 when the flavor is smaller than the image's minimums."""
    if image.min_ram_mb > flavor.memory_mb:
        raise errors.InvalidInput("Flavor's memory is too small for requested image.")
    if flavor.root_gb and image.min_disk_gb > flavor.root_gb:
        raise errors.InvalidInput("Flavor's disk is too small for requested image.")


def check_keypair(keypair: Keypair | None, name: str | None) -> None:
    if name is not None and keypair is None:
        raise errors.InvalidInput("Invalid key_name provided.")


def check_networks(network: NetworkPeer, caller: Caller, requests: Any) -> None:
    """The network service's verdict, in Nova's codes: an unknown network or port is a 400,
    something in use a 409."""
    try:
        network.validate_requests(caller.ctx, requests, caller.project_id)
    except OneStackError as exc:
        status = 409 if exc.status == 409 else 400
        raise errors.NetworkRequestFailed(status, exc.message) from exc
