"""Issue 11, item 5: "You will get an email when it is ready" never comes.

> With `activate_without_confirmation: false`, after activation the page promises an email;
> `access enable` then sends none. Send a "your portal is ready" email (no PHI, link to sign
> in) when staff enable an account that was waiting, queued through the outbox in the same
> transaction.
"""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import PORTAL_URL, ZIP, email_of, text_of
from tests.agent.access_fixtures import access_practice as practice_with

PATIENT = 7  # Pat7 Example, born 1970-01-01, zip 10001 (tests/support/practice.py)


async def test_staff_enabling_a_waiting_account_mails_the_patient_a_sign_in_link(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with practice_with(
        practice_db, link_keys, access={"activate_without_confirmation": False}
    ) as practice:
        await practice.invite_and_activate(PATIENT)
        [waiting] = practice.query(
            "SELECT status, access_enabled FROM portal_accounts WHERE patient_id = %s", (PATIENT,)
        )
        assert waiting == {"status": "active", "access_enabled": 0}
        assert await practice.deliver() == []  # nothing yet: the office has not decided

        assert await practice.staff.set_access(PATIENT, True) == "access enabled"
        mail = await practice.one_mail(email_of(PATIENT))
        text = text_of(mail)
        assert "Hello Pat7," in text
        assert f"{PORTAL_URL}/sign-in" in text and f"{PORTAL_URL}/sign-in" in mail.part("text/html")
        for part in (text, mail.part("text/html"), str(mail.message["Subject"])):
            assert "Example" not in part.replace("Example Family Clinic", "")  # no last name
            assert "1970" not in part and ZIP not in part and email_of(PATIENT) not in part
        [audit] = practice.query(
            "SELECT outcome FROM portal_audit WHERE action = 'access.enable' AND patient_id = %s",
            (PATIENT,),
        )
        assert audit == {"outcome": "ok"}
        session = await practice.sign_in(email_of(PATIENT))
        assert (await practice.call("access.account", session))["first_name"] == "Pat7"

        # Enabling what is already enabled changes nothing and mails nobody again.
        await practice.staff.set_access(PATIENT, True)
        assert await practice.deliver() == []


async def test_no_ready_email_for_an_account_without_a_password(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    """An invited patient who has not activated yet still needs the invitation's link: a
    "sign in" email would send them to a page they cannot use."""
    async with practice_with(
        practice_db, link_keys, access={"activate_without_confirmation": False}
    ) as practice:
        await practice.staff.invite(PATIENT)
        await practice.one_mail(email_of(PATIENT))
        assert await practice.staff.set_access(PATIENT, True) == "access enabled"
        assert await practice.deliver() == []
