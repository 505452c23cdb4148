"""The bus over RabbitMQ: `onestack up --bus-url` publishes identity notifications the way
oslo.messaging does (read back here with our own kombu consumer), keeps serving when the broker
is silent, and RPC call/cast between processes with timeouts and remote errors.

Needs RabbitMQ at 127.0.0.1:5672 (ONESTACK_TEST_AMQP_URL to change); skips when none answers.
Every test uses its own topic, exchange and agent names and removes what it declared.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import kombu
import pytest

from onestack.common.rpc import BusUnavailable, RemoteError, RpcTimeout
from onestack.common.rpc_amqp import AmqpRpc
from tests.functional.cloud import CloudFactory, CloudProcess
from tests.functional.identity_api import admin_client

AMQP_URL = os.environ.get("ONESTACK_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
WAIT_S = 15


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _wait_for(found: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        result = found()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {WAIT_S} s")


@pytest.fixture(scope="module")
def broker() -> Iterator[kombu.Connection]:
    connection = kombu.Connection(AMQP_URL, connect_timeout=3)
    try:
        connection.ensure_connection(max_retries=1)
    except Exception as exc:
        pytest.skip(f"no RabbitMQ answers at {AMQP_URL}: {exc}")
    yield connection
    connection.release()


@pytest.fixture(scope="module")
def topic(broker: kombu.Connection) -> Iterator[str]:
    """The cloud's notification topic; its default queue is removed at the end."""
    name = _unique("notifications-test")
    yield name
    broker.default_channel.queue_delete(f"{name}.info")


@pytest.fixture(scope="module")
def amqp_cloud(
    broker: kombu.Connection, topic: str, make_cloud: CloudFactory
) -> Iterator[CloudProcess]:
    cloud = make_cloud(bus_url=AMQP_URL, settings={"bus.notifications_topic": topic})
    yield cloud
    assert cloud.stop() == 0


class Listener:
    """Our own consumer on an exchange, bound the way Ceilometer binds one."""

    def __init__(self, exchange: str, routing_key: str) -> None:
        self.connection = kombu.Connection(AMQP_URL)
        self.messages: list[kombu.Message] = []
        queue = kombu.Queue(
            _unique("test-listener"),
            # Passive: the cloud declared it; bind to it as it is.
            kombu.Exchange(exchange, type="topic", passive=True),
            routing_key=routing_key,
            exclusive=True,
        )
        self.consumer = self.connection.Consumer(queue, callbacks=[self._received])
        self.consumer.consume()

    def _received(self, body: Any, message: kombu.Message) -> None:
        message.ack()
        self.messages.append(message)

    def wait_for(self, matches: Callable[[kombu.Message], bool], what: str) -> kombu.Message:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            found = [message for message in self.messages if matches(message)]
            if found:
                return found[0]
            with contextlib.suppress(TimeoutError):
                self.connection.drain_events(timeout=0.2)
        raise AssertionError(f"{what} did not reach the broker within {WAIT_S} s")

    def close(self) -> None:
        self.consumer.cancel()
        self.connection.release()


@pytest.fixture
def listener(broker: kombu.Connection, topic: str) -> Iterator[Listener]:
    listener = Listener("keystone", f"{topic}.info")
    yield listener
    listener.close()


def _create_project(cloud: CloudProcess) -> dict[str, Any]:
    response = admin_client(cloud).post(
        "projects", json={"project": {"name": _unique("bus"), "domain_id": "default"}}
    )
    assert response.status_code == 201, response.text
    return response.json()["project"]


def _notification(message: kombu.Message) -> dict[str, Any]:
    """The notification inside oslo.messaging's 2.0 envelope."""
    body = json.loads(message.body)
    assert body["oslo.version"] == "2.0"
    return json.loads(body["oslo.message"])


def _is_created(project_id: str) -> Callable[[kombu.Message], bool]:
    def matches(message: kombu.Message) -> bool:
        notification = _notification(message)
        return (
            notification["event_type"] == "identity.project.created"
            and notification["payload"]["resource_info"] == project_id
        )

    return matches


def test_project_created_reaches_a_consumer_of_the_keystone_exchange(
    amqp_cloud: CloudProcess, listener: Listener, topic: str
) -> None:
    project = _create_project(amqp_cloud)

    message = listener.wait_for(_is_created(project["id"]), "identity.project.created")

    notification = _notification(message)
    assert notification["priority"] == "INFO"
    assert notification["publisher_id"].startswith("identity.")
    assert uuid.UUID(notification["message_id"])
    assert notification["timestamp"]
    assert notification["payload"]["initiator"]
    assert message.delivery_info["exchange"] == "keystone"
    assert message.delivery_info["routing_key"] == f"{topic}.info"
    assert message.content_type == "application/json"
    assert message.properties["delivery_mode"] == 2


def test_notifications_wait_in_the_topic_queue_for_a_late_consumer(
    amqp_cloud: CloudProcess, broker: kombu.Connection, topic: str
) -> None:
    project = _create_project(amqp_cloud)
    queue = kombu.Queue(f"{topic}.info", no_declare=True)
    bound = queue(broker.default_channel)

    def created() -> bool:
        message = bound.get(no_ack=True)
        return message is not None and _is_created(project["id"])(message)

    _wait_for(created, "the notification in the topic's own queue")


