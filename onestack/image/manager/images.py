"""Image records: create, read, update (JSON patch changes), delete, tags, (de)activation.

Every write is one transaction: a refused change anywhere in a request writes nothing.
Notifications go out after the commit; image data is removed from the store after the row.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from onestack.common.errors import OneStackError
from onestack.image import errors
from onestack.image.manager import fields
from onestack.image.manager.base import Caller, ImageBase, get_visible, now
from onestack.image.manager.query import ListQuery, list_images
from onestack.image.models import Image, ImageProperty, ImageTag


@dataclass(frozen=True)
class Change:
    """One JSON-patch operation on a top-level attribute: add, replace or remove."""

    op: str
    name: str
    value: Any = None


class ImageRecords(ImageBase):
    """The image table's only writer."""

    # -- reads ---------------------------------------------------------------------------

    def get(self, caller: Caller, image_id: str) -> Image:
        with self.db.reader() as session:
            return get_visible(session, caller, image_id)

    def list(self, caller: Caller, query: ListQuery) -> list[Image]:
        with self.db.reader() as session:
            return list_images(session, caller, query)

    # -- writes --------------------------------------------------------------------------

    def create(self, caller: Caller, attributes: Mapping[str, Any]) -> Image:
        """A queued image from the client's attributes (base ones, tags and extras)."""
        values = {
            name: self._checked(name, value, creating=True) for name, value in attributes.items()
        }
        self._check_privileges(caller, values, owner=caller.project_id)
        image_id = values.pop("id", None) or str(uuid.uuid4())
        tags = values.pop("tags", [])
        extras = {k: values.pop(k) for k in list(values) if not fields.is_base(k)}
        moment = now()
        image = Image(
            image_id=image_id,
            status="queued",
            visibility=values.pop("visibility", "shared"),
            owner=values.pop("owner", caller.project_id),
            protected=values.pop("protected", False),
            os_hidden=values.pop("os_hidden", False),
            min_disk=values.pop("min_disk", 0),
            min_ram=values.pop("min_ram", 0),
            created_at=moment,
            updated_at=moment,
            **values,
        )
        image.tags = [ImageTag(tag=tag) for tag in tags]
        image.properties = [ImageProperty(name=k, value=v) for k, v in extras.items()]
        image.locations = []
        self._check_counts(image)
        self.quotas.claim_image(image.owner)
        with self.writing(errors.DuplicateImage(image_id)) as session:
            session.add(image)
        try:
            self.quotas.recheck_images(image.owner)
        except OneStackError:
            self._discard(image_id)
            raise
        self.notify(caller, "create", image)
        return image

    def update(self, caller: Caller, image_id: str, changes: Sequence[Change]) -> Image:
        """Apply every change or none of them."""
        with self.writing(errors.DuplicateImage(image_id)) as session:
            image = get_visible(session, caller, image_id)
            for change in changes:
                self._apply(caller, image, change)
            self._check_counts(image)
            image.updated_at = now()
        self.notify(caller, "update", image)
        return image

    def delete(self, caller: Caller, image_id: str) -> None:
        """Remove the record, then its data in every store (and staged data); a protected
        image refuses (403)."""
        with self.writing(errors.DuplicateImage(image_id)) as session:
            image = get_visible(session, caller, image_id)
            if image.protected:
                raise errors.ImageProtected(image_id)
            data = [(self.stores.find(row.store_id), row.location) for row in image.locations]
            if image.stage_location:
                data.append((self.stores.staging, image.stage_location))
            session.delete(image)
        for store, location in data:
            if store is not None:
                store.delete(location)
        image.status = "deleted"
        self.notify(caller, "delete", image)

    def add_tag(self, caller: Caller, image_id: str, tag: str) -> None:
        fields.check_tag(tag)
        with self.writing(errors.DuplicateImage(image_id)) as session:
            image = get_visible(session, caller, image_id)
            if tag not in {t.tag for t in image.tags}:
                image.tags.append(ImageTag(tag=tag))
                self._check_counts(image)
                image.updated_at = now()
        self.notify(caller, "update", image)

    def remove_tag(self, caller: Caller, image_id: str, tag: str) -> None:
        with self.writing(errors.DuplicateImage(image_id)) as session:
            image = get_visible(session, caller, image_id)
            kept = [t for t in image.tags if t.tag != tag]
            if len(kept) == len(image.tags):
                raise errors.TagNotFound(image_id, tag)
            image.tags = kept
            image.updated_at = now()
        self.notify(caller, "update", image)

    def deactivate(self, caller: Caller, image_id: str) -> None:
        self._set_status(caller, image_id, "deactivate", ("active", "deactivated"), "deactivated")

    def reactivate(self, caller: Caller, image_id: str) -> None:
        self._set_status(caller, image_id, "reactivate", ("active", "deactivated"), "active")

    # -- helpers -------------------------------------------------------------------------

    def _checked(self, name: str, value: Any, creating: bool = False) -> Any:
        fields.check_name(name, creating=creating)
        return fields.check_value(name, value, self.settings)

    def _discard(self, image_id: str) -> None:
        """Undo a create that concurrent creates took over quota (it has no data yet)."""
        with self.writing() as session:
            image = session.get(Image, image_id)
            if image is not None:
                session.delete(image)

    def _check_counts(self, image: Image) -> None:
        """413 when the image would carry more properties or tags than configured."""
        if len(image.properties) > self.settings.image_property_quota:
            raise errors.TooManyItems("properties", self.settings.image_property_quota)
        if len(image.tags) > self.settings.image_tag_quota:
            raise errors.TooManyItems("tags", self.settings.image_tag_quota)

    def _check_privileges(
        self, caller: Caller, values: Mapping[str, Any], owner: str | None
    ) -> None:
        """Only admins publish public images or give an image to another project (403)."""
        if caller.is_admin:
            return
        if values.get("visibility") == "public":
            raise errors.ActionForbidden("Only administrators may publish public images.")
        if "owner" in values and values["owner"] != owner:
            raise errors.ActionForbidden("Only administrators may change an image's owner.")

    def _apply(self, caller: Caller, image: Image, change: Change) -> None:
        name = change.name
        fields.check_name(name)
        if change.op == "remove":
            self._remove(image, name)
            return
        value = fields.check_value(name, change.value, self.settings)
        if name == "tags":
            existing = {t.tag: t for t in image.tags}
            image.tags = [existing.get(tag) or ImageTag(tag=tag) for tag in value]
        elif fields.is_base(name):
            self._check_privileges(caller, {name: value}, owner=image.owner)
            setattr(image, name, value)
        else:
            self._set_extra(image, name, value, must_exist=change.op == "replace")

    def _remove(self, image: Image, name: str) -> None:
        if fields.is_base(name):
            raise errors.ActionForbidden(f"Property {name} may not be removed.")
        kept = [p for p in image.properties if p.name != name]
        if len(kept) == len(image.properties):
            raise errors.PropertyNotFound(name)
        image.properties = kept

    def _set_extra(self, image: Image, name: str, value: str, must_exist: bool) -> None:
        for prop in image.properties:
            if prop.name == name:
                prop.value = value
                return
        if must_exist:
            raise errors.PropertyNotFound(name)
        image.properties.append(ImageProperty(name=name, value=value))

    def _set_status(
        self, caller: Caller, image_id: str, action: str, allowed: tuple[str, ...], status: str
    ) -> None:
        with self.writing(errors.DuplicateImage(image_id)) as session:
            image = get_visible(session, caller, image_id)
            if image.status not in allowed:
                raise errors.InvalidActionTransition(action, image.status)
            changed = image.status != status
            if changed:
                image.status = status
                image.updated_at = now()
        if changed:
            self.notify(caller, action, image)
