"""Journey review after issue 11: a sent form showed a birth date with its weekday.

The intake form's sent answers read "Date of birth: Saturday, July 26, 1975", where the
records page reads "Born: July 26, 1975". A weekday belongs to a day someone will come in,
not to a date asked on a form; sent date answers are written as the records page writes them.
"""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.forms.seeding import CHECKUP, assign_form
from tests.proxy.portal import portal
from tests.proxy.views.clinical_pages_fixtures import fill_in
from tests.proxy.views.test_fix_form_date_entry import BOXES


async def test_a_sent_date_answer_has_no_weekday(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, CHECKUP)
        browser = await site.signed_in(1)
        page = await browser.get(f"/forms/{assignment}")
        action = f"/forms/{assignment}"
        sent = await fill_in(
            browser, page, action, ("action", "submit"), **BOXES, **{"answer.smoker": "no"}
        )
        assert sent.url == "/forms?notice=sent"

        shown = (await browser.get(action)).visible_text

        assert "April 27, 1950" in shown  # 1950-04-27, as the three boxes said
        assert "Thursday" not in shown  # the weekday of that date
