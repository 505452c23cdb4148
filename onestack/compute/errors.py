"""Compute's domain errors, named as Nova names them; rendered by `compute.api` in Nova's body
(`{"itemNotFound": {"code": 404, "message": ...}}`, the key chosen by status).

InstanceNotFound, FlavorNotFound, KeypairNotFound,
HypervisorNotFound                                                404
InvalidInput: bad body, filter or marker, unknown or unbootable image,
    flavor too small, unknown keypair                             400
ActionForbidden, QuotaExceeded                                   403
InstanceInvalidState, DuplicateKeypair, DuplicateFlavor,
    ConsoleNotAvailable                                           409
NetworkRequestFailed: the network service's refusal in Nova's codes (400, or 409 in use)
(A bad microversion header is answered before routing, by `api.microversion`.)
"""

from __future__ import annotations

from onestack.common.errors import BadRequest, Conflict, Forbidden, NotFound, OneStackError


class InvalidInput(BadRequest):
    pass


class InstanceNotFound(NotFound):
    def __init__(self, server_id: str) -> None:
        super().__init__(f"Instance {server_id} could not be found.")


class FlavorNotFound(NotFound):
    def __init__(self, flavor_id: str) -> None:
        super().__init__(f"Flavor {flavor_id} could not be found.")


class ExtraSpecNotFound(NotFound):
    def __init__(self, flavor_id: str, key: str) -> None:
        super().__init__(f"Flavor {flavor_id} has no extra specs with key {key}.")


class FlavorAccessNotFound(NotFound):
    def __init__(self, flavor_id: str, project_id: str | None = None) -> None:
        if project_id is None:
            super().__init__("Access list not available for public flavors.")
        else:
            super().__init__(f"Flavor access not found for {flavor_id} / {project_id} combination.")


class FlavorAccessExists(Conflict):
    def __init__(self, flavor_id: str, project_id: str) -> None:
        super().__init__(
            f"Flavor access already exists for flavor {flavor_id} and project {project_id} "
            "combination."
        )


class KeypairNotFound(NotFound):
    def __init__(self, name: str, user_id: str) -> None:
        super().__init__(f"Keypair {name} not found for user {user_id}")


class ResourceNotFound(NotFound):
    """A route this microversion does not have."""

    message = "The resource could not be found."


class HypervisorNotFound(NotFound):
    def __init__(self, hypervisor_id: str) -> None:
        super().__init__(f"Hypervisor with ID {hypervisor_id} could not be found.")


class ActionForbidden(Forbidden):
    pass


class QuotaExceeded(Forbidden):
    pass


class InstanceInvalidState(Conflict):
    def __init__(self, action: str, server_id: str, attr: str, state: str | None) -> None:
        super().__init__(f"Cannot '{action}' instance {server_id} while it is in {attr} {state}")


class DuplicateKeypair(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"Key pair '{name}' already exists.")


class DuplicateFlavor(Conflict):
    def __init__(self, what: str) -> None:
        super().__init__(f"Flavor with {what} already exists.")


class NetworkRequestFailed(OneStackError):
    """A network-side refusal of a server's requested networks, carrying its status."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.title = {404: "Not Found", 409: "Conflict"}.get(status, "Bad Request")
        super().__init__(message)


class ConsoleNotAvailable(Conflict):
    def __init__(self, server_id: str) -> None:
        super().__init__(f"Guest console of instance {server_id} is not available.")
