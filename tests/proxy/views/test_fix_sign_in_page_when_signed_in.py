"""Issue 11: "`/sign-in` with a live session shows the signed-in menu; redirect to Appointments
instead." A session the agent has ended gets the plain sign-in page, signed out."""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import portal

SESSION_COOKIE = "__Host-portico"


async def test_sign_in_with_a_live_session_goes_to_appointments(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)

        page = await browser.get("/sign-in")

        assert page.url == "/appointments"
        assert "My appointments" in page.visible_text
        # On the way to a page: there instead.
        assert (await browser.get("/sign-in?next=/forms")).url == "/forms"


async def test_sign_in_with_an_ended_session_shows_the_form_signed_out(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        await site.office.staff.set_access(1, False)

        page = await browser.get("/sign-in")

        assert page.url == "/sign-in" and page.status == 200
        assert SESSION_COOKIE not in browser.cookies
        assert "Sign out" not in page.visible_text and 'href="/records"' not in page.text
        await site.office.staff.set_access(1, True)
        form = page.form("/sign-in")
        values = {**form.fields, "login": "pat1@example.org", "password": "x" * 12}
        assert (await browser.post(form.action, values)).status == 401  # the form works
