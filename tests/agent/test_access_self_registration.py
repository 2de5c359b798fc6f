"""Self-registration (seed 004): access only once the emailed verification link is opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.access.service import SIGN_IN_FAILED
from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import PASSWORD, access_practice, link_token, text_of

NEW_EMAIL = "nora.quill@example.org"


def sign_up(**changes: Any) -> dict[str, Any]:
    return {
        "first_name": "Nora",
        "last_name": "Quill",
        "date_of_birth": "1985-04-12",
        "zip": "02139",
        "email": NEW_EMAIL,
        "password": PASSWORD,
        **changes,
    }


async def test_no_access_until_the_verification_link_is_opened(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(
        practice_db, link_keys, access={"self_registration": True}
    ) as practice:
        answer = await practice.call("access.register", **sign_up())
        assert answer["status"] == "check_email"

        mail = await practice.one_mail(NEW_EMAIL)
        assert "Hello Nora," in text_of(mail)
        for part in (text_of(mail), mail.part("text/html")):  # a link and the first name only
            assert "Quill" not in part and "1985" not in part and "02139" not in part
        token = link_token(mail, "/verify")
        [account] = practice.query(
            "SELECT a.status, a.access_enabled, p.last_name, p.home_zip FROM portal_accounts a"
            " JOIN patients p ON p.id = a.patient_id WHERE a.login_email = %s",
            (NEW_EMAIL,),
        )
        assert account == {
            "status": "pending",
            "access_enabled": 0,
            "last_name": "Quill",
            "home_zip": "02139",
        }

        # Not verified: sign-in gets exactly the answer an unknown address gets.
        pending = await practice.refused("access.sign_in", login=NEW_EMAIL, password=PASSWORD)
        unknown = await practice.refused(
            "access.sign_in", login="nobody@example.org", password=PASSWORD
        )
        assert (pending.code, pending.message) == ("unauthenticated", SIGN_IN_FAILED)
        assert (pending.code, pending.message) == (unknown.code, unknown.message)

        # ... and "forgot password" sends nothing (that would be a way around verification).
        forgot = await practice.call("access.forgot_password", login=NEW_EMAIL)
        assert forgot["status"] == "check_email"
        assert await practice.deliver() == []

        assert await practice.call("access.verify_email", token=token) == {"verified": True}
        session = await practice.sign_in(NEW_EMAIL)
        assert (await practice.call("access.account", session))["first_name"] == "Nora"

        again = await practice.refused("access.verify_email", token=token)
        assert again.code == "not_found"


async def test_the_verification_link_expires(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(
        practice_db, link_keys, access={"self_registration": True}
    ) as practice:
        await practice.call("access.register", **sign_up())
        token = link_token(await practice.one_mail(NEW_EMAIL), "/verify")
        practice.advance(hours=48, seconds=1)
        expired = await practice.refused("access.verify_email", token=token)
        assert expired.code == "not_found"
        still = await practice.refused("access.sign_in", login=NEW_EMAIL, password=PASSWORD)
        assert still.code == "unauthenticated"


async def test_registration_is_forbidden_when_self_registration_is_off(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(
        practice_db, link_keys, access={"self_registration": False}
    ) as practice:
        patients_before = practice.query("SELECT COUNT(*) AS n FROM patients")
        refused = await practice.refused("access.register", **sign_up())
        assert refused.code == "forbidden"
        assert practice.query("SELECT COUNT(*) AS n FROM patients") == patients_before
        assert practice.query("SELECT COUNT(*) AS n FROM portal_accounts") == [{"n": 0}]
        assert await practice.deliver() == []


async def test_unverified_patient_gets_in_once_staff_enable_access_and_they_reset(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    """Seed 004: without the verification step, staff enable the account and the patient
    follows "forgot password"."""
    async with access_practice(
        practice_db, link_keys, access={"self_registration": True}
    ) as practice:
        await practice.call("access.register", **sign_up())
        await practice.one_mail(NEW_EMAIL)  # the verification link, never opened
        [row] = practice.query("SELECT patient_id FROM portal_accounts")
        assert await practice.staff.set_access(row["patient_id"], True) == "access enabled"

        await practice.call("access.forgot_password", login=NEW_EMAIL)
        token = link_token(await practice.one_mail(NEW_EMAIL), "/reset")
        new_password = "a-fresh-start-for-nora"
        assert await practice.call("access.reset_password", token=token, password=new_password) == {
            "reset": True
        }
        session = await practice.sign_in(NEW_EMAIL, new_password)
        assert (await practice.call("access.account", session))["first_name"] == "Nora"
