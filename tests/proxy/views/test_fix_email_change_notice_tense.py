"""Issue 11: "The email-change page says 'We also let your current address know' before that
happens." The current address is told when the change is confirmed from the new one; until
then the page says that it will be, and nothing has gone to it."""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import PASSWORD, email_of, link_token
from tests.proxy.portal import portal

NEW = "new1@example.org"


async def test_the_page_says_the_current_address_will_be_told_and_it_is_told_after(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        await site.office.deliver()  # nothing of the sign-in is under test
        page = await browser.get("/account")

        sent = await browser.submit(page, "/account/email", new_email=NEW, email_password=PASSWORD)

        assert sent.url == "/account?notice=email_sent"
        text = sent.visible_text
        assert "We also let your current address know" not in text
        assert "then we will let your current address know" in text
        # True as said: so far only the new address got mail.
        [confirm] = await site.office.deliver()
        assert confirm.rcpt_tos == [NEW]

        page = await browser.get(f"/confirm-email?token={link_token(confirm, '/confirm-email')}")
        await browser.submit(page, "/confirm-email")
        [told] = await site.office.deliver()
        assert told.rcpt_tos == [email_of(1)]
