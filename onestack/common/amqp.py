"""The notification bus over AMQP (RabbitMQ, through kombu), laid out as oslo.messaging lays it.

A notification goes to the topic exchange of its service (identity -> `keystone`, as upstream
names its control exchange) with routing key `notifications.<priority>`, in oslo.messaging's
2.0 envelope (`{"oslo.version": "2.0", "oslo.message": "<json>"}`), so a Ceilometer-style
listener reads it unchanged; the queue of that routing key is declared too, so nothing is lost
before the first consumer starts. `publish` only queues: one background thread sends, with
publisher confirms, reconnecting with backoff; an API request never waits on the broker.
`subscribe` consumes from a queue bound to every service exchange; the workers of one cloud
share it, so each notification reaches one of them.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
import queue
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

import amqp.exceptions
import kombu

from onestack.common.bus import Notification, Subscriber

log = logging.getLogger("onestack.bus")

CONNECT_TIMEOUT_S = 2.0
MAX_BACKOFF_S = 30.0
FLUSH_TIMEOUT_S = 5.0
READY_TIMEOUT_S = 5.0
DEFAULT_EXCHANGE = "openstack"
# The control exchange each upstream service publishes on, which consumers listen to.
SERVICE_EXCHANGES = {
    "identity": "keystone",
    "compute": "nova",
    "image": "glance",
    "network": "neutron",
    "volume": "cinder",
    "orchestration": "heat",
    "object": "swift",
    "placement": "placement",
    "dns": "designate",
}
_STOP = object()


def connect(url: str) -> kombu.Connection:
    """A connection that fails fast when the broker is away and has publishes confirmed."""
    return kombu.Connection(
        url, connect_timeout=CONNECT_TIMEOUT_S, transport_options={"confirm_publish": True}
    )


def ensure_exchange(connection: kombu.Connection, exchange: kombu.Exchange) -> None:
    """Declare `exchange` unless it exists, however it was declared (a consumer such as
    Ceilometer may have declared it first with other durability, which a redeclare refuses)."""
    if not _exists(connection, lambda channel: exchange(channel).declare(passive=True)):
        exchange(connection.default_channel).declare()


def ensure_queue(connection: kombu.Connection, queue: kombu.Queue) -> None:
    """Declare and bind `queue` unless a queue of that name exists already (same reason)."""
    if not _exists(connection, lambda channel: queue(channel).queue_declare(passive=True)):
        ensure_exchange(connection, queue.exchange)
        queue(connection.default_channel).declare()


def _exists(connection: kombu.Connection, check: Callable[[Any], object]) -> bool:
    """Run a passive declare on a throwaway channel: a missing entity closes that channel."""
    channel = connection.channel()
    try:
        check(channel)
        return True
    except amqp.exceptions.NotFound:
        return False
    finally:
        with contextlib.suppress(Exception):
            channel.close()


def exchange_for(notification: Notification) -> str:
    """The exchange of the publishing service (`identity.<host>` -> `keystone`)."""
    service = str(notification.get("publisher_id", "")).split(".", 1)[0]
    return SERVICE_EXCHANGES.get(service, DEFAULT_EXCHANGE)


def envelope(notification: Notification) -> dict[str, str]:
    """oslo.messaging's 2.0 wrapper around a notification (plus its `_unique_id`)."""
    message = {**notification, "_unique_id": uuid.uuid4().hex}
    return {"oslo.version": "2.0", "oslo.message": json.dumps(message)}


def unwrap(body: Any) -> Notification:
    """The notification inside a 2.0 envelope, or the body itself (1.0, no envelope)."""
    if isinstance(body, dict) and "oslo.message" in body:
        return json.loads(body["oslo.message"])
    return body


