"""The image store interface: where image data lives. This docstring is the contract.

A store keeps opaque byte strings, each written once under a location it chooses and read back
by that location. It knows nothing of image records, the database or HTTP; the image manager
computes sizes and hashes and records the location.

- `writer(image_id)` opens a write. Bytes given to `StoreWriter.write` are not visible to
  `read`/`exists` until `commit()` returns the location. `abort()` (or a failure at any point
  before `commit()` returned) leaves nothing behind: no partial data, no location. Writes are
  streamed: a store never needs the whole image in memory.
- `read(location, start, end)` yields the bytes in [start, end) in chunks, in order; it raises
  `DataNotFound` when the location holds nothing.
- `delete(location)` removes the data; deleting what is not there is not an error (deletes
  are retried after crashes).
- `exists(location)` says whether committed data is there.
- `locations()` lists every committed location (to find data nothing refers to any more).
- `discard_partial()` removes every uncommitted write (run at start: a crash mid-upload must
  not leave partial data behind).

A store is built only through `DRIVERS` (`drivers/__init__.py`), by name, from its settings
entry: `from_settings(settings)`. A new store (object storage, say) is one class implementing
these methods and one entry in `DRIVERS`; `tests/contract/test_image_store.py` runs over every
entry, and the API and manager need no change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from onestack.settings import StoreSettings


class DataNotFound(LookupError):
    """The location holds no committed data."""


class StoreWriter(ABC):
    """One streamed write; exactly one of `commit()` or `abort()` ends it."""

    @abstractmethod
    def write(self, chunk: bytes) -> None:
        """Append `chunk`; the data is invisible to readers until `commit()`."""

    @abstractmethod
    def commit(self) -> str:
        """Make the data durable and visible; returns its location."""

    @abstractmethod
    def abort(self) -> None:
        """Throw away everything written; safe to call more than once."""


class ImageStore(ABC):
    """Where image data lives. `store_id` is what `stores` shows on an image."""

    store_id: str = "store"
    description: str = ""
    # What GET /v2/info/stores/detail shows as the store's type.
    kind: str = "store"
    # The data lives in this process only, so the cloud must run one API worker.
    process_local: bool = False

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: StoreSettings) -> ImageStore:
        """The store as its settings entry configures it (ValueError when it cannot be)."""

    def properties(self) -> dict[str, object]:
        """What an administrator may see of the store's configuration (no secrets)."""
        return {}

    @abstractmethod
    def writer(self, image_id: str) -> StoreWriter:
        """Open a write for `image_id`'s data."""

    @abstractmethod
    def read(self, location: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes in [start, end) (end None: to the end), in chunks; DataNotFound if none."""

    @abstractmethod
    def delete(self, location: str) -> None:
        """Remove the data at `location`; a no-op when it is not there."""

    @abstractmethod
    def exists(self, location: str) -> bool:
        """Whether committed data is at `location`."""

    @abstractmethod
    def locations(self) -> list[str]:
        """Every committed location, in no particular order."""

    @abstractmethod
    def discard_partial(self) -> None:
        """Remove every write that was never committed."""
