"""Placement's domain errors, rendered by `placement.api` in placement's body
`{"errors": [{"status", "title", "detail", "code", "request_id"}]}`; `code` is placement's own.

ProviderNotFound, ConsumerNotFound, ResourceClassNotFound, InventoryNotFound    404
InvalidRequest (bad body value, unknown class, unit rules, bad query)           400
NotAcceptable (microversion out of range)                                       406
DuplicateName, ConcurrentUpdate (generation), InsufficientCapacity,
InventoryInUse, ProviderInUse, ResourceClassExists, ResourceClassInUse          409
"""

from __future__ import annotations

from onestack.common.errors import BadRequest, Conflict, Forbidden, NotFound, OneStackError

DEFAULT_CODE = "placement.undefined_code"


class PlacementForbidden(Forbidden):
    pass


class InvalidRequest(BadRequest):
    pass


class BadQuery(BadRequest):
    code = "placement.query.bad_value"


class NotAcceptable(OneStackError):
    status = 406
    title = "Not Acceptable"


class PlacementNotFound(NotFound):
    pass


class ProviderNotFound(NotFound):
    def __init__(self, uuid: str) -> None:
        super().__init__(f"No resource provider with uuid {uuid} found")


class ParentNotFound(BadRequest):
    def __init__(self, uuid: str) -> None:
        super().__init__(f"parent provider UUID {uuid} does not exist")


class InventoryNotFound(NotFound):
    def __init__(self, uuid: str, resource_class: str) -> None:
        super().__init__(f"No inventory of class {resource_class} for {uuid}")


class InventoryExists(Conflict):
    def __init__(self, uuid: str, resource_class: str) -> None:
        super().__init__(
            f"Update conflict: Inventory for '{resource_class}' on resource provider '{uuid}' "
            "already exists."
        )


class ResourceClassNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"No such resource class {name}.")


class ResourceClassExists(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"Conflicting resource class already exists: {name}")


class ResourceClassInUse(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"Unable to delete resource class {name}: it is in use.")


class TraitNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"No such trait(s): {name}.")


class TraitInUse(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"The trait {name} is in use by a resource provider.")


class StandardClassReadOnly(BadRequest):
    def __init__(self, name: str) -> None:
        super().__init__(f"Cannot delete standard resource class {name}.")


class DuplicateName(Conflict):
    code = "placement.duplicate_name"

    def __init__(self, name: str) -> None:
        super().__init__(f"Conflicting resource provider name: {name} already exists.")


class DuplicateUuid(Conflict):
    def __init__(self, uuid: str) -> None:
        super().__init__(f"Conflicting resource provider uuid: {uuid} already exists.")


class ConcurrentUpdate(Conflict):
    code = "placement.concurrent_update"
    message = "resource provider generation conflict"


class ConsumerGenerationConflict(Conflict):
    code = "placement.concurrent_update"


class InsufficientCapacity(Conflict):
    def __init__(self, resource_class: str, uuid: str) -> None:
        super().__init__(
            f"Unable to allocate inventory: Unable to create allocation for '{resource_class}'"
            f" on resource provider '{uuid}'. The requested amount would exceed the capacity."
        )


class InventoryInUse(Conflict):
    code = "placement.inventory.inuse"

    def __init__(self, resource_class: str, uuid: str) -> None:
        super().__init__(
            f"Inventory for '{resource_class}' on resource provider '{uuid}' in use: "
            "its capacity would be below what is allocated."
        )


class ProviderInUse(Conflict):
    code = "placement.resource_provider.inuse"

    def __init__(self, uuid: str) -> None:
        super().__init__(
            f"Unable to delete resource provider {uuid}: Resource provider has allocations."
        )


class ProviderHasChildren(Conflict):
    code = "placement.resource_provider.cannot_delete_parent"

    def __init__(self, uuid: str) -> None:
        super().__init__(
            f"Unable to delete parent resource provider {uuid}: It has child resource providers."
        )


def code_of(error: OneStackError) -> str:
    """Placement's `code` for an error: its own, else the default."""
    return getattr(error, "code", DEFAULT_CODE)