class Backoff:
    """Waits between reconnect attempts: 0.5 s doubling to 30 s, cut short by `stop`."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.delay_s = 0.5

    def wait(self) -> None:
        self.stop.wait(self.delay_s)
        self.delay_s = min(self.delay_s * 2, MAX_BACKOFF_S)

    def reset(self) -> None:
        self.delay_s = 0.5


class AmqpBus:
    """The `Bus` interface over RabbitMQ; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        topic: str = "notifications",
        exchange: str | None = None,
        durable: bool = True,
        max_pending: int = 10_000,
        subscription: str | None = None,
    ) -> None:
        self.url = url
        self.topic = topic
        self.exchange = exchange
        self.durable = durable
        self._pending: queue.Queue[Any] = queue.Queue(max_pending)
        self._abort = threading.Event()
        self._dropping = False
        # False while the broker refuses us: then closing does not wait to flush.
        self._reachable = True
        self._subscribers: list[tuple[str, Subscriber]] = []
        self._consumer: threading.Thread | None = None
        self._consuming = threading.Event()
        # Processes that name the same subscription share its queue: each message reaches one.
        self._subscription_name = subscription or (
            f"onestack-subscriber-{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        )
        self._publisher = threading.Thread(
            target=self._publish_loop, name="bus-publish", daemon=True
        )
        self._publisher.start()

    def publish(self, notification: Notification) -> None:
        """Queue for the sender thread; when the backlog is full (broker long gone), drop."""
        try:
            self._pending.put_nowait(notification)
        except queue.Full:
            if not self._dropping:
                log.error("message bus unreachable and backlog full; dropping notifications")
            self._dropping = True

    def subscribe(self, pattern: str, subscriber: Subscriber) -> None:
        """Deliver matching notifications from the broker (every publisher's, not only ours)."""
        self._subscribers.append((pattern, subscriber))
        if self._consumer is None:
            self._consumer = threading.Thread(
                target=self._consume_loop, name="bus-consume", daemon=True
            )
            self._consumer.start()
            # Bound before the first request is served, unless the broker does not answer.
            if not self._consuming.wait(READY_TIMEOUT_S):
                log.warning("message bus not reachable yet; subscribers start when it is")

    def close(self) -> None:
        """Send what is queued (for at most FLUSH_TIMEOUT_S), then stop both threads."""
        flush_s = FLUSH_TIMEOUT_S if self._reachable else 0.0
        with contextlib.suppress(queue.Full):
            self._pending.put(_STOP, timeout=flush_s)
        self._publisher.join(flush_s)
        self._abort.set()
        self._publisher.join(CONNECT_TIMEOUT_S)
        if self._consumer is not None:
            self._consumer.join(CONNECT_TIMEOUT_S + 1)

    def _exchange(self, name: str) -> kombu.Exchange:
        return kombu.Exchange(name, type="topic", durable=self.durable)

    # The sender thread.

    def _publish_loop(self) -> None:
        connection: kombu.Connection | None = None
        declared: set[tuple[str, str]] = set()
        backoff = Backoff(self._abort)
        while True:
            item = self._pending.get()
            if item is _STOP:
                break
            try:
                # Once per notification: a retry after a lost confirm keeps its `_unique_id`.
                body = envelope(item)
            except (TypeError, ValueError):
                log.exception("notification %s is not JSON; dropped", item["event_type"])
                continue
            while not self._abort.is_set():
                try:
                    connection = connection or connect(self.url)
                    self._send(connection, item, body, declared)
                    backoff.reset()
                    self._reachable, self._dropping = True, False
                    break
                except Exception as exc:
                    # Any broker or network failure: start over on a fresh connection.
                    log.warning("publishing %s failed (%s); retrying", item["event_type"], exc)
                    self._reachable = False
                    connection = _release(connection)
                    declared.clear()
                    backoff.wait()
        _release(connection)

    def _send(
        self,
        connection: kombu.Connection,
        item: Notification,
        body: dict[str, str],
        declared: set[tuple[str, str]],
    ) -> None:
        exchange = self._exchange(self.exchange or exchange_for(item))
        routing_key = f"{self.topic}.{str(item['priority']).lower()}"
        if (exchange.name, routing_key) not in declared:
            # As oslo.messaging does: the routing key's own queue keeps what nobody read yet.
            ensure_exchange(connection, exchange)
            ensure_queue(
                connection,
                kombu.Queue(routing_key, exchange, routing_key=routing_key, durable=self.durable),
            )
            declared.add((exchange.name, routing_key))
        connection.Producer().publish(
            body,
            exchange=exchange,
            routing_key=routing_key,
            serializer="json",
            delivery_mode=2 if self.durable else 1,
        )

    # The consumer thread.

    def _consume_loop(self) -> None:
        backoff = Backoff(self._abort)
        name = self._subscription_name
        while not self._abort.is_set():
            try:
                with connect(self.url) as connection:
                    self._subscription(connection, name)
                    declared = kombu.Queue(name, no_declare=True)
                    with connection.Consumer(
                        declared, callbacks=[self._deliver], on_decode_error=reject_undecodable
                    ):
                        self._consuming.set()
                        backoff.reset()
                        drain_until(connection, self._abort)
            except Exception as exc:
                log.warning("message bus subscription lost (%s); reconnecting", exc)
                backoff.wait()

    def _subscription(self, connection: kombu.Connection, name: str) -> None:
        """Our queue, bound to every service exchange (existing ones as they are); it goes
        away with its last consumer."""
        exchanges = {self.exchange} if self.exchange else set(SERVICE_EXCHANGES.values())
        channel = connection.default_channel
        channel.queue_declare(name, auto_delete=True)
        for exchange in sorted(exchanges | {DEFAULT_EXCHANGE}):
            ensure_exchange(connection, self._exchange(exchange))
            channel.queue_bind(name, exchange, routing_key=f"{self.topic}.*")

    def _deliver(self, body: Any, message: kombu.Message) -> None:
        message.ack()
        notification = unwrap(body)
        for pattern, subscriber in self._subscribers:
            if fnmatch.fnmatchcase(notification.get("event_type", ""), pattern):
                try:
                    subscriber(notification)
                except Exception:
                    log.exception("subscriber failed on %s", notification.get("event_type"))


def reject_undecodable(message: kombu.Message, exc: Exception) -> None:
    """A body we cannot decode is dropped, or it would come back after every reconnect."""
    log.error("dropped an undecodable message (%s, %s)", message.content_type, exc)
    message.reject()


def drain_until(connection: kombu.Connection, stop: threading.Event) -> None:
    """Dispatch deliveries until `stop`; the short timeout is how often `stop` is looked at."""
    while not stop.is_set():
        try:
            connection.drain_events(timeout=0.5)
        except TimeoutError:
            continue


def _release(connection: kombu.Connection | None) -> None:
    if connection is not None:
        try:
            connection.release()
        except Exception:
            log.debug("closing a broken bus connection failed", exc_info=True)