def test_the_notifications_file_is_fed_from_the_broker(amqp_cloud: CloudProcess) -> None:
    project = _create_project(amqp_cloud)

    def logged() -> list[dict[str, Any]]:
        found = amqp_cloud.notifications("identity.project.created")
        return [n for n in found if n["payload"]["resource_info"] == project["id"]]

    [notification] = _wait_for(logged, "the subscriber writing the notifications file")
    assert notification["publisher_id"].startswith("identity.")


def test_workers_of_one_cloud_write_each_notification_once(
    broker: kombu.Connection, topic: str, make_cloud: CloudFactory
) -> None:
    settings = {"bus.notifications_topic": topic}
    cloud = make_cloud(workers=2, bus_url=AMQP_URL, settings=settings)
    try:
        first, second = _create_project(cloud), _create_project(cloud)

        def logged(project: dict[str, Any]) -> Callable[[], list[dict[str, Any]]]:
            def found() -> list[dict[str, Any]]:
                created = cloud.notifications("identity.project.created")
                return [n for n in created if n["payload"]["resource_info"] == project["id"]]

            return found

        _wait_for(logged(first), "the first project in the notifications file")
        # Once the later one is in, a copy of the first through another worker would be too.
        _wait_for(logged(second), "the second project in the notifications file")
        assert len(logged(first)()) == 1
    finally:
        assert cloud.stop() == 0
    assert cloud.server_errors() == []


WRITES = 5


@pytest.fixture
def silent_broker() -> Iterator[str]:
    """An AMQP URL whose port accepts connections and then never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"amqp://guest:guest@127.0.0.1:{sock.getsockname()[1]}//"


def test_a_silent_broker_neither_blocks_nor_breaks_identity_writes(
    silent_broker: str, make_cloud: CloudFactory
) -> None:
    cloud = make_cloud(bus_url=silent_broker)
    try:
        admin = admin_client(cloud)
        started = time.monotonic()
        for number in range(WRITES):
            body = {"project": {"name": f"while-down-{number}", "domain_id": "default"}}
            response = admin.post("projects", json=body)
            assert response.status_code == 201, response.text
        elapsed_s = time.monotonic() - started

        # A write that waited for the broker would wait out its 2 s connect timeout: five of
        # them could not finish in 8 s even on a loaded machine where one takes 0.5 s.
        assert elapsed_s < 2 * WRITES - 2
        assert admin.get("projects", params={"name": "while-down-0"}).json()["projects"]
    finally:
        assert cloud.stop() == 0
    assert cloud.server_errors() == []


# RPC between this test and an agent in another process.


@pytest.fixture
def rpc_names(broker: kombu.Connection) -> Iterator[tuple[str, str]]:
    """A fresh exchange and agent name; their queues and exchange are removed afterwards."""
    exchange, agent = _unique("onestack-test"), _unique("agent")
    yield exchange, agent
    channel = broker.default_channel
    for queue in (agent, f"{agent}.host-a"):
        channel.queue_delete(queue)
    channel.exchange_delete(exchange)


@pytest.fixture
def agent(rpc_names: tuple[str, str]) -> Iterator[str]:
    """`python -m tests.functional.rpc_agent` serving `<agent>` on host `host-a`."""
    exchange, name = rpc_names
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.functional.rpc_agent", AMQP_URL, exchange, name, "host-a"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    yield name
    process.terminate()
    assert process.wait(timeout=30) == 0
    process.stdout.close()


@pytest.fixture
def rpc(rpc_names: tuple[str, str]) -> Iterator[AmqpRpc]:
    client = AmqpRpc(AMQP_URL, exchange=rpc_names[0], timeout_s=10)
    yield client
    client.close()


def test_call_returns_the_agents_answer(rpc: AmqpRpc, agent: str) -> None:
    assert rpc.call(agent, "add", a=20, b=22) == 42


def test_call_to_the_host_topic_reaches_that_host(rpc: AmqpRpc, agent: str) -> None:
    assert rpc.call(f"{agent}.host-a", "whoami") == "host-a"


def test_remote_exception_comes_back_as_remote_error(rpc: AmqpRpc, agent: str) -> None:
    with pytest.raises(RemoteError) as raised:
        rpc.call(agent, "fail", reason="disk full")

    assert raised.value.exc_type == "builtins.ValueError"
    assert raised.value.remote_message == "disk full"
    assert "disk full" in raised.value.remote_traceback


def test_unknown_method_comes_back_as_remote_error(rpc: AmqpRpc, agent: str) -> None:
    with pytest.raises(RemoteError) as raised:
        rpc.call(agent, "_private")

    assert raised.value.exc_type == "builtins.AttributeError"


def test_cast_is_done_by_the_agent(rpc: AmqpRpc, agent: str) -> None:
    rpc.cast(agent, "remember", value={"server_id": "s1"})

    _wait_for(lambda: rpc.call(agent, "recall") == [{"server_id": "s1"}], "the cast")


def test_call_nobody_serves_times_out(rpc: AmqpRpc, rpc_names: tuple[str, str]) -> None:
    with pytest.raises(RpcTimeout) as raised:
        rpc.call(f"{rpc_names[1]}-nobody", "add", a=1, b=2, timeout_s=0.5)

    assert raised.value.status == 504


def test_rpc_without_a_broker_is_bus_unavailable(silent_broker: str) -> None:
    client = AmqpRpc(silent_broker, timeout_s=1)
    try:
        with pytest.raises(BusUnavailable):
            client.call("compute", "add", a=1, b=2)
        with pytest.raises(BusUnavailable):
            client.cast("compute", "add", a=1, b=2)
    finally:
        client.close()
