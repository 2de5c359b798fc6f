"""Pages ask the agent for what they need once: a repeated link call is a round trip (and an
agent request) a patient waits for with nothing to show for it. Counted on the agent's own
per-method request counter, and as the link writes of each page (tests/proxy/link_writes.py):
over a WAN every write that waits for an earlier answer costs the patient a round trip."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from agent.db.pool import DatabaseSettings
from proxy.views.base import SIGNED_OUT_ROUTES
from tests.agent.forms.seeding import CHECKUP, assign_form
from tests.agent.messages.seeding import send_office_message
from tests.proxy.agent_fixtures import SUBDOMAIN
from tests.proxy.link_writes import LinkWrites
from tests.proxy.portal import Page, Portal, portal
from tests.proxy.views.clinical_pages_fixtures import plant_record
from tests.support.practice import DR_ADAMS, FOLLOW_UP

REQUESTS = "portico_agent_link_requests_total"
PDF = b"%PDF-1.4\n% a tiny test file\n"


def answered(site: Portal, method: str) -> float:
    sample = site.office.agent.metrics.registry.get_sample_value(
        REQUESTS, {"method": method, "code": "ok"}
    )
    return sample or 0.0


async def test_the_sign_up_page_asks_for_the_office_rules_once(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path, access={"self_registration": True}) as site:
        before = answered(site, "practice.info")
        register = await site.browser().get("/register")
        assert register.status == 200
        assert register.form("/register").fields.keys() >= {"first_name", "email", "password"}
        assert answered(site, "practice.info") - before == 1


# -- one round trip per page ---------------------------------------------------------------


def _get_form_url(page: Page, action: str, **typed: str) -> str:
    """Where the GET form on `page` to `action` leads with `typed` filled in (Browser.submit's
    URL, without following it)."""
    values = {**page.form(action).fields, **typed}
    query = urlencode({k: v for k, v in values.items() if v != ""})
    return f"{action}?{query}" if query else action


def _signed_in_gets(site: Portal) -> set[str]:
    names = set()
    for route in site.client.app.router.routes():
        name = route.resource.name if route.resource is not None else None
        if route.method == "GET" and name is not None and name not in SIGNED_OUT_ROUTES:
            names.add(name)
    return names


async def test_every_signed_in_page_is_one_link_round_trip(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        visit = site.add_appointment(
            1, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 25, 15, 0, tzinfo=UTC), 30
        )
        thread = send_office_message(practice_db, 1, "Lab results", "In.", [("r.pdf", PDF)])
        send_office_message(practice_db, 1, "Flu shots", "Available.")  # stays unread
        (attachment,) = site.query("SELECT id FROM portal_message_attachments")
        assignment = assign_form(practice_db, 1, CHECKUP)
        plant_record(site, 1)
        browser = await site.signed_in(1)
        writes = LinkWrites(site.agents, SUBDOMAIN)
        trips: dict[str, list[list[str]]] = {}  # each page: the methods of each write
        seen: set[str] = set()

        async def page_at(url: str, route: str, status: int = 200) -> Page:
            writes.clear()
            page = await browser.get(url, follow=False)
            assert page.status == status, (url, page.status, page.visible_text[:300])
            trips[url] = writes.batches
            seen.add(route)
            if route not in ("message_attachment", "health_record", "calendar_file"):
                # The header's count came with the page's own requests, before it was drawn.
                assert re.search(r"Messages \(\d unread\)", page.visible_text), url
            return page

        home = await page_at("/appointments", "appointments")
        (move,) = home.links(rf"/appointments/{visit}/reschedule(\?|$)")
        await page_at(f"/appointments/{visit}/booked", "booked")
        await page_at(f"/appointments/{visit}/calendar.ics", "calendar_file")
        await page_at(f"/appointments/{visit}/cancel", "cancel_page")
        for flow, first in (("/book", "/book"), (f"/appointments/{visit}/reschedule", move)):
            route = "book_page" if flow == "/book" else "reschedule_page"
            step = await page_at(first, route)
            if flow == "/book":
                step = await page_at(_get_form_url(step, flow, type=str(FOLLOW_UP)), route)
            step = await page_at(_get_form_url(step, flow, provider="any"), route)
            (day,) = step.links(r"day=2026-11-24")
            step = await page_at(day, route)
            confirm = _get_form_url(step, f"{flow}/confirm", start="2026-11-24T15:30:00Z")
            await page_at(confirm, route.replace("_page", "_confirm_page"))
        await page_at("/account", "account")
        await page_at("/messages", "messages")
        await page_at("/messages/new", "message_new")
        await page_at(f"/messages/{thread}", "message_thread")
        await page_at(f"/messages/attachments/{attachment['id']}", "message_attachment")
        await page_at("/forms", "forms")
        await page_at(f"/forms/{assignment}", "form")
        await page_at("/records", "records")
        await page_at("/records/health-record.json", "health_record")

        assert seen == _signed_in_gets(site), "a signed-in page this test does not open"
        several = {url: batches for url, batches in trips.items() if len(batches) != 1}
        assert not several, several
