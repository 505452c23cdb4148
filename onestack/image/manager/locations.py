"""An image's data in one store: removing it from that store (DELETE /v2/stores/{store}/{id}).

As Glance: only an active image's data, never its last copy (403: delete the image instead).
"""

from __future__ import annotations

from onestack.image import errors
from onestack.image.manager.base import Caller, ImageBase, get_visible, now


class LocationManager(ImageBase):
    def check_store(self, store_id: str) -> None:
        """409 for a store this cloud does not have (before the image is looked up)."""
        if self.stores.find(store_id) is None:
            raise errors.StoreNotAvailable(store_id)

    def delete_from_store(self, caller: Caller, image_id: str, store_id: str) -> None:
        self.check_store(store_id)
        with self.writing() as session:
            image = get_visible(session, caller, image_id)
            if image.status != "active":
                raise errors.ImportConflict(
                    "It's not allowed to remove image data from store if image status is not "
                    f"'active' (it is '{image.status}')."
                )
            row = next((r for r in image.locations if r.store_id == store_id), None)
            if row is None:
                raise errors.NotInStore(image_id, store_id)
            if len(image.locations) == 1:
                raise errors.LastLocation()
            image.locations.remove(row)
            image.updated_at = now()
        self.stores[store_id].delete(row.location)
        self.notify(caller, "update", image)
