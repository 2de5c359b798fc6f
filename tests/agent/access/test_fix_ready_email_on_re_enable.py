"""Journey review after issue 11: re-enabling a disabled account mailed "your account is ready".

Walking the demo, staff ran `access disable` and then `access enable` for the demo patient,
who has used the portal all along; she was mailed "Your patient portal account is ready [...]
If you did not set up a portal account, call the office". Issue 11 item 5 asked for that email
for an account that was *waiting* for the office; one that has signed in before was not
waiting, and is told nothing new.
"""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import access_practice, email_of

PATIENT = 7


async def test_enabling_again_an_account_that_was_in_use_mails_nothing(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(
        practice_db, link_keys, access={"activate_without_confirmation": True}
    ) as practice:
        await practice.invite_and_activate(PATIENT)
        await practice.sign_in(email_of(PATIENT))
        await practice.deliver()

        assert (await practice.staff.set_access(PATIENT, False)).startswith("access disabled")
        assert await practice.staff.set_access(PATIENT, True) == "access enabled"

        assert await practice.deliver() == []
