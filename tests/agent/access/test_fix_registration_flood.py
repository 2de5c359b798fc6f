"""Security review of issue 11's registration fix, resource bounds:

> `portal_registrations`/`portal_reset_requests` growth bounded (a flood of sign-ups or forgot
> requests)?

Reset requests are deleted as the mail worker answers them, and reset emails are capped per
account per hour. Sign-ups were not: each one kept a row (names, birth date, password hash)
for 48 hours and mailed a verification link to whatever address was typed, so a script could
fill the table and flood one stranger's mailbox from the office's relay. Now an address has at
most SIGN_UPS_PER_ADDRESS live links; a sign-up beyond that is audited `capped`, mailed nothing
and forgotten, and the links already sent still work.
"""

from __future__ import annotations

from pathlib import Path

from agent.access.registration import SIGN_UPS_PER_ADDRESS
from agent.db.pool import DatabaseSettings
from tests.agent.access.test_fix_registration_duplicates import SELF_REGISTRATION, sign_up
from tests.agent.access_fixtures import access_practice, link_token

STRANGER = "stranger@example.org"


async def test_sign_ups_to_one_address_are_capped(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=SELF_REGISTRATION) as practice:
        for n in range(SIGN_UPS_PER_ADDRESS + 2):
            answer = await practice.call(
                "access.register", **sign_up(first_name=f"Name{n}", email=STRANGER)
            )
            assert answer["status"] == "check_email"  # the same answer, capped or not
        mails = await practice.deliver()
        assert [m.rcpt_tos for m in mails] == [[STRANGER]] * SIGN_UPS_PER_ADDRESS
        stored = practice.query("SELECT COUNT(*) AS n FROM portal_registrations")
        assert stored == [{"n": SIGN_UPS_PER_ADDRESS}]
        outcomes = practice.query(
            "SELECT outcome FROM portal_audit WHERE action = 'access.register' ORDER BY id"
        )
        assert [o["outcome"] for o in outcomes] == ["pending"] * SIGN_UPS_PER_ADDRESS + [
            "capped"
        ] * 2

        # The links sent still work; once one is used the address may sign up again.
        token = link_token(mails[0], "/verify")
        assert await practice.call("access.verify_email", token=token) == {"verified": True}
