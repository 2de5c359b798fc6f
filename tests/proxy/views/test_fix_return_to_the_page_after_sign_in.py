"""Issue 11: "After sign-in the patient lands on Appointments, not where she was going (the
embedded Book button, a new-message email link). Return to the requested page (same-site
paths only)." An attacker's `next` (another site, a scheme, "//host", a backslash) leads to
Appointments instead."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import PASSWORD, email_of
from tests.proxy.portal import Browser, Page, portal
from tests.support.practice import FOLLOW_UP

ATTACKS = [
    "//evil.example",
    "https://evil.example",
    "https://evil.example/appointments",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "///evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "/appointments\r\nSet-Cookie: x=1",
    "/\tevil.example",
    "/\u2215evil.example",  # a division slash: "//" to some URL parsers
    "\uff0f\uff0fevil.example",  # fullwidth solidus
    " //evil.example",
    "",
]


async def sign_in_from(browser: Browser, page: Page, follow: bool = True) -> Page:
    form = page.form("/sign-in")
    values = {**form.fields, "login": email_of(1), "password": PASSWORD}
    return await browser.post(form.action, values, follow=follow)


@pytest.mark.parametrize(
    "wanted, shows",
    [
        (f"/book?type={FOLLOW_UP}", "Who would you like to see?"),  # the embedded Book button
        ("/messages", "Messages"),  # the new-message email's link
        ("/forms", "Forms"),
    ],
)
async def test_signing_in_leads_to_the_page_asked_for(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, wanted: str, shows: str
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        await site.office.set_password(1, PASSWORD)
        browser = site.browser()
        page = await browser.get(wanted)
        assert page.url.startswith("/sign-in?notice=required")
        assert parse_qs(urlsplit(page.url).query)["next"] == [wanted]

        landed = await sign_in_from(browser, page)

        assert landed.url == wanted and landed.status == 200
        assert shows in landed.visible_text


async def test_a_wrong_password_keeps_the_way_back(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        await site.office.set_password(1, PASSWORD)
        browser = site.browser()
        page = await browser.get("/forms")
        form = page.form("/sign-in")
        wrong = await browser.post(
            form.action, {**form.fields, "login": email_of(1), "password": "not it at all 1"}
        )
        assert wrong.status == 401
        assert (await sign_in_from(browser, wrong)).url == "/forms"


@pytest.mark.parametrize("attack", ATTACKS)
async def test_another_sites_next_goes_to_appointments(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, attack: str
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        await site.office.set_password(1, PASSWORD)
        browser = site.browser()
        page = await browser.get("/sign-in?" + urlencode({"next": attack}))
        assert page.status == 200
        assert "evil" not in page.text

        answer = await sign_in_from(browser, page, follow=False)
        assert answer.headers["Location"] == "/appointments"

        # Sent straight to the form, not through the page.
        browser = site.browser()
        form = (await browser.get("/sign-in")).form("/sign-in")
        values = {**form.fields, "login": email_of(1), "password": PASSWORD, "next": attack}
        answer = await browser.post(form.action, values, follow=False)
        assert answer.headers["Location"] == "/appointments"
