"""RPC over AMQP (RabbitMQ, through kombu): `AmqpRpc` calls and casts, `RpcServer` answers.

Requests go to a topic exchange (`onestack` by default) with the target as routing key. An
`RpcServer` for agent `compute` on host `h1` consumes from queue `compute` (shared, so servers
of one kind take turns) and `compute.h1` (that host only). A call carries `reply_to` (the
caller's private reply queue) and a `correlation_id`; the server answers through the default
exchange to that queue. Requests expire after the call's timeout, so a late server does not run
what nobody waits for. Requests are acknowledged on receipt, as oslo.messaging does: at most once.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import kombu

from onestack.common.amqp import (
    CONNECT_TIMEOUT_S,
    READY_TIMEOUT_S,
    Backoff,
    connect,
    drain_until,
    reject_undecodable,
)
from onestack.common.rpc import (
    DEFAULT_TIMEOUT_S,
    BusUnavailable,
    Reply,
    RpcTimeout,
    dispatch,
    result_of,
    topics,
)

log = logging.getLogger("onestack.rpc")

# Reconnect attempts inside one publish before the caller hears BusUnavailable.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}


class Sender:
    """One connection for publishing, shared by threads under a lock (kombu's are not safe)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._connection: kombu.Connection | None = None
        self._lock = threading.Lock()

    def publish(self, body: Reply, **options: Any) -> None:
        with self._lock:
            try:
                self._connection = self._connection or connect(self.url)
                self._connection.Producer().publish(
                    body, serializer="json", retry=True, retry_policy=PUBLISH_RETRY, **options
                )
            except Exception as exc:
                self._drop()
                raise BusUnavailable(f"The message bus did not take the message: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:
                log.debug("closing a broken RPC connection failed", exc_info=True)
            self._connection = None


class Listener(threading.Thread):
    """Consumes `queues` on its own connection until stopped; reconnects with backoff."""

    def __init__(self, url: str, queues: list[kombu.Queue], on_message: Any, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.url = url
        self.queues = queues
        self.on_message = on_message
        self.ready = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        backoff = Backoff(self.stopping)
        while not self.stopping.is_set():
            try:
                with (
                    connect(self.url) as connection,
                    connection.Consumer(
                        self.queues,
                        callbacks=[self.on_message],
                        on_decode_error=reject_undecodable,
                    ),
                ):
                    self.ready.set()
                    backoff.reset()
                    drain_until(connection, self.stopping)
            except Exception as exc:
                log.warning("%s lost the message bus (%s); reconnecting", self.name, exc)
                backoff.wait()

    def start_and_wait(self) -> None:
        self.start()
        if not self.ready.wait(READY_TIMEOUT_S):
            raise BusUnavailable(f"{self.name} could not reach the message bus.")

    def stop(self) -> None:
        self.stopping.set()
        self.join(CONNECT_TIMEOUT_S + 1)


class RpcServer:
    """Serves the public methods of `endpoints` as agent `agent_name` (see the docstring)."""

    def __init__(
        self,
        bus_url: str,
        agent_name: str,
        endpoints: object,
        *,
        host: str | None = None,
        exchange: str = "onestack",
        workers: int = 4,
    ) -> None:
        self.endpoints = endpoints
        self.topics = topics(agent_name, host)
        self._sender = Sender(bus_url)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=f"rpc-{agent_name}")
        requests = kombu.Exchange(exchange, type="topic", durable=False)
        queues = [kombu.Queue(t, requests, routing_key=t, durable=False) for t in self.topics]
        self._listener = Listener(bus_url, queues, self._on_request, f"rpc-server-{agent_name}")

    def start(self) -> RpcServer:
        """Consume; returns once the queues are bound (BusUnavailable if the broker is away)."""
        self._listener.start_and_wait()
        return self

    def stop(self) -> None:
        self._listener.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._sender.close()

    def _on_request(self, body: Any, message: kombu.Message) -> None:
        message.ack()
        properties = message.properties
        self._pool.submit(
            self._answer,
            body,
            properties.get("reply_to"),
            properties.get("correlation_id"),
        )

    def _answer(self, body: Any, reply_to: str | None, correlation_id: str | None) -> None:
        if not isinstance(body, dict):
            log.error("dropped an RPC request that is not an object: %r", body)
            return
        reply = dispatch(self.endpoints, str(body.get("method", "")), body.get("args") or {})
        if reply_to is None:
            if "failure" in reply:
                log.error("cast %s failed: %s", body.get("method"), reply["failure"]["message"])
            return
        try:
            self._sender.publish(
                reply, exchange="", routing_key=reply_to, correlation_id=correlation_id
            )
        except BusUnavailable:
            log.exception("the answer to %s could not be sent", body.get("method"))


class AmqpRpc:
    """The `Rpc` interface over RabbitMQ."""

    def __init__(
        self, url: str, *, exchange: str = "onestack", timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._requests = kombu.Exchange(exchange, type="topic", durable=False)
        self._sender = Sender(url)
        self._reply_queue = f"reply_{uuid.uuid4().hex}"
        self._replies: Listener | None = None
        self._waiting: dict[str, Future[Reply]] = {}
        self._lock = threading.Lock()

    def call(
        self, target: str, method: str, *, timeout_s: float | None = None, **kwargs: Any
    ) -> Any:
        timeout_s = timeout_s or self.timeout_s
        self._listen_for_replies()
        correlation_id = uuid.uuid4().hex
        answer: Future[Reply] = Future()
        self._waiting[correlation_id] = answer
        try:
            self._send(target, method, kwargs, timeout_s, self._reply_queue, correlation_id)
            return result_of(answer.result(timeout=timeout_s))
        except FutureTimeout:
            raise RpcTimeout(f"{target!r} did not answer {method} within {timeout_s} s.") from None
        finally:
            self._waiting.pop(correlation_id, None)

    def cast(self, target: str, method: str, **kwargs: Any) -> None:
        self._send(target, method, kwargs, None, None, None)

    def serve(self, agent: str, endpoints: object, host: str | None = None) -> RpcServer:
        return RpcServer(
            self.url, agent, endpoints, host=host, exchange=self._requests.name
        ).start()

    def close(self) -> None:
        if self._replies is not None:
            self._replies.stop()
        self._sender.close()

    def _send(
        self,
        target: str,
        method: str,
        args: dict[str, Any],
        timeout_s: float | None,
        reply_to: str | None,
        correlation_id: str | None,
    ) -> None:
        options: dict[str, Any] = {"exchange": self._requests, "routing_key": target}
        if reply_to is not None:
            options |= {"reply_to": reply_to, "correlation_id": correlation_id}
        if timeout_s is not None:
            options["expiration"] = timeout_s
        self._sender.publish({"method": method, "args": args}, declare=[self._requests], **options)

    def _listen_for_replies(self) -> None:
        with self._lock:
            if self._replies is not None:
                return
            queue = kombu.Queue(self._reply_queue, exclusive=True, auto_delete=True)
            replies = Listener(self.url, [queue], self._on_reply, "rpc-replies")
            try:
                replies.start_and_wait()
            except BusUnavailable:
                replies.stop()
                raise
            self._replies = replies

    def _on_reply(self, body: Any, message: kombu.Message) -> None:
        message.ack()
        waiting = self._waiting.get(message.properties.get("correlation_id", ""))
        if waiting is not None and not waiting.done():
            waiting.set_result(body)
