"""Nova's server states: vm_state, task_state, the API status they show as, and which actions
each state allows (a refused action is a 409 naming the state, as Nova words it)."""

from __future__ import annotations

from dataclasses import dataclass

from onestack.compute import errors
from onestack.compute.models import Server

ACTIVE, BUILDING, STOPPED, PAUSED, SUSPENDED, ERROR, DELETED = (
    "active",
    "building",
    "stopped",
    "paused",
    "suspended",
    "error",
    "deleted",
)

_STATUS = {
    ACTIVE: "ACTIVE",
    BUILDING: "BUILD",
    STOPPED: "SHUTOFF",
    PAUSED: "PAUSED",
    SUSPENDED: "SUSPENDED",
    ERROR: "ERROR",
    DELETED: "DELETED",
}
_TASK_STATUS = {"rebooting": "REBOOT", "reboot_started": "REBOOT", "rebooting_hard": "HARD_REBOOT"}


def status(server: Server) -> str:
    """The API's `status` of a server."""
    if server.vm_state == ACTIVE and server.task_state in _TASK_STATUS:
        return _TASK_STATUS[server.task_state]
    return _STATUS.get(server.vm_state, "UNKNOWN")


def vm_state_of(api_status: str) -> set[str]:
    """The vm_states a `status` filter matches (unknown: none)."""
    return {vm for vm, shown in _STATUS.items() if shown == api_status.upper()}


@dataclass(frozen=True)
class Action:
    """A power action: which vm_states allow it, its task_state while it runs, the vm_state
    it ends in, and its notification's name."""

    name: str
    allowed: tuple[str, ...]
    task_state: str
    result: str
    event: str


ACTIONS = {
    "stop": Action("stop", (ACTIVE, ERROR), "powering-off", STOPPED, "power_off"),
    "start": Action("start", (STOPPED,), "powering-on", ACTIVE, "power_on"),
    "reboot_soft": Action("reboot", (ACTIVE,), "rebooting", ACTIVE, "reboot"),
    "reboot_hard": Action(
        "reboot", (ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR), "rebooting_hard", ACTIVE, "reboot"
    ),
    "pause": Action("pause", (ACTIVE,), "pausing", PAUSED, "pause"),
    "unpause": Action("unpause", (PAUSED,), "unpausing", ACTIVE, "unpause"),
    "suspend": Action("suspend", (ACTIVE,), "suspending", SUSPENDED, "suspend"),
    "resume": Action("resume", (SUSPENDED,), "resuming", ACTIVE, "resume"),
}


def check(action: Action, server: Server) -> None:
    """InstanceInvalidState (409) unless `server` may take `action` now."""
    if server.task_state is not None:
        raise errors.InstanceInvalidState(
            action.name, server.server_id, "task_state", server.task_state
        )
    if server.vm_state not in action.allowed:
        raise errors.InstanceInvalidState(
            action.name, server.server_id, "vm_state", server.vm_state
        )
