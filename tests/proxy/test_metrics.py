"""The proxy's Prometheus endpoint and /healthz, with a real agent behind the real app.

The metrics listen on a loopback port of their own (any free one here); the portal pages are
driven through the app as a browser would, then the endpoint is scraped over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from proxy.agents import AgentConnections, AgentUnavailable
from proxy.config import ProxyConfig
from proxy.metrics import LINK_STATES, METRICS
from tests.proxy.agent_fixtures import SUBDOMAIN, Offices, ProxySetup, closed_port
from tests.proxy.portal import Browser, Portal, portal, serve_proxy

CANARY = "Canary-Zebulon-1970-01-01"
REQUESTS = "portico_proxy_http_requests_total"
LINK_STATE = "portico_proxy_agent_link_state"
DOWN_OFFICE = "closed-clinic"


class Scrape:
    """One scrape of a metrics endpoint: the raw text and its samples."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 for a labelled series never touched (Prometheus's view too)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def state(self, tenant: str) -> str:
        """The one link state reported as current for ``tenant``."""
        current = [s for s in LINK_STATES if self.value(LINK_STATE, tenant=tenant, state=s) == 1]
        assert len(current) == 1, (tenant, current)
        return current[0]


async def scrape(app: web.Application) -> Scrape:
    address = app[METRICS].address
    assert address is not None
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://{address[0]}:{address[1]}/metrics") as reply,
    ):
        assert reply.status == 200, reply.status
        return Scrape(await reply.text())


@asynccontextmanager
async def measured_portal(
    settings: DatabaseSettings, keys: Path, directory: Path, **metrics: Any
) -> AsyncIterator[tuple[Portal, web.Application]]:
    async with portal(settings, keys, directory, metrics={"port": 0, **metrics}) as site:
        yield site, site.client.server.app


# -- requests ------------------------------------------------------------------------------------


