"""Self-registration (seed 004): access only once the emailed verification link is opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.access.sessions import SIGN_IN_FAILED
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
        # Nothing on file yet (issue 11, item 2): the sign-up waits for its link.
        assert practice.query("SELECT COUNT(*) AS n FROM portal_accounts") == [{"n": 0}]
        assert practice.query("SELECT COUNT(*) AS n FROM patients WHERE last_name = 'Quill'") == [
            {"n": 0}
        ]

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


async def test_an_unverified_sign_up_leaves_nothing_and_can_be_made_again(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    """Seed 004 lets staff enable a sign-up that was never verified. Such a sign-up is no chart
    any more (issue 11, item 2): the office adds the patient and invites them, or the patient
    signs up again; either link then works, once."""
    async with access_practice(
        practice_db, link_keys, access={"self_registration": True}
    ) as practice:
        await practice.call("access.register", **sign_up())
        first = link_token(await practice.one_mail(NEW_EMAIL), "/verify")
        practice.advance(hours=47)
        await practice.call("access.register", **sign_up())
        second = link_token(await practice.one_mail(NEW_EMAIL), "/verify")
        assert practice.query("SELECT COUNT(*) AS n FROM portal_accounts") == [{"n": 0}]

        assert await practice.call("access.verify_email", token=second) == {"verified": True}
        # The earlier link finds the chart made meanwhile, which now has its account.
        late = await practice.refused("access.verify_email", token=first)
        assert late.code == "not_found"
        assert practice.query("SELECT COUNT(*) AS n FROM patients WHERE last_name = 'Quill'") == [
            {"n": 1}
        ]
        session = await practice.sign_in(NEW_EMAIL)
        assert (await practice.call("access.account", session))["first_name"] == "Nora"
