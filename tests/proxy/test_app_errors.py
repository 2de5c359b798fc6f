"""What a patient sees when something is wrong: an unknown address, the office's server
unreachable, a failure inside the proxy. Never a stack trace, never another office's name."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from multidict import CIMultiDict

from agent.db.pool import DatabaseSettings
from proxy.agents import AgentConnections
from tests.agent.access_fixtures import PASSWORD, email_of
from tests.proxy.agent_fixtures import PRACTICE_NAME, ProxySetup, closed_port
from tests.proxy.portal import Browser, FailingAgents, portal, proxy_config, serve_proxy
from tests.support.logs import LogCapture
from tests.support.tcp_relay import TcpRelay

UNKNOWN_HOSTS = [
    "nobody.localhost",
    "nobody.localhost:8080",
    "localhost:8080",
    "a.example-clinic.localhost",
    "example-clinic.evil.example",
    "example-clinic.localhost.evil.example",
    "127.0.0.1:8080",
    "[::1]:8080",
    "example-clinic.localhost:99999",
    "example-clinic.localhost:x",
    "exa mple.localhost",
    "\u0435xample-clinic.localhost",  # a Cyrillic lookalike of the first letter
    "-bad-.localhost",
    "x" * 300 + ".localhost",
    "",
]


async def test_unknown_and_malformed_hosts_all_get_the_same_bare_404(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        bodies = set()
        for host in UNKNOWN_HOSTS:
            for path in ("/", "/sign-in", "/static/portico.css", "/appointments/1/cancel"):
                page = await site.browser(host).get(path)
                assert page.status == 404, (host, path)
                assert page.set_cookies == []
                bodies.add(page.text)
            page = await site.browser(host).post("/sign-in", {"login": "a", "password": "b"})
            assert page.status == 404
            bodies.add(page.text)
        # Two Host headers: which office is meant is not for the proxy to guess.
        headers = CIMultiDict([("Host", "example-clinic.localhost"), ("Host", "nobody.localhost")])
        async with site.client.get("/sign-in", headers=headers) as response:
            assert response.status in (400, 404)
            if response.status == 404:
                bodies.add(await response.text())

        assert len(bodies) == 1
        (body,) = bodies
        assert PRACTICE_NAME not in body and "example-clinic" not in body.lower()
        assert "href" not in body

        # Case does not matter in a host name: the office's real address still works.
        assert (await site.browser("Example-Clinic.LOCALHOST:8080").get("/sign-in")).status == 200


async def test_agent_down_says_call_the_office(link_keys: Path, tmp_path: Path) -> None:
    config = proxy_config(ProxySetup(link_keys, tmp_path), closed_port())
    agents = AgentConnections(config, requester_id="errors-test")
    try:
        async with serve_proxy(config, agents) as client:
            browser = Browser(client)
            page = await browser.get("/sign-in")
            assert page.status == 200  # needs no agent
            page = await browser.submit(page, "/sign-in", login="a@example.org", password="x" * 12)
            assert page.status == 503
            assert (
                f"We can't reach {PRACTICE_NAME} right now. Please call +1 555 0100."
                in page.visible_text
            )
            assert 'href="tel:+15550100"' in page.text

            browser.cookies["__Host-portico"] = "A" * 43
            for path in ("/appointments", "/book", "/account", "/appointments/5/cancel"):
                page = await browser.get(path)
                assert page.status == 503, path
                assert "Please call +1 555 0100" in page.visible_text
    finally:
        await agents.close()


async def test_office_database_down_says_call_the_office(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    relay = TcpRelay(practice_db.host, practice_db.port)
    await relay.start()
    via_relay = dataclasses.replace(practice_db, host="127.0.0.1", port=relay.port)
    try:
        async with portal(via_relay, link_keys, tmp_path) as site:
            # The test's own (blocking) queries go straight to the database, not via the relay
            # that runs on this event loop.
            direct = dataclasses.replace(site.office, settings=practice_db)
            await direct.set_password(1, PASSWORD)
            browser = site.browser()
            page = await browser.get("/sign-in")
            page = await browser.submit(page, "/sign-in", login=email_of(1), password=PASSWORD)
            assert page.url == "/appointments"

            await relay.cut()
            page = await browser.get("/appointments")
            assert page.status == 503
            assert (
                f"We can't reach {PRACTICE_NAME} right now. Please call +1 555 0100."
                in page.visible_text
            )

            # Back by itself once the database is (the agent's pool drops dead connections),
            # and the patient is still signed in.
            await relay.restore()
            statuses = [(await browser.get("/appointments")).status for _ in range(5)]
            assert statuses[-1] == 200 and set(statuses) <= {200, 503}
    finally:
        await relay.cut()


async def test_a_failure_is_a_friendly_500_and_the_log_holds_no_patient_data(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        await site.office.set_password(1, PASSWORD)
        failing = FailingAgents(site.config, requester_id="errors-test")
        try:
            async with serve_proxy(site.config, failing) as client:
                browser = Browser(client)
                page = await browser.get("/sign-in")
                page = await browser.submit(page, "/sign-in", login=email_of(1), password=PASSWORD)
        finally:
            await failing.close()

        assert page.status == 500
        assert "Something went wrong on our side" in page.visible_text
        assert "+1 555 0100" in page.visible_text
        for leak in ("Traceback", "RuntimeError", "boom", "Canary", "views/"):
            assert leak not in page.text
        [record] = logs.records("proxy.unhandled")
        assert record["error"] == "RuntimeError" and record["route"] == "appointments"
        everything = "\n".join(str(r) for r in logs.records())
        assert "Canary" not in everything and "1970-01-01" not in everything


async def test_unknown_page_on_a_real_office_is_friendly(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        page = await site.browser().get("/no/such/page")
        assert page.status == 404
        assert "Page not found" in page.visible_text
        assert PRACTICE_NAME in page.visible_text  # the office's own header
        page = await site.browser().get("/appointments/99999999999999999999/cancel")
        assert page.status == 404