async def test_requests_are_counted_by_route_name_and_status(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with measured_portal(practice_db, link_keys, tmp_path) as (site, app):
        browser = site.browser()
        assert (await browser.get("/sign-in")).status == 200
        assert (await browser.get("/sign-in")).status == 200
        assert (await browser.get("/appointments", follow=False)).status == 303
        assert (await browser.get("/no-such-page")).status == 404

        result = await scrape(app)

    assert result.value(REQUESTS, route="sign_in_page", status="200") == 2
    assert result.value(REQUESTS, route="appointments", status="303") == 1
    assert result.value(REQUESTS, route="unmatched", status="404") == 1
    count = "portico_proxy_http_request_duration_seconds_count"
    assert result.value(count, route="sign_in_page") == 2


async def test_paths_queries_hosts_and_forms_never_reach_the_scrape(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with measured_portal(practice_db, link_keys, tmp_path) as (site, app):
        browser = site.browser()
        await browser.get(f"/reset?token={CANARY}")
        await browser.get("/appointments/987654321/cancel")
        await browser.get(f"/{CANARY}")
        page = await browser.get("/sign-in")
        await browser.submit(page, "/sign-in", login=f"{CANARY}@example.org", password=CANARY)
        await Browser(site.client, host=f"{CANARY.lower()}.localhost:8080").get("/")

        result = await scrape(app)

    assert result.value(REQUESTS, route="reset_page", status="404") == 1  # scraped after them
    assert result.value(REQUESTS, route="sign_in", status="401") == 1
    assert CANARY.lower() not in result.text.lower()
    assert "987654321" not in result.text
    assert "example.org" not in result.text


# -- links to the offices ------------------------------------------------------------------------


@asynccontextmanager
async def two_offices(
    offices: Offices, setup: ProxySetup
) -> AsyncIterator[tuple[AgentConnections, web.Application, Agent]]:
    """A proxy for the running test office and for one whose agent is not there."""
    agent = await offices.start()
    data = setup.data(
        {
            SUBDOMAIN: setup.tenant("127.0.0.1", agent.server.port),
            DOWN_OFFICE: setup.tenant("127.0.0.1", closed_port()),
        }
    )
    config = ProxyConfig.model_validate({**data, "metrics": {"port": 0}})
    agents = AgentConnections(config, requester_id="metrics-test")
    try:
        async with serve_proxy(config, agents) as client:
            yield agents, client.server.app, agent
    finally:
        await agents.close()


async def test_each_office_link_is_idle_until_first_needed(
    offices: Offices, proxy_setup: ProxySetup
) -> None:
    async with two_offices(offices, proxy_setup) as (_, app, _):
        result = await scrape(app)

    assert (result.state(SUBDOMAIN), result.state(DOWN_OFFICE)) == ("idle", "idle")


async def test_a_reachable_office_is_connected_and_an_unreachable_one_is_not(
    offices: Offices, proxy_setup: ProxySetup
) -> None:
    async with two_offices(offices, proxy_setup) as (agents, app, _):
        await agents.request(SUBDOMAIN, "practice.info", {})
        with contextlib.suppress(AgentUnavailable):
            await agents.request(DOWN_OFFICE, "practice.info", {})

        result = await scrape(app)

    assert result.state(SUBDOMAIN) == "connected"
    # Between attempts or in one: which of the two depends on the backoff's random draw.
    assert result.state(DOWN_OFFICE) in ("backing_off", "connecting")
    assert result.value("portico_proxy_agent_link_failures", tenant=DOWN_OFFICE) >= 1
    assert result.value("portico_proxy_agent_link_failures", tenant=SUBDOMAIN) == 0


async def test_a_link_the_agent_closed_shows_as_lost_until_dialled_again(
    offices: Offices, proxy_setup: ProxySetup
) -> None:
    async with two_offices(offices, proxy_setup) as (agents, app, agent):
        await agents.request(SUBDOMAIN, "practice.info", {})
        await offices.stop(agent)  # GOAWAY, then the connection closes

        async with asyncio.timeout(5):
            while (result := await scrape(app)).state(SUBDOMAIN) != "lost":
                await asyncio.sleep(0.01)

    assert result.value(LINK_STATE, tenant=SUBDOMAIN, state="connected") == 0


# -- /healthz and where the metrics are (not) served ---------------------------------------------


async def test_healthz_answers_ok_whatever_the_host(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with measured_portal(practice_db, link_keys, tmp_path) as (site, app):
        pages = [
            await Browser(site.client, host=host).get("/healthz")
            for host in ("10.0.0.5:8443", f"{SUBDOMAIN}.localhost:8080", "unknown.localhost")
        ]
        result = await scrape(app)

    assert [(page.status, page.text) for page in pages] == [(200, "ok\n")] * 3
    assert all(page.headers["Cache-Control"] == "no-store" for page in pages)
    assert result.value(REQUESTS, route="healthz", status="200") == 3


async def test_healthz_stays_ok_while_an_office_is_down(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    # One office's outage must not take the replica out of the load balancer's pool.
    async with measured_portal(practice_db, link_keys, tmp_path) as (site, _):
        await site.office.agent.stop(grace=1)
        page = await site.browser().get("/healthz")

    assert (page.status, page.text) == (200, "ok\n")


async def test_the_public_site_does_not_serve_metrics(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with measured_portal(practice_db, link_keys, tmp_path) as (site, _):
        page = await site.browser().get("/metrics")

    assert page.status == 404
    assert "portico_proxy" not in page.text


async def test_the_metrics_listener_is_its_own_loopback_port(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with measured_portal(practice_db, link_keys, tmp_path) as (site, app):
        address = app[METRICS].address

    assert address is not None
    assert address[0] == "127.0.0.1"
    assert address[1] != site.client.server.port


async def test_disabled_metrics_open_no_listener(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with measured_portal(practice_db, link_keys, tmp_path, enabled=False) as (site, app):
        assert (await site.browser().get("/healthz")).status == 200
        assert app[METRICS].address is None


def test_metrics_default_to_loopback_port_9124(proxy_setup: ProxySetup) -> None:
    data = proxy_setup.data({SUBDOMAIN: proxy_setup.tenant("127.0.0.1", 1234)})
    del data["metrics"]  # the test setup turns metrics off; here the defaults are the point
    config = ProxyConfig.model_validate(data)

    assert (config.metrics.enabled, config.metrics.host, config.metrics.port) == (
        True,
        "127.0.0.1",
        9124,
    )
