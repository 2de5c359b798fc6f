"""Journey review after issue 11: the form's error summary read "visit?: This question needs
an answer" and "treat me.: This question needs an answer".

Each summary line names its question before the message; a question that already ends in
punctuation is followed by a space, not by another colon.
"""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.forms.seeding import CHECKUP, assign_form
from tests.proxy.portal import portal
from tests.proxy.views.clinical_pages_fixtures import fill_in


async def test_a_question_ending_in_a_question_mark_gets_no_colon(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, CHECKUP)
        browser = await site.signed_in(1)
        action = f"/forms/{assignment}"
        page = await browser.get(action)

        refused = await fill_in(browser, page, action, ("action", "submit"))

        assert refused.status == 422
        summary = refused.visible_text.split("There is a problem")[1]
        assert "Do you smoke? This question needs an answer" in summary
        assert "?:" not in summary
        assert "Date of birth: " in summary  # a question without punctuation keeps its colon
