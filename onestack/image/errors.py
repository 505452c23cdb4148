"""Image's domain errors, named as Glance names them; rendered by `image.api` in Glance's body.

ImageNotFound, TagNotFound, MemberNotFound, NotInStore      404
Forbidden family: ReadonlyProperty, ReservedProperty, ImageProtected,
                  ImageDeactivated, PublicizeForbidden,
                  LastLocation                                403
InvalidImageStatusTransition, PropertyNotFound, Duplicate*,
ImportConflict, StoreNotAvailable                             409 (400 for the actions)
InvalidParameter (bad filter, sort key, marker, patch),
UnknownStore (upload header), ImportMethodNotEnabled,
InvalidImageFormat (data vs disk_format)                      400
ImageTooLarge, TooManyItems                                   413
UnsupportedMediaType                                          415
RangeNotSatisfiable                                           416
UploadInterrupted                                             400 (the client went away)
"""

from __future__ import annotations

from onestack.common.errors import BadRequest, Conflict, Forbidden, NotFound, OneStackError


class ImageNotFound(NotFound):
    def __init__(self, image_id: str) -> None:
        super().__init__(f"No image found with ID {image_id}")


class TagNotFound(NotFound):
    def __init__(self, image_id: str, tag: str) -> None:
        super().__init__(f"Tag {tag} not found on image {image_id}.")


class ActionForbidden(Forbidden):
    pass


class ReadonlyProperty(Forbidden):
    def __init__(self, name: str) -> None:
        super().__init__(f"Attribute '{name}' is read-only.")


class ReservedProperty(Forbidden):
    def __init__(self, name: str) -> None:
        super().__init__(f"Attribute '{name}' is reserved.")


class ImageProtected(Forbidden):
    def __init__(self, image_id: str) -> None:
        super().__init__(f"Image {image_id} is protected and cannot be deleted.")


class ImageDeactivated(Forbidden):
    message = "The requested image has been deactivated. Image data download is forbidden."


class InvalidParameter(BadRequest):
    pass


class InvalidImageStatusTransition(Conflict):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"Image status transition from {current} to {wanted} is not allowed")


class InvalidActionTransition(BadRequest):
    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"Not allowed to {action} image in status '{status}'")


class PropertyNotFound(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"Property {name} does not exist.")


class DuplicateImage(Conflict):
    def __init__(self, image_id: str) -> None:
        super().__init__(f"An image with identifier {image_id} already exists")


class UploadInterrupted(BadRequest):
    message = "The image data upload was interrupted before it completed; the image is queued."


class ImageTooLarge(OneStackError):
    status = 413
    title = "Request Entity Too Large"
    message = "Image exceeds the storage quota or the configured image size cap."


class TooManyItems(OneStackError):
    status = 413
    title = "Request Entity Too Large"

    def __init__(self, kind: str, limit: int) -> None:
        super().__init__(f"Attempted to add more {kind} than allowed ({limit} per image).")


class UnsupportedMediaType(OneStackError):
    status = 415
    title = "Unsupported Media Type"

    def __init__(self, given: str, wanted: str) -> None:
        super().__init__(f"Content type {given or '(none)'} is not supported here; send {wanted}.")


class RangeNotSatisfiable(OneStackError):
    status = 416
    title = "Requested Range Not Satisfiable"
    message = "The requested range is not satisfiable."

    def __init__(self, size: int) -> None:
        super().__init__()
        self.headers = {"Content-Range": f"bytes */{size}"}


class MemberNotFound(NotFound):
    def __init__(self, image_id: str, member_id: str) -> None:
        super().__init__(f"Member {member_id} not found on image {image_id}.")


class DuplicateMember(Conflict):
    def __init__(self, image_id: str, member_id: str) -> None:
        super().__init__(f"Member {member_id} already exists on image {image_id}.")


class NotShared(Forbidden):
    def __init__(self, visibility: str) -> None:
        super().__init__(
            f"Only shared images have members; this image's visibility is {visibility}."
        )


class UnknownStore(BadRequest):
    def __init__(self, store_id: str) -> None:
        super().__init__(f"Store for identifier {store_id} not found.")


class StoreNotAvailable(Conflict):
    def __init__(self, store_id: str) -> None:
        super().__init__(f"The selected store {store_id} is not available on this node.")


class NotInStore(NotFound):
    def __init__(self, image_id: str, store_id: str) -> None:
        super().__init__(f"Image {image_id} is not stored in store {store_id}.")


class LastLocation(Forbidden):
    message = (
        "Cannot delete image data from the only store containing it. "
        "Consider deleting the image instead."
    )


class ImportConflict(Conflict):
    pass


class ImportMethodNotEnabled(BadRequest):
    def __init__(self, method: str, enabled: list[str]) -> None:
        offered = ", ".join(enabled) or "none"
        super().__init__(
            f"Import method {method} is not enabled in this cloud (enabled: {offered})."
        )


class MetadefNotFound(NotFound):
    """A namespace (or one of its objects, properties, tags, resource types) that does not
    exist or that the caller may not see."""

    def __init__(self, kind: str, name: str, namespace: str | None = None) -> None:
        where = f" in namespace {namespace}" if namespace else ""
        super().__init__(f"Metadata definition {kind} {name} not found{where}.")


class MetadefDuplicate(Conflict):
    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"A metadata definition {kind} with name={name} already exists.")


class MetadefProtected(Forbidden):
    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"Metadata definition {kind} {name} is protected and cannot be deleted.")


class TaskNotFound(NotFound):
    def __init__(self, task_id: str) -> None:
        super().__init__(f"Task with the given id {task_id} not found.")


class InvalidImageFormat(BadRequest):
    """Data that does not match its disk_format, or that is unsafe (`manager/formats.py`)."""
