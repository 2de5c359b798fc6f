"""Issue 11: "After `access disable`, the very next click still renders a signed-in page (the
provider list): every signed-in page must check the session first."

The check is structural: every route of the app that is not a signed-out page gets the agent's
word on the session before its handler runs, so the loops below go over the app's own routes,
not a hand-made list that a new page could be missing from."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from agent.db.pool import DatabaseSettings
from proxy.views.base import SIGNED_OUT_ROUTES
from tests.proxy.portal import Browser, Portal, portal
from tests.support.practice import FOLLOW_UP

SESSION_COOKIE = "__Host-portico"


def signed_in_routes(site: Portal) -> list[tuple[str, str, str]]:
    """(method, a URL of it, route name) for every signed-in route; ids are all 1: the
    session is checked before anything is looked up, so whose id it is cannot matter."""
    found = []
    for route in site.client.app.router.routes():
        name = route.resource.name if route.resource is not None else None
        if route.method == "HEAD" or name is None or name in SIGNED_OUT_ROUTES:
            continue
        assert isinstance(route.resource, web.Resource)
        url = re.sub(r"\{[^}]*\}", "1", route.resource.canonical)
        found.append((route.method, url, name))
    return found


async def ask(browser: Browser, method: str, url: str, csrf: str) -> str:
    """The Location the proxy answers with (no redirect followed)."""
    if method == "GET":
        page = await browser.get(url, follow=False)
    else:
        page = await browser.post(url, {"csrf": csrf}, follow=False)
    assert page.status == 303, (method, url, page.status, page.visible_text[:200])
    return str(page.headers["Location"])


async def test_after_access_disable_every_signed_in_page_sends_to_sign_in(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        steps = await browser.get(f"/book?type={FOLLOW_UP}")
        assert "Who would you like to see?" in steps.visible_text
        token = browser.cookies[SESSION_COOKIE]
        csrf = steps.form("/sign-out").fields["csrf"]

        await site.office.staff.set_access(1, False)

        # The click reported: the provider list again.
        page = await browser.get(f"/book?type={FOLLOW_UP}")
        assert page.url.startswith("/sign-in?notice=expired"), page.url
        assert "Who would you like to see?" not in page.visible_text
        assert SESSION_COOKIE not in browser.cookies

        routes = signed_in_routes(site)
        assert {"book_page", "book_confirm_page", "appointments", "form_save"} <= {
            name for _, _, name in routes
        }
        for method, url, name in routes:
            browser.cookies[SESSION_COOKIE] = token
            location = await ask(browser, method, url, csrf)
            assert location.startswith("/sign-in?notice=expired"), (name, location)


async def test_every_signed_in_page_sends_a_visitor_without_a_session_to_sign_in(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = site.browser()
        page = await browser.get("/sign-in")
        csrf = page.form("/sign-in").fields["csrf"]
        for method, url, name in signed_in_routes(site):
            location = await ask(browser, method, url, csrf)
            assert location.startswith("/sign-in?notice=required"), (name, location)
