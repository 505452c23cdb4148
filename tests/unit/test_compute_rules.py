"""Compute's pure rules: microversion headers, Nova's keypair fingerprint, state checks and
the status a vm_state shows as."""

from __future__ import annotations

import base64
import hashlib

import pytest

from onestack.compute import errors
from onestack.compute.api.microversion import parse, requested
from onestack.compute.manager import states
from onestack.compute.manager.keypairs import fingerprint, generate
from onestack.compute.models import Server


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, (2, 1)),
        ("latest", (2, 96)),
        ("2.53", (2, 53)),
        ("2.97", "range"),
        ("3.0", "range"),
        ("2.x", "bad"),
        ("2.01", "bad"),
        ("", "bad"),
    ],
)
def test_microversion_parse(text: str | None, expected: object) -> None:
    assert parse(text) == expected


def test_the_newer_header_wins_and_other_services_are_ignored() -> None:
    headers = {
        b"openstack-api-version": b"volume 3.5, compute 2.60",
        b"x-openstack-nova-api-version": b"2.10",
    }
    assert requested(headers) == "2.60"
    assert requested({b"openstack-api-version": b"volume 3.5"}) is None
    assert requested({b"x-openstack-nova-api-version": b" 2.10 "}) == "2.10"


def test_fingerprint_is_md5_of_the_key_blob() -> None:
    public, private = generate("ssh", "me")
    blob = base64.b64decode(public.split()[1])
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    assert fingerprint(public) == ":".join(digest[i : i + 2] for i in range(0, 32, 2))
    assert private.startswith("-----BEGIN RSA PRIVATE KEY-----")


@pytest.mark.parametrize(
    "bad",
    ["", "ssh-rsa", "ssh-rsa !!!", "pgp AAAA", "ssh-rsa JUNK me@host", "ssh-rsa " + "A" * 4000],
)
def test_a_malformed_public_key_is_invalid_input(bad: str) -> None:
    with pytest.raises(errors.InvalidInput):
        fingerprint(bad)


def _server(vm_state: str, task_state: str | None = None) -> Server:
    return Server(server_id="s1", vm_state=vm_state, task_state=task_state)


def test_stop_of_a_stopped_server_names_the_vm_state() -> None:
    with pytest.raises(errors.InstanceInvalidState) as caught:
        states.check(states.ACTIONS["stop"], _server(states.STOPPED))
    assert caught.value.message == "Cannot 'stop' instance s1 while it is in vm_state stopped"


def test_an_action_while_another_runs_names_the_task_state() -> None:
    with pytest.raises(errors.InstanceInvalidState) as caught:
        states.check(states.ACTIONS["start"], _server(states.STOPPED, "powering-on"))
    assert "task_state powering-on" in caught.value.message


def test_hard_reboot_is_allowed_where_soft_is_not() -> None:
    states.check(states.ACTIONS["reboot_hard"], _server(states.PAUSED))
    with pytest.raises(errors.InstanceInvalidState):
        states.check(states.ACTIONS["reboot_soft"], _server(states.PAUSED))


@pytest.mark.parametrize(
    ("vm_state", "task_state", "shown"),
    [
        (states.BUILDING, "scheduling", "BUILD"),
        (states.ACTIVE, None, "ACTIVE"),
        (states.ACTIVE, "rebooting_hard", "HARD_REBOOT"),
        (states.ACTIVE, "rebooting", "REBOOT"),
        (states.STOPPED, None, "SHUTOFF"),
        (states.ERROR, None, "ERROR"),
    ],
)
def test_status_from_states(vm_state: str, task_state: str | None, shown: str) -> None:
    assert states.status(_server(vm_state, task_state)) == shown
