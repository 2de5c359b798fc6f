"""Requests that change something must come from this office's own pages: the exact Origin
(or Referer) and a CSRF token bound to the browser's session or pre-session cookie. A refused
request changes nothing at the agent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.db.pool import DatabaseSettings
from proxy.agents import AgentConnections
from tests.agent.access_fixtures import PASSWORD, email_of
from tests.proxy.agent_fixtures import SUBDOMAIN, ProxySetup, closed_port
from tests.proxy.portal import ORIGIN, Browser, Portal, portal, serve_proxy
from tests.support.practice import DR_ADAMS, FOLLOW_UP


def _status(site: Portal, appointment: int) -> str:
    (row,) = site.query("SELECT status FROM appointments WHERE id = %s", (appointment,))
    return str(row["status"])


async def test_cancel_needs_this_sites_origin_and_the_sessions_token(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        appointment = site.add_appointment(
            1, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 25, 15, 0, tzinfo=UTC), 30
        )
        browser = await site.signed_in(1)
        page = await browser.get(f"/appointments/{appointment}/cancel")
        good = page.form(f"/appointments/{appointment}/cancel").fields
        url = f"/appointments/{appointment}/cancel"

        other = site.browser()
        pre_session_page = await other.get("/sign-in")  # a token bound to another cookie
        foreign_token = pre_session_page.form("/sign-in").fields["csrf"]

        refused = [
            await browser.post(url, good, headers={"Origin": None}),  # neither Origin nor Referer
            await browser.post(url, good, headers={"Origin": "http://evil.example"}),
            await browser.post(url, good, headers={"Origin": "null"}),
            await browser.post(
                url, good, headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"}
            ),
            await browser.post(
                url,
                {**good, "csrf": "0" * 64},
                headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
            ),
            await browser.post(url, good, headers={"Origin": "http://other-office.localhost:8080"}),
            await browser.post(url, good, headers={"Origin": "https://" + browser.host}),
            await browser.post(url, good, headers={"Origin": ORIGIN + "0"}),
            await browser.post(
                url, good, headers={"Origin": None, "Referer": "http://evil.example/x"}
            ),
            await browser.post(url, {k: v for k, v in good.items() if k != "csrf"}),
            await browser.post(url, {**good, "csrf": "0" * 64}),
            await browser.post(url, {**good, "csrf": foreign_token}),
            await browser.post(url, {**good, "csrf": ""}),
        ]
        for page in refused:
            assert page.status == 403
            assert "For your safety we could not accept that form" in page.visible_text
        assert _status(site, appointment) == "booked"

        # The real form as Chromium sends it under Referrer-Policy: no-referrer (Origin null,
        # the browser's own Sec-Fetch-Site, the right token) goes through.
        done = await browser.post(
            url, good, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"}
        )
        assert done.url == "/appointments?notice=cancelled"
        assert _status(site, appointment) == "cancelled"


async def test_sign_in_form_needs_its_token_too(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    """Login CSRF: a foreign page must not sign the browser in to the attacker's account."""
    async with portal(practice_db, link_keys, tmp_path) as site:
        await site.office.set_password(1, PASSWORD)
        browser = site.browser()
        form = (await browser.get("/sign-in")).form("/sign-in").fields
        credentials = {"login": email_of(1), "password": PASSWORD}

        without_token = await browser.post("/sign-in", credentials)
        no_cookie = Browser(site.client)
        with_token_no_cookie = await no_cookie.post("/sign-in", {**form, **credentials})
        cross_site = await browser.post(
            "/sign-in", {**form, **credentials}, headers={"Origin": "http://evil.example"}
        )

        for page in (without_token, with_token_no_cookie, cross_site):
            assert page.status == 403
        assert "__Host-portico" not in browser.cookies
        assert site.query("SELECT COUNT(*) AS n FROM portal_sessions")[0]["n"] == 0

        done = await browser.post("/sign-in", {**form, **credentials})
        assert done.url == "/appointments"


async def test_a_token_is_worth_nothing_at_another_office(link_keys: Path, tmp_path: Path) -> None:
    setup = ProxySetup(link_keys, tmp_path)
    port = closed_port()
    config = setup.config(
        {
            SUBDOMAIN: setup.tenant("127.0.0.1", port),
            "second-office": setup.tenant("127.0.0.1", port),
        }
    )
    agents = AgentConnections(config, requester_id="csrf-test")
    try:
        async with serve_proxy(config, agents) as client:
            first = Browser(client)
            form = (await first.get("/sign-in")).form("/sign-in").fields
            second = Browser(client, "second-office.localhost:8080")
            second.cookies.update(first.cookies)  # even the same cookie value
            credentials = {"login": "a@example.org", "password": "x" * 12}

            page = await second.post("/sign-in", {**form, **credentials})
            assert page.status == 403

            # Its own form passes the check (and then finds the office's server down).
            own = (await second.get("/sign-in")).form("/sign-in").fields
            assert (await second.post("/sign-in", {**own, **credentials})).status == 503
    finally:
        await agents.close()


async def test_get_never_changes_anything(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        appointment = site.add_appointment(
            1, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 25, 15, 0, tzinfo=UTC), 30
        )
        browser = await site.signed_in(1)
        session = browser.cookies["__Host-portico"]
        for url in (
            f"/appointments/{appointment}/cancel",
            f"/appointments/{appointment}/reschedule/confirm?provider=1&start=2026-11-24T14:00:00Z",
            "/book/confirm?type=1&provider=1&day=2026-11-24&start=2026-11-24T14:00:00Z",
            "/sign-out",
            "/account/password?current_password=x&new_password=y",
        ):
            await browser.get(url)
            await browser.request("HEAD", url)
        assert site.query("SELECT id, status FROM appointments WHERE patient_id = 1") == [
            {"id": appointment, "status": "booked"}
        ]
        assert browser.cookies["__Host-portico"] == session
        assert (await browser.get("/appointments")).url == "/appointments"  # still signed in


async def test_odd_bodies_are_refused_not_a_failure(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = site.browser()
        await browser.get("/sign-in")
        bodies = [
            ("multipart/form-data", b"garbage"),
            ("multipart/form-data; boundary=x", b"--x\r\nnot a part\r\n"),
            ("application/json", b'{"csrf": "x"}'),
            ("application/x-www-form-urlencoded", b"csrf=%zz&login=%ff%fe"),
            ("application/x-www-form-urlencoded", b"x" * 70_000),  # over the size limit
        ]
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        for content_type, body in bodies:
            headers = {
                "Host": browser.host,
                "Origin": ORIGIN,
                "Cookie": cookie,
                "Content-Type": content_type,
            }
            async with site.client.post("/sign-in", data=body, headers=headers) as response:
                assert response.status in (400, 403, 413), (content_type, response.status)
                assert "Traceback" not in await response.text()
