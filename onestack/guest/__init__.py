"""onestack's own guest images, built from the host's Debian packages (see build.py).

Public interface: `ensure_images(out_dir, progress) -> GuestImages`.
"""

from onestack.guest.build import GuestImage, GuestImages, ensure_images
from onestack.guest.rootfs import BuildFailed, MissingInput

__all__ = ["BuildFailed", "GuestImage", "GuestImages", "MissingInput", "ensure_images"]
