"""The bus and RPC are chosen once from settings: in-process by default, AMQP with a URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from onestack.cloud import make_bus, make_rpc
from onestack.common.amqp import AmqpBus
from onestack.common.bus import LocalBus
from onestack.common.rpc import LocalRpc
from onestack.common.rpc_amqp import AmqpRpc
from onestack.settings import load_settings

URL = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture(autouse=True)
def _restore_state_dir_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """`load_settings` exports ONESTACK_STATE_DIR; put it back as it was after each test."""
    monkeypatch.delenv("ONESTACK_STATE_DIR", raising=False)


def test_in_process_without_a_url(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path)

    bus, rpc = make_bus(settings), make_rpc(settings)

    assert isinstance(bus, LocalBus) and isinstance(rpc, LocalRpc)
    bus.close()
    rpc.close()


def test_amqp_with_a_url(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path, bus_url=URL)

    bus, rpc = make_bus(settings), make_rpc(settings)

    assert isinstance(bus, AmqpBus) and isinstance(rpc, AmqpRpc)
    assert bus.url == rpc.url == URL
    bus.close()
    rpc.close()


def test_bus_url_flag_keeps_the_other_bus_settings_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONESTACK_BUS__NOTIFICATIONS_FILE", str(tmp_path / "n.jsonl"))
    monkeypatch.setenv("ONESTACK_BUS__NOTIFICATIONS_TOPIC", "audit")

    settings = load_settings(state_dir=tmp_path, bus_url=URL)

    assert settings.bus.url == URL
    assert settings.bus.notifications_file == tmp_path / "n.jsonl"
    assert settings.bus.notifications_topic == "audit"


def test_bus_url_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTACK_BUS__URL", URL)

    assert load_settings(state_dir=tmp_path).bus.url == URL
