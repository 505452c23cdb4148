"""Compute's domain errors, named as Nova names them; rendered by `compute.api` in Nova's body
(`{"itemNotFound": {"code": 404, "message": ...}}`, the key chosen by status).

InstanceNotFound, FlavorNotFound, KeypairNotFound, ImageNotFound,
HypervisorNotFound, MarkerNotFound(400)                          404
InvalidInput family: bad body, bad filter, image not bootable,
    flavor too small, network not found (as Nova: 400)            400
ActionForbidden, QuotaExceeded                                   403
InstanceInvalidState, DuplicateKeypair, DuplicateFlavor,
    PortInUse                                                   409
VersionNotAcceptable                                              406
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


class KeypairNotFound(NotFound):
    def __init__(self, name: str, user_id: str) -> None:
        super().__init__(f"Keypair {name} not found for user {user_id}")


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


class VersionNotAcceptable(OneStackError):
    status = 406
    title = "Not Acceptable"

    def __init__(self, version: str) -> None:
        super().__init__(
            f"Version {version} is not supported by the API. Minimum is 2.1 and maximum is 2.96."
        )


class NetworkRequestFailed(OneStackError):
    """A network-side refusal of a server's requested networks, carrying its status."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.title = {404: "Not Found", 409: "Conflict"}.get(status, "Bad Request")
        super().__init__(message)


class ConsoleNotAvailable(Conflict):
    def __init__(self, server_id: str) -> None:
        super().__init__(f"Guest console of instance {server_id} is not available.")
