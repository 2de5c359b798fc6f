"""Reloading agent.yaml into a running agent (what SIGHUP does, agent/reload.py).

A valid file takes effect on links opened before it; an invalid one changes nothing and the log
says why; settings only a restart applies are named. The agent is the real one (Agent.build from
the file, as `portico-agent run` builds it) with real links; tests/agent/test_service_notify.py
shows the same reload driven by SIGHUP in a subprocess.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog

from agent.clock import FixedClock
from agent.config import load_config
from agent.daemon import LIVE_SETTINGS, Agent
from agent.db.pool import DatabaseSettings
from protocol.aio import LinkClient, LinkRefused, RemoteError
from protocol.keys import write_identity
from protocol.service.reload import plan_changes
from protocol.tls import client_config
from tests.protocol.link_fixtures import until
from tests.support.logs import LogCapture, captured_logs
from tests.support.practice import (
    DR_ADAMS,
    FOLLOW_UP,
    NOW,
    RunningPractice,
    agent_config_data,
    cheap_hasher,
    write_config_file,
)

SLOT = "2026-11-25T15:00:00Z"  # Wednesday 10:00 in New York, two days ahead of NOW


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """The agent's log lines; also puts the log level back after a reload changed it."""
    with captured_logs() as capture:
        yield capture


class ConfigFile:
    """agent.yaml on disk, as office IT edits it between reloads."""

    def __init__(self, path: Path, settings: DatabaseSettings, keys: Path) -> None:
        self.path = path
        self.data = agent_config_data(settings, keys)
        self.data["email"] = {"mode": "folder", "outbox_dir": str(path.parent / "outbox")}
        self.data["metrics"] = {"enabled": False}
        self.save()

    def edit(self, section: str, **values: Any) -> None:
        self.data[section] = {**self.data.get(section, {}), **values}
        self.save()

    def save(self) -> None:
        write_config_file(self.path, self.data)


def proxy_tls(keys: Path, proxy: Path) -> Any:
    """The TLS config of a proxy whose identity is in `proxy` (key.pem, cert.pem)."""
    agent_pin = (keys / "agent.pin").read_text()
    return client_config(proxy / "key.pem", proxy / "cert.pem", [agent_pin])


async def open_link(agent: Agent, tls: Any) -> LinkClient:
    return await LinkClient.connect(
        "127.0.0.1", agent.server.port, tls=tls, tenant="example-clinic", requester_id="test"
    )


@asynccontextmanager
async def agent_from(file: ConfigFile, keys: Path) -> AsyncIterator[RunningPractice]:
    """The agent `portico-agent run` would start from the file, and one link to it."""
    clock = FixedClock(NOW)
    agent = Agent.build(load_config(file.path), clock=clock, hasher=cheap_hasher())
    await agent.start(port=0)
    client = await open_link(agent, proxy_tls(keys, keys / "proxy"))
    try:
        yield RunningPractice(agent, client, clock, agent.db.settings)
    finally:
        await client.close()
        await agent.stop(grace=5)


async def book(practice: RunningPractice) -> Any:
    return await practice.call(
        "booking.book", appointment_type_id=FOLLOW_UP, provider_id=DR_ADAMS, start=SLOT
    )


@pytest.fixture
def config_file(tmp_path: Path, practice_db: DatabaseSettings, link_keys: Path) -> ConfigFile:
    return ConfigFile(tmp_path / "agent.yaml", practice_db, link_keys)


# -- valid files ----------------------------------------------------------------------------


async def test_a_new_booking_rule_reaches_a_link_opened_before_the_reload(
    config_file: ConfigFile, link_keys: Path, logs: LogCapture
) -> None:
    async with agent_from(config_file, link_keys) as practice:
        (connection,) = practice.agent.server.connections

        config_file.edit("booking", enabled=False)
        changes = practice.agent.reload_config(config_file.path)

        assert changes is not None and changes.live == ("booking.enabled",)
        with pytest.raises(RemoteError) as refused:
            await book(practice)
        assert refused.value.code == "booking_disabled"
        assert practice.client.is_usable
        assert practice.agent.server.connections == {connection}  # the same link, kept open
    assert logs.records("agent.reloaded")[0]["applied"] == ["booking.enabled"]


async def test_a_longer_notice_applies_at_once(
    config_file: ConfigFile, link_keys: Path, logs: LogCapture
) -> None:
    async with agent_from(config_file, link_keys) as practice:
        config_file.edit("booking", min_notice_hours=72)  # SLOT is only 51 hours away
        assert practice.agent.reload_config(config_file.path) is not None

        with pytest.raises(RemoteError) as refused:
            await book(practice)
        assert refused.value.code == "outside_booking_window"


async def test_a_changed_listen_port_is_named_as_needing_a_restart(
    config_file: ConfigFile, link_keys: Path, logs: LogCapture
) -> None:
    async with agent_from(config_file, link_keys) as practice:
        port = practice.agent.server.port
        config_file.edit("listen", port=4321)
        config_file.edit("database", pool_size=3)

        changes = practice.agent.reload_config(config_file.path)

        assert changes is not None and changes.live == ()
        assert practice.agent.server.port == port  # still where the proxies expect it
        assert (await book(practice))["status"] == "booked"
        # Reloading the same file again still names them: they are not in effect yet.
        assert practice.agent.reload_config(config_file.path) == changes
    named = logs.records("agent.reload_needs_restart")
    assert [record["settings"] for record in named] == [["database.pool_size", "listen.port"]] * 2


