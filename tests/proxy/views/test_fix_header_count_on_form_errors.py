"""Journey review after issue 11: the header lost its unread count on a form with errors.

Walking the demo, "Messages (1 unread)" became "Messages" on every page drawn in answer to a
POST (a form sent back with its errors: the intake form, a new message, a taken time), and
came back on the next page. The session check before a POST can be the count, as on a GET.
"""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.messages.seeding import send_office_message
from tests.proxy.portal import portal
from tests.proxy.views.clinical_pages_fixtures import nav_messages_link


async def test_a_form_sent_back_with_errors_keeps_the_count(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        send_office_message(practice_db, 1, "One", "First.")
        browser = await site.signed_in(1)
        account = await browser.get("/account")
        assert nav_messages_link(account) == "Messages (1 unread)"

        refused = await browser.submit(account, "/account/password", current_password="wrong")

        assert refused.status == 422
        assert nav_messages_link(refused) == "Messages (1 unread)"
