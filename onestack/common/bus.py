"""The message bus every service publishes notifications on and consumes them from.

`Bus` is the interface; `LocalBus` delivers in-process, synchronously, to subscribers whose
pattern (fnmatch style, `identity.*`) matches the event type. A subscriber that fails is logged
and never breaks the publisher. `Notifier` wraps a bus with a publisher id and builds
OpenStack's notification envelope (message_id, publisher_id, event_type, priority, payload,
timestamp). `JsonLinesSink` appends every notification to a file (an audit trail, and what
tests read back). `common.amqp.AmqpBus` is the same interface over RabbitMQ.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("onestack.bus")

Notification = dict[str, Any]
Subscriber = Callable[[Notification], None]


class Bus(Protocol):
    def publish(self, notification: Notification) -> None: ...

    def subscribe(self, pattern: str, subscriber: Subscriber) -> None: ...

    def close(self) -> None: ...


class LocalBus:
    """In-process delivery; the default for `onestack up`."""

    def __init__(self) -> None:
        self._subscribers: list[tuple[str, Subscriber]] = []

    def subscribe(self, pattern: str, subscriber: Subscriber) -> None:
        self._subscribers.append((pattern, subscriber))

    def publish(self, notification: Notification) -> None:
        for pattern, subscriber in self._subscribers:
            if fnmatch.fnmatchcase(notification["event_type"], pattern):
                try:
                    subscriber(notification)
                except Exception:
                    log.exception("subscriber failed on %s", notification["event_type"])

    def close(self) -> None:
        """Nothing to release: delivery happened during `publish`."""


class Notifier:
    """Publishes notifications for one service (`identity.<host>`)."""

    def __init__(self, bus: Bus, service: str) -> None:
        self.bus = bus
        self.publisher_id = f"{service}.{socket.gethostname()}"

    def info(self, event_type: str, payload: dict[str, Any]) -> None:
        self._publish("INFO", event_type, payload)

    def error(self, event_type: str, payload: dict[str, Any]) -> None:
        self._publish("ERROR", event_type, payload)

    def _publish(self, priority: str, event_type: str, payload: dict[str, Any]) -> None:
        self.bus.publish(
            {
                "message_id": str(uuid.uuid4()),
                "publisher_id": self.publisher_id,
                "event_type": event_type,
                "priority": priority,
                "payload": payload,
                "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
            }
        )


class JsonLinesSink:
    """A subscriber that appends each notification as one JSON line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def __call__(self, notification: Notification) -> None:
        line = json.dumps(notification, sort_keys=True) + "\n"
        with self._lock, self.path.open("a") as out:
            out.write(line)
