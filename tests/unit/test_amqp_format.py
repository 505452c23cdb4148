"""What goes on the wire for a notification: oslo.messaging's 2.0 envelope and exchange."""

from __future__ import annotations

import json

from onestack.common.amqp import envelope, exchange_for, unwrap

NOTIFICATION = {
    "message_id": "5b2d8a52-5f0e-4a6e-9a38-3c7f2c1b3b10",
    "publisher_id": "identity.host1",
    "event_type": "identity.project.created",
    "priority": "INFO",
    "payload": {"resource_info": "p1"},
    "timestamp": "2026-11-25 12:00:00.000000",
}


def test_envelope_is_oslo_messaging_2_0() -> None:
    body = envelope(NOTIFICATION)

    assert body["oslo.version"] == "2.0"
    inner = json.loads(body["oslo.message"])
    assert inner == {**NOTIFICATION, "_unique_id": inner["_unique_id"]}


def test_each_envelope_has_its_own_unique_id() -> None:
    first, second = (json.loads(envelope(NOTIFICATION)["oslo.message"]) for _ in range(2))

    assert first["_unique_id"] != second["_unique_id"]


def test_unwrap_reads_2_0_and_unwrapped_1_0_bodies() -> None:
    assert unwrap(envelope(NOTIFICATION))["event_type"] == "identity.project.created"
    assert unwrap(NOTIFICATION) == NOTIFICATION


def test_exchange_is_the_services_upstream_control_exchange() -> None:
    assert exchange_for(NOTIFICATION) == "keystone"
    assert exchange_for({**NOTIFICATION, "publisher_id": "compute.host1"}) == "nova"
    assert exchange_for({**NOTIFICATION, "publisher_id": "unheard-of.host1"}) == "openstack"
