"""The middlewares' order, seen from outside (proxy/middlewares.py PORTAL_MIDDLEWARES):

> Moving the session check ahead of the body read made a cross-site POST — which carries no
> SameSite=Lax cookie — look like a signed-out patient and land on the sign-in page.

The Origin check runs before the session check, so a signed-in page's POST from another site
is refused as cross-site (the 403 page) even without a session cookie, while the same POST from
this office's own page, without a session, is sent to sign in. Until now only a browser test
(tests/e2e/test_attacks.py) held this.
"""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import portal

REFUSED = "For your safety we could not accept that form"


async def test_a_cross_site_post_without_a_session_is_refused_as_cross_site(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = site.browser()
        sign_in = await browser.get("/sign-in")  # a pre-session cookie, as a browser has
        csrf = sign_in.form("/sign-in").fields["csrf"]
        for url in ("/appointments/1/cancel", "/messages/new", "/account/password"):
            cross_site = await browser.post(
                url, {"csrf": csrf}, headers={"Origin": "http://evil.example"}, follow=False
            )
            assert cross_site.status == 403, url
            assert REFUSED in cross_site.visible_text

            own_page = await browser.post(url, {"csrf": csrf}, follow=False)
            assert own_page.status == 303, url
            assert own_page.headers["Location"].startswith("/sign-in?"), url
