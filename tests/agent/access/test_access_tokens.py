"""One-time links (invite, reset, email change): single use, expiring, bound to their purpose,
and an invite link answers at most five wrong birth date / zip guesses."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.access.context import LINK_INVALID
from agent.access.sessions import SIGN_IN_FAILED
from agent.db.pool import DatabaseSettings
from protocol.aio import RemoteError
from tests.agent.access_fixtures import (
    DOB,
    OTHER_PASSWORD,
    PASSWORD,
    ZIP,
    AccessPractice,
    access_practice,
    email_of,
    link_token,
)

AUTO = {"activate_without_confirmation": True}
MISMATCH = "The date of birth or zip code does not match the office's records."


async def invite_token(practice: AccessPractice, patient: int) -> str:
    await practice.staff.invite(patient)
    return link_token(await practice.one_mail(email_of(patient)), "/activate")


async def reset_token(practice: AccessPractice, patient: int) -> str:
    await practice.call("access.forgot_password", login=email_of(patient))
    return link_token(await practice.one_mail(email_of(patient)), "/reset")


async def activate(
    practice: AccessPractice, token: str, dob: str = DOB, zip_code: str = ZIP
) -> object:
    return await practice.call(
        "access.activate", token=token, date_of_birth=dob, zip=zip_code, password=PASSWORD
    )


async def refused_activation(
    practice: AccessPractice, token: str, dob: str = DOB, zip_code: str = ZIP
) -> tuple[str, str]:
    error = await practice.refused(
        "access.activate", token=token, date_of_birth=dob, zip=zip_code, password=PASSWORD
    )
    return error.code, error.message


async def test_each_link_works_once_and_only_for_its_own_purpose(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=AUTO) as practice:
        invite = await invite_token(practice, 3)
        assert await activate(practice, invite) == {"activated": True, "access_enabled": True}
        assert await refused_activation(practice, invite) == ("not_found", LINK_INVALID)

        reset = await reset_token(practice, 3)
        # A reset link is no invite, verification or email-change link.
        assert await refused_activation(practice, reset) == ("not_found", LINK_INVALID)
        for method in ("access.verify_email", "access.confirm_email_change"):
            error = await practice.refused(method, token=reset)
            assert (error.code, error.message) == ("not_found", LINK_INVALID)
        assert await practice.call(
            "access.reset_password", token=reset, password=OTHER_PASSWORD
        ) == {"reset": True}
        again = await practice.refused("access.reset_password", token=reset, password=PASSWORD)
        assert (again.code, again.message) == ("not_found", LINK_INVALID)
        session = await practice.sign_in(email_of(3), OTHER_PASSWORD)

        await practice.call(
            "access.change_email",
            session,
            password=OTHER_PASSWORD,
            new_email="pat3.new@example.org",
        )
        change = link_token(await practice.one_mail("pat3.new@example.org"), "/confirm-email")
        assert await practice.call("access.confirm_email_change", token=change) == {"changed": True}
        twice = await practice.refused("access.confirm_email_change", token=change)
        assert (twice.code, twice.message) == ("not_found", LINK_INVALID)


async def test_links_stop_working_when_they_expire(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=AUTO) as practice:
        early, late = await invite_token(practice, 3), await invite_token(practice, 4)
        practice.advance(hours=72, seconds=-1)
        assert (await activate(practice, early))["activated"] is True
        practice.advance(seconds=2)
        assert await refused_activation(practice, late) == ("not_found", LINK_INVALID)

        first = await reset_token(practice, 3)
        practice.advance(hours=1, seconds=1)
        expired = await practice.refused("access.reset_password", token=first, password=PASSWORD)
        assert (expired.code, expired.message) == ("not_found", LINK_INVALID)
        second = await reset_token(practice, 3)
        practice.advance(minutes=59)
        assert await practice.call(
            "access.reset_password", token=second, password=OTHER_PASSWORD
        ) == {"reset": True}

        session = await practice.sign_in(email_of(3), OTHER_PASSWORD)
        await practice.call(
            "access.change_email", session, password=OTHER_PASSWORD, new_email="p3@example.org"
        )
        change = link_token(await practice.one_mail("p3@example.org"), "/confirm-email")
        practice.advance(hours=24, seconds=1)
        stale = await practice.refused("access.confirm_email_change", token=change)
        assert (stale.code, stale.message) == ("not_found", LINK_INVALID)
        assert practice.query("SELECT email FROM patients WHERE id = 3") == [{"email": email_of(3)}]


async def test_twenty_concurrent_redemptions_of_one_reset_link_exactly_one_wins(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys) as practice:
        old_session = await practice.signed_in_patient(5)
        token = await reset_token(practice, 5)
        passwords = [f"concurrent-reset-attempt-{i:02d}" for i in range(20)]

        async def redeem(password: str) -> object:
            try:
                return await practice.call("access.reset_password", token=token, password=password)
            except RemoteError as error:
                return (error.code, error.message)

        answers = await asyncio.gather(*(redeem(p) for p in passwords))
        winners = [i for i, answer in enumerate(answers) if answer == {"reset": True}]
        assert len(winners) == 1, answers
        assert sorted(map(str, answers)) == sorted(
            [str({"reset": True})] + [str(("not_found", LINK_INVALID))] * 19
        )
        assert practice.query(
            "SELECT COUNT(*) AS n FROM portal_audit"
            " WHERE action = 'access.reset_password' AND outcome = 'ok'"
        ) == [{"n": 1}]

        (winner,) = winners
        await practice.sign_in(email_of(5), passwords[winner])
        loser = passwords[(winner + 1) % 20]
        refused = await practice.refused("access.sign_in", login=email_of(5), password=loser)
        assert (refused.code, refused.message) == ("unauthenticated", SIGN_IN_FAILED)
        old = await practice.refused("appointments.list", old_session)
        assert old.code == "unauthenticated"


async def test_wrong_birth_date_or_zip_is_forbidden_and_changes_nothing(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=AUTO) as practice:
        token = await invite_token(practice, 3)
        assert await refused_activation(practice, token, dob="1970-01-02") == (
            "forbidden",
            MISMATCH,
        )
        assert await refused_activation(practice, token, zip_code="10002") == (
            "forbidden",
            MISMATCH,
        )
        assert practice.query(
            "SELECT status, password_hash FROM portal_accounts WHERE patient_id = 3"
        ) == [{"status": "invited", "password_hash": None}]
        # The zip as people write it: ZIP+4 and spaces still match.
        assert (await activate(practice, token, zip_code=" 10001-4321 "))["activated"] is True


async def test_five_wrong_answers_are_each_forbidden_and_then_burn_the_link(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    """docs/protocol.md: "5 wrong answers burn the link" - the fifth is still answered."""
    async with access_practice(practice_db, link_keys, access=AUTO) as practice:
        token = await invite_token(practice, 3)
        wrong = [("1970-01-02", ZIP), (DOB, "10002"), ("1969-12-31", ZIP), (DOB, "9"), (DOB, "x")]
        answers = [await refused_activation(practice, token, d, z) for d, z in wrong]
        assert answers == [("forbidden", MISMATCH)] * 5
        # Burnt: even the right details fail now.
        assert await refused_activation(practice, token) == ("not_found", LINK_INVALID)


async def test_four_wrong_answers_leave_the_link_usable(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=AUTO) as practice:
        token = await invite_token(practice, 3)
        for dob in ("1970-01-02", "1970-01-03", "1970-01-04", "1970-01-05"):
            assert await refused_activation(practice, token, dob=dob) == ("forbidden", MISMATCH)
        assert (await activate(practice, token))["activated"] is True


async def test_an_invite_sent_to_the_old_address_dies_when_staff_change_the_email(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    """Seed 004's privacy note: an email change may be the office correcting an address that
    someone else reads. Whoever reads the old mailbox must not be able to activate the account
    that now belongs to the new address."""
    async with access_practice(practice_db, link_keys, access=AUTO) as practice:
        old_link = await invite_token(practice, 10)
        await practice.staff.request_email_change(10, "pat10.real@example.org")
        confirm = link_token(await practice.one_mail("pat10.real@example.org"), "/confirm-email")
        await practice.call("access.confirm_email_change", token=confirm)
        await practice.deliver()
        assert await refused_activation(practice, old_link) == ("not_found", LINK_INVALID)
        assert practice.query(
            "SELECT status, password_hash FROM portal_accounts WHERE patient_id = 10"
        ) == [{"status": "invited", "password_hash": None}]


async def test_a_reset_link_sent_to_the_old_address_dies_when_the_email_changes(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys) as practice:
        session = await practice.signed_in_patient(10)
        old_link = await reset_token(practice, 10)
        new = "pat10.real@example.org"
        await practice.call("access.change_email", session, password=PASSWORD, new_email=new)
        confirm = link_token(await practice.one_mail(new), "/confirm-email")
        await practice.call("access.confirm_email_change", token=confirm)

        error = await practice.refused(
            "access.reset_password", token=old_link, password=OTHER_PASSWORD
        )
        assert (error.code, error.message) == ("not_found", LINK_INVALID)
        await practice.sign_in(new, PASSWORD)
