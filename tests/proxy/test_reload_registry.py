"""Reloading the tenant registry into a running proxy: SIGHUP adds, removes, moves and re-pins
offices without a restart, and the links of offices whose entry did not change stay up.

The proxy is `run_proxy` itself, in this process, with the SIGHUP handler it installs (the same
path `systemctl reload portico-proxy` takes); the offices are real agents over pinned TLS, one
per subdomain, sharing the small practice's database. A page "answers" when a wrong password on
the office's sign-in page gets the agent's refusal (401), not "we can't reach the office" (503).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from protocol.keys import write_identity
from proxy.agents import AgentConnections, AgentUnavailable
from proxy.config import load_proxy_config
from proxy.serve import run_proxy
from proxy.views.errors import UNKNOWN_SITE_BODY
from tests.protocol.link_fixtures import until
from tests.proxy.agent_fixtures import PRACTICE_NAME, SUBDOMAIN, LinkCutter, ProxySetup
from tests.proxy.portal import Browser, Page
from tests.support.logs import LogCapture
from tests.support.ports import free_port
from tests.support.practice import agent_config, cheap_hasher

SECOND = "north-clinic"
SECOND_NAME = "North Street Clinic"
PATIENCE = 10.0


class Offices:
    """Real agents, each serving the practice under the subdomain (and link key) it is given."""

    def __init__(self, settings: DatabaseSettings, keys: Path) -> None:
        self.settings, self.keys = settings, keys
        self.running: list[Agent] = []

    async def start(
        self, subdomain: str = SUBDOMAIN, *, key_dir: Path | None = None, port: int = 0
    ) -> Agent:
        config = agent_config(self.settings, self.keys)
        update: dict[str, Any] = {
            "practice": config.practice.model_copy(update={"subdomain": subdomain})
        }
        if key_dir is not None:
            files = {"key_file": key_dir / "key.pem", "cert_file": key_dir / "cert.pem"}
            update["tls"] = config.tls.model_copy(update=files)
        agent = Agent.build(config.model_copy(update=update), hasher=cheap_hasher())
        await agent.start(port=port)
        self.running.append(agent)
        return agent

    async def stop(self, agent: Agent) -> None:
        self.running.remove(agent)
        await agent.stop(grace=5)


@pytest.fixture
async def offices(practice_db: DatabaseSettings, link_keys: Path) -> AsyncIterator[Offices]:
    running = Offices(practice_db, link_keys)
    try:
        yield running
    finally:
        for agent in list(running.running):
            await running.stop(agent)


def links_accepted(agent: Agent) -> float:
    """How many links the agent has accepted (its own metric): a redial counts one more."""
    value = agent.metrics.registry.get_sample_value("portico_agent_link_connections_accepted_total")
    return value or 0.0


class ProxyFile:
    """proxy.yaml as the operator edits it between reloads (rate limits out of the tests' way)."""

    def __init__(self, setup: ProxySetup, offices: dict[str, Agent]) -> None:
        """``offices``: subdomain -> the agent serving it."""
        self.setup = setup
        self.path = setup.directory / "proxy.yaml"
        self.port = free_port()
        self.data = setup.data({name: self.office(agent) for name, agent in offices.items()})
        self.data["listen"] = {"host": "127.0.0.1", "port": self.port}
        self.data["rate_limit"] = {"sign_in_per_minute": 10_000, "burst": 1000}
        self.save()

    def office(self, agent: Agent, **options: Any) -> dict[str, Any]:
        return self.setup.tenant("127.0.0.1", agent.server.port, **options)

    @property
    def tenants(self) -> dict[str, Any]:
        tenants: dict[str, Any] = self.data["tenants"]
        return tenants

    def save(self) -> None:
        self.path.write_text(yaml.safe_dump(self.data, sort_keys=False))


class Replica:
    """One `portico-proxy serve`, and a visitor to its offices' sign-in pages."""

    def __init__(self, file: ProxyFile, logs: LogCapture, http: aiohttp.ClientSession) -> None:
        self.file, self.logs, self.http = file, logs, http

    async def sighup(self) -> dict[str, Any]:
        """Reload as `systemctl reload` does; the outcome's log line (reloaded or rejected)."""
        before = len(self._outcomes())
        os.kill(os.getpid(), signal.SIGHUP)
        await until(lambda: len(self._outcomes()) > before)
        return self._outcomes()[-1]

    def _outcomes(self) -> list[dict[str, Any]]:
        ends = ("proxy.reloaded", "proxy.reload_rejected")
        return [r for r in self.logs.records() if r.get("event") in ends]

    async def sign_in(self, tenant: str) -> Page:
        browser = Browser(self.http, f"{tenant}.localhost:{self.file.port}")  # type: ignore[arg-type]
        page = await browser.get("/sign-in")
        if page.status != 200:
            return page
        return await browser.submit(
            page, "/sign-in", login="nobody@example.org", password="not the password 1"
        )

    async def answers(self, tenant: str) -> bool:
        """The office's agent answered the sign-in (reconnecting first if need be)."""
        async with asyncio.timeout(PATIENCE):
            while (page := await self.sign_in(tenant)).status != 401:
                assert page.status == 503, (page.status, page.visible_text)
                await asyncio.sleep(0.05)
        return True

    async def unknown(self, tenant: str) -> bool:
        page = await self.sign_in(tenant)
        return page.status == 404 and page.text == UNKNOWN_SITE_BODY


@asynccontextmanager
async def serving(file: ProxyFile, logs: LogCapture) -> AsyncIterator[Replica]:
    stop = asyncio.Event()
    config = load_proxy_config(file.path)
    proxy = asyncio.create_task(run_proxy(config, stop=stop, config_path=file.path))
    try:
        # The SIGHUP handler is installed before the site listens: only then may tests send it.
        await logs.wait_for("proxy.listening")
        base = f"http://127.0.0.1:{file.port}"
        async with aiohttp.ClientSession(base, cookie_jar=aiohttp.DummyCookieJar()) as http:
            yield Replica(file, logs, http)
    finally:
        stop.set()
        await proxy


# -- offices come and go -------------------------------------------------------------------------


async def test_an_office_added_to_the_file_answers_after_a_reload(
    offices: Offices, proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    first, second = await offices.start(), await offices.start(SECOND)
    file = ProxyFile(proxy_setup, {SUBDOMAIN: first})
    async with serving(file, logs) as proxy:
        assert await proxy.unknown(SECOND)

        file.tenants[SECOND] = file.office(second, name=SECOND_NAME)
        file.save()
        reloaded = await proxy.sighup()

        assert await proxy.answers(SECOND)
        assert SECOND_NAME in (await proxy.sign_in(SECOND)).visible_text
    assert reloaded["event"] == "proxy.reloaded"
    assert f"tenants.{SECOND}.host" in reloaded["applied"]
    assert not logs.records("proxy.reload_needs_restart")


async def test_a_removed_office_is_unknown_and_the_other_office_keeps_its_link(
    offices: Offices, proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    first, second = await offices.start(), await offices.start(SECOND)
    file = ProxyFile(proxy_setup, {SUBDOMAIN: first, SECOND: second})
    async with serving(file, logs) as proxy:
        assert await proxy.answers(SUBDOMAIN) and await proxy.answers(SECOND)
        kept = set(first.server.connections)

        del file.tenants[SECOND]
        file.save()
        await proxy.sighup()

        assert await proxy.unknown(SECOND)
        await until(lambda: not second.server.connections)  # its link closed
        assert await proxy.answers(SUBDOMAIN)
        assert set(first.server.connections) == kept and len(kept) == 1
        assert links_accepted(first) == 1
    # The proxy said GOAWAY before closing the removed office's link.
    assert logs.records("link.peer_going_away", tenant=SECOND, role="responder")


async def test_a_new_name_and_phone_show_at_once_on_the_same_link(
    offices: Offices, proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    agent = await offices.start()
    file = ProxyFile(proxy_setup, {SUBDOMAIN: agent})
    async with serving(file, logs) as proxy:
        assert await proxy.answers(SUBDOMAIN)

        file.tenants[SUBDOMAIN].update(name="Example Clinic East", phone="+1 555 0199")
        file.save()
        await proxy.sighup()

        page = await proxy.sign_in(SUBDOMAIN)
        assert "Example Clinic East" in page.visible_text and "+1 555 0199" in page.text
        assert links_accepted(agent) == 1


async def test_an_office_moved_to_another_port_is_reached_there(
    offices: Offices, proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    old, new = await offices.start(), await offices.start()
    file = ProxyFile(proxy_setup, {SUBDOMAIN: old})
    async with serving(file, logs) as proxy:
        assert await proxy.answers(SUBDOMAIN)

        file.tenants[SUBDOMAIN]["port"] = new.server.port
        file.save()
        await proxy.sighup()

        assert await proxy.answers(SUBDOMAIN)
        assert links_accepted(new) == 1
        await until(lambda: not old.server.connections)


# -- pins ---------------------------------------------------------------------------------------


async def test_the_agent_key_rolls_with_reloads_instead_of_restarts(
    offices: Offices, proxy_setup: ProxySetup, logs: LogCapture, tmp_path: Path
) -> None:
    """docs/key-rotation.md, "The office changes its agent's key", with no proxy restart."""
    old_pin, new_key = proxy_setup.agent_pin, tmp_path / "agent-new"
    new_pin = write_identity(new_key, "portico-agent")
    agent = await offices.start()
    port = agent.server.port
    file = ProxyFile(proxy_setup, {SUBDOMAIN: agent})
    async with serving(file, logs) as proxy:
        assert await proxy.answers(SUBDOMAIN)

        # 2. Trust both pins: a pin only added keeps the link it has.
        file.tenants[SUBDOMAIN]["pins"] = [old_pin, new_pin]
        file.save()
        await proxy.sighup()
        assert await proxy.answers(SUBDOMAIN)
        assert links_accepted(agent) == 1

        # 3. The office switches to the new key and restarts its agent.
        await offices.stop(agent)
        agent = await offices.start(key_dir=new_key, port=port)
        assert await proxy.answers(SUBDOMAIN)

        # 4. Forget the old pin.
        file.tenants[SUBDOMAIN]["pins"] = [new_pin]
        file.save()
        await proxy.sighup()
        assert await proxy.answers(SUBDOMAIN)

    refusals = [r for r in logs.records("agent.connect_failed") if r["kind"] in ("pin", "tls")]
    assert refusals == []  # no step refused a key (only the restart's "refused" port)


async def test_removing_the_pin_of_the_key_in_use_closes_its_link_and_refuses_the_key(
    offices: Offices, proxy_setup: ProxySetup, logs: LogCapture, tmp_path: Path
) -> None:
    agent = await offices.start()  # still on the old key, say restored from a backup
    file = ProxyFile(proxy_setup, {SUBDOMAIN: agent})
    async with serving(file, logs) as proxy:
        assert await proxy.answers(SUBDOMAIN)

        new_pin = write_identity(tmp_path / "agent-new", "portico-agent")
        file.tenants[SUBDOMAIN]["pins"] = [new_pin]
        file.save()
        await proxy.sighup()

        await until(lambda: not agent.server.connections)
        assert (await proxy.sign_in(SUBDOMAIN)).status == 503
        refusal = await logs.wait_for("agent.connect_failed", tenant=SUBDOMAIN)
    assert refusal["kind"] == "pin"


# -- what a reload does not do -------------------------------------------------------------------


async def test_an_invalid_file_changes_no_office_and_no_link(
    offices: Offices, proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    first, second = await offices.start(), await offices.start(SECOND)
    file = ProxyFile(proxy_setup, {SUBDOMAIN: first})
    async with serving(file, logs) as proxy:
        assert await proxy.answers(SUBDOMAIN)

        file.data["tenants"] = {SECOND: file.office(second)}  # the first office dropped...
        file.data["rate_limit"] = {"burst": 0}  # ...in a file that is not valid
        file.save()
        rejected = await proxy.sighup()

        assert await proxy.answers(SUBDOMAIN)
        assert await proxy.unknown(SECOND)
        assert links_accepted(first) == 1 and links_accepted(second) == 0
    assert rejected["event"] == "proxy.reload_rejected"
    assert any(p.startswith("rate_limit.burst (line ") for p in rejected["problems"])
    assert not logs.records("agents.registry_applied")
    secret = (proxy_setup.directory / "secret").read_text().strip()
    assert secret not in logs.stream.getvalue()


async def test_restart_only_settings_are_named_and_the_registry_still_applies(
    offices: Offices, proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    first, second = await offices.start(), await offices.start(SECOND)
    file = ProxyFile(proxy_setup, {SUBDOMAIN: first})
    async with serving(file, logs) as proxy:
        other_secret = proxy_setup.directory / "secret-2"
        other_secret.write_text("s" * 48)
        file.data["listen"] = {"host": "127.0.0.1", "port": free_port()}
        file.data["secret_file"] = str(other_secret)
        file.tenants[SECOND] = file.office(second)
        file.save()
        await proxy.sighup()

        assert await proxy.answers(SECOND)  # still on the old port: listen needs a restart
    (restart,) = logs.records("proxy.reload_needs_restart")
    assert restart["settings"] == ["listen.port", "secret_file"]


# -- AgentConnections.apply_registry on its own ---------------------------------------------------


async def test_a_request_in_flight_for_a_removed_office_is_answered_before_its_link_closes(
    offices: Offices, proxy_setup: ProxySetup, logs: LogCapture
) -> None:
    agent = await offices.start()
    cutter = LinkCutter(agent.server.port)
    await cutter.start()
    config = proxy_setup.config({SUBDOMAIN: proxy_setup.tenant("127.0.0.1", cutter.port)})
    links = AgentConnections(config, requester_id="reload-test")
    try:
        await links.request(SUBDOMAIN, "practice.info", {})
        cutter.hold_answers()
        pending = asyncio.create_task(links.request(SUBDOMAIN, "practice.info", {}))
        answered = {"method": "practice.info", "code": "ok"}
        total = "portico_agent_link_requests_total"
        await until(lambda: agent.metrics.registry.get_sample_value(total, answered) == 2)

        other = proxy_setup.config({SECOND: proxy_setup.tenant("127.0.0.1", 9)})
        changes = links.apply_registry(other.tenants)

        assert (changes.added, changes.removed) == ((SECOND,), (SUBDOMAIN,))
        assert set(links.link_states()) == {SECOND}
        with pytest.raises(AgentUnavailable):
            await links.request(SUBDOMAIN, "practice.info", {})
        assert not pending.done() and agent.server.connections
        assert not logs.records("link.peer_going_away", role="responder")
        cutter.release_answers()
        assert (await pending)["name"] == PRACTICE_NAME
        await logs.wait_for("link.peer_going_away", tenant=SUBDOMAIN, role="responder")
    finally:
        await links.close()
        await cutter.close()
