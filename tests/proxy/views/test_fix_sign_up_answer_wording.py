"""Journey review after issue 11: the sign-up page answered with the forgot-password wording.

> If the details match an account, we have sent an email with a link.

A person who has just created an account has no account to "match": the sentence reads as if
the sign-up may have been lost. Every sign-up is answered by an email to the address given (a
link, or "please call the office"), so the page can say so plainly, and still says the same
whoever signed up.
"""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import portal
from tests.proxy.views.test_fix_registration_duplicates import SELF_REGISTRATION, register


async def test_the_sign_up_answer_speaks_of_the_new_account(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path, access=SELF_REGISTRATION) as site:
        status, text = await register(site, "Nora", "Quill", "nora@example.net")
        assert status == 200
        assert "Check your email" in text
        assert "match an account" not in text
        assert "We have sent an email to the address you gave" in text
        assert "how to finish creating your account" in text
