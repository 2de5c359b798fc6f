"""Every response carries the security headers: pages, redirects, static files, and every
kind of error page, including the ones aiohttp or a failure produces."""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from proxy.agents import AgentConnections
from tests.agent.access_fixtures import PASSWORD, email_of
from tests.proxy.agent_fixtures import ProxySetup, closed_port
from tests.proxy.portal import Browser, FailingAgents, Page, portal, proxy_config, serve_proxy

EXPECTED = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


def assert_secured(page: Page) -> None:
    for name, value in EXPECTED.items():
        assert page.headers.getall(name, []) == [value], (page.url, page.status, name)
    assert "Server" not in page.headers
    assert "<script" not in page.text.lower()
    assert " style=" not in page.text.lower() and "<style" not in page.text.lower()


async def test_headers_on_pages_redirects_static_and_errors(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(
        practice_db, link_keys, tmp_path, rate_limit={"sign_in_per_minute": 1, "burst": 1}
    ) as site:
        browser = site.browser()
        pages = [
            await browser.get("/sign-in"),
            await browser.get("/", follow=False),  # 303
            await browser.get("/static/portico.css"),
            await browser.request("HEAD", "/sign-in"),
            await browser.get("/no-such-page"),  # the office's own 404 page
            await browser.request("PUT", "/sign-in"),  # 403: no CSRF token
            await site.browser("nobody.localhost:8080").get("/sign-in"),  # unknown office
            await site.browser("nobody.localhost:8080").get("/static/portico.css"),
        ]
        signed_in = await site.signed_in(1)
        pages.append(await signed_in.get("/appointments"))
        pages.append(await signed_in.get("/appointments/999999/cancel"))  # 404 from the agent
        form = (await browser.get("/sign-in")).form("/sign-in")
        for _ in range(2):
            pages.append(
                await browser.post("/sign-in", {**form.fields, "login": "x", "password": "y"})
            )

        statuses = [p.status for p in pages]
        assert statuses == [200, 303, 200, 200, 404, 403, 404, 404, 200, 404, 401, 429]
        assert pages[2].headers["Content-Type"].startswith("text/css")
        for page in pages:
            assert_secured(page)


async def test_headers_on_the_agent_down_and_failure_pages(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    setup = ProxySetup(link_keys, tmp_path)
    down = proxy_config(setup, closed_port())
    agents = AgentConnections(down, requester_id="headers-test")
    try:
        async with serve_proxy(down, agents) as client:
            browser = Browser(client)
            browser.cookies["__Host-portico"] = "A" * 43
            page = await browser.get("/appointments")
            assert page.status == 503
            assert_secured(page)
    finally:
        await agents.close()

    async with portal(practice_db, link_keys, tmp_path) as site:
        failing = FailingAgents(site.config, requester_id="headers-test")
        try:
            async with serve_proxy(site.config, failing) as client:
                await site.office.set_password(1, PASSWORD)
                browser = Browser(client)
                page = await browser.get("/sign-in")
                page = await browser.submit(page, "/sign-in", login=email_of(1), password=PASSWORD)
                assert page.status == 500
                assert_secured(page)
        finally:
            await failing.close()