async def test_a_new_proxy_pin_admits_new_links_and_keeps_the_old_one(
    config_file: ConfigFile, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    new_pin = write_identity(tmp_path / "new-proxy", "portico-proxy")
    new_proxy = proxy_tls(link_keys, tmp_path / "new-proxy")
    async with agent_from(config_file, link_keys) as practice:
        with pytest.raises(LinkRefused):
            await open_link(practice.agent, new_proxy)

        old_pin = config_file.data["tls"]["proxy_pins"][0]
        config_file.edit("tls", proxy_pins=[old_pin, new_pin])
        assert practice.agent.reload_config(config_file.path) is not None

        fresh = await open_link(practice.agent, new_proxy)
        try:
            assert (await fresh.request("practice.info"))["name"] == "Example Family Clinic"
            assert practice.client.is_usable
            assert (await book(practice))["status"] == "booked"
        finally:
            await fresh.close()


async def test_a_removed_proxy_pin_sends_its_link_away(
    config_file: ConfigFile, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    new_pin = write_identity(tmp_path / "new-proxy", "portico-proxy")
    async with agent_from(config_file, link_keys) as practice:
        config_file.edit("tls", proxy_pins=[new_pin])  # the old key is retired
        assert practice.agent.reload_config(config_file.path) is not None

        await until(lambda: not practice.client.is_usable)
        with pytest.raises(LinkRefused):
            await open_link(practice.agent, proxy_tls(link_keys, link_keys / "proxy"))
    assert logs.records("link.trust_withdrawn")


async def test_narrowed_networks_refuse_new_links(
    config_file: ConfigFile, link_keys: Path, logs: LogCapture
) -> None:
    async with agent_from(config_file, link_keys) as practice:
        config_file.edit("listen", allowed_proxies=["10.20.0.0/16"])
        assert practice.agent.reload_config(config_file.path) is not None

        with pytest.raises(LinkRefused):
            await open_link(practice.agent, proxy_tls(link_keys, link_keys / "proxy"))
    refused = logs.records("link.refused", stage="address")
    assert len(refused) == 1


async def test_a_new_log_level_applies_without_a_restart(
    config_file: ConfigFile, link_keys: Path, logs: LogCapture
) -> None:
    async with agent_from(config_file, link_keys) as practice:
        config_file.edit("logging", level="warning")
        assert practice.agent.reload_config(config_file.path) is not None

        probe = structlog.get_logger("portico.test")
        probe.info("test.info_probe")
        probe.warning("test.warning_probe")
    assert logging.getLogger().level == logging.WARNING
    assert logs.records("test.warning_probe") and not logs.records("test.info_probe")


# -- invalid files --------------------------------------------------------------------------


async def test_an_invalid_file_is_rejected_and_the_old_rules_stay(
    config_file: ConfigFile, link_keys: Path, logs: LogCapture
) -> None:
    config_file.edit("booking", enabled=False)
    async with agent_from(config_file, link_keys) as practice:
        config_file.edit("booking", enabled=True, round_to_minutes=20)
        config_file.edit("database", password="canary-Secret-4471")

        assert practice.agent.reload_config(config_file.path) is None

        with pytest.raises(RemoteError) as refused:
            await book(practice)
        assert refused.value.code == "booking_disabled"  # the rule of the running config
        assert practice.client.is_usable
    (rejected,) = logs.records("agent.reload_rejected")
    assert any(p.startswith("booking.round_to_minutes (line ") for p in rejected["problems"])
    assert "canary-Secret" not in logs.stream.getvalue()
    assert not logs.records("agent.reloaded")


async def test_an_unreadable_file_is_rejected(
    config_file: ConfigFile, link_keys: Path, logs: LogCapture
) -> None:
    async with agent_from(config_file, link_keys) as practice:
        config_file.path.unlink()

        assert practice.agent.reload_config(config_file.path) is None
        assert (await book(practice))["status"] == "booked"
    (rejected,) = logs.records("agent.reload_rejected")
    assert rejected["reason"].startswith("cannot read the file")


async def test_a_file_the_agent_cannot_put_into_effect_is_rejected_and_the_old_config_stays(
    config_file: ConfigFile, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    """The reload is refused, as on the proxy, when applying it fails: here the new proxy pin
    cannot be applied because the link's TLS settings no longer hold the key pair needed to
    re-pin (a fault no file can cause, injected at the TLS boundary). Nothing of the file takes
    effect, not even the settings that could have."""
    new_pin = write_identity(tmp_path / "new-proxy", "portico-proxy")
    new_proxy = proxy_tls(link_keys, tmp_path / "new-proxy")
    async with agent_from(config_file, link_keys) as practice:
        agent = practice.agent
        running = agent.config
        agent.server.tls = dataclasses.replace(agent.server.tls, identity=None)
        old_pin = config_file.data["tls"]["proxy_pins"][0]
        config_file.edit("tls", proxy_pins=[old_pin, new_pin])
        config_file.edit("booking", enabled=False)

        assert agent.reload_config(config_file.path) is None

        assert agent.config is running
        assert (await book(practice))["status"] == "booked"  # booking.enabled did not change
        assert practice.client.is_usable
        with pytest.raises(LinkRefused):
            await open_link(agent, new_proxy)  # the new pin was not applied either
    (rejected,) = logs.records("agent.reload_rejected")
    assert rejected["reason"].startswith("cannot put it into effect (ValueError: ")
    assert rejected["reason"].endswith("the running configuration is unchanged")
    assert not logs.records("agent.reloaded")


# -- the comparison itself ------------------------------------------------------------------


def test_a_changed_password_is_named_but_never_shown(config_file: ConfigFile) -> None:
    before = load_config(config_file.path)
    config_file.edit("database", password="canary-Secret-4471")
    config_file.edit("access", lockout_minutes=20)

    changes = plan_changes(before, load_config(config_file.path), LIVE_SETTINGS)

    assert changes.live == ("access.lockout_minutes",)
    assert changes.needs_restart == ("database.password",)
