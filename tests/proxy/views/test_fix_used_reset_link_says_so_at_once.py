"""Issue 11: "A used reset link still shows the password form and then says 'ask the office';
say at once that the link is used and offer a new one." Opening the page only asks the agent:
the link stays usable and nothing is written."""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import OTHER_PASSWORD, PASSWORD, email_of, link_token
from tests.proxy.portal import Page, Portal, portal

SPENT = "This link was already used or has expired"


async def reset_token(site: Portal) -> str:
    await site.office.set_password(1, PASSWORD)
    browser = site.browser()
    await browser.submit(await browser.get("/forgot"), "/forgot", login=email_of(1))
    return link_token(await site.office.one_mail(email_of(1)), "/reset")


def says_spent(page: Page) -> None:
    assert page.status == 404
    assert SPENT in page.visible_text
    assert page.links(r"^/forgot$")  # a new link is one click away
    assert "ask the office" not in page.visible_text.lower()
    assert [f for f in page.forms() if f.action == "/reset"] == []


async def test_a_used_reset_link_says_so_before_any_typing(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        token = await reset_token(site)
        browser = site.browser()
        page = await browser.get(f"/reset?token={token}")
        await browser.submit(page, "/reset", password=OTHER_PASSWORD, password_again=OTHER_PASSWORD)

        says_spent(await browser.get(f"/reset?token={token}"))
        # Sent anyway (a second tab with the form open): the same words.
        says_spent(
            await browser.submit(
                page, "/reset", password=OTHER_PASSWORD, password_again=OTHER_PASSWORD
            )
        )


async def test_an_expired_reset_link_says_so_and_opening_one_changes_nothing(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        token = await reset_token(site)
        browser = site.browser()
        before = site.query("SELECT * FROM portal_tokens ORDER BY id")
        audit = site.query("SELECT COUNT(*) AS n FROM portal_audit")

        for _ in range(2):
            page = await browser.get(f"/reset?token={token}")
            assert page.status == 200 and page.form("/reset").fields["token"] == token

        assert site.query("SELECT * FROM portal_tokens ORDER BY id") == before
        assert site.query("SELECT COUNT(*) AS n FROM portal_audit") == audit
        site.office.advance(hours=2)
        says_spent(await browser.get(f"/reset?token={token}"))
