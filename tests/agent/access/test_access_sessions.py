"""Sessions end when they should: sign-out, disabled access, idle and absolute timeouts,
password and email changes; and lockout holds, but only for lockout_minutes.

The tests of `small_practice` run on both practice systems (portico and openemr); the email
change ones stay on Portico's schema (the address on file is the practice system's, and what
Portico may write there differs)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.access.sessions import SIGN_IN_FAILED
from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import (
    OTHER_PASSWORD,
    PASSWORD,
    AccessPractice,
    access_practice,
    email_of,
    link_token,
    text_of,
)
from tests.support.practice import SmallPractice

P = 4  # the patient's number in the small practice


async def works(practice: AccessPractice, session: str) -> bool:
    """Whether the session is still signed in (on the patient's very next request)."""
    try:
        await practice.call("appointments.list", session)
    except Exception as error:
        assert getattr(error, "code", None) == "unauthenticated", error
        return False
    return True


async def sign_in_refused(practice: AccessPractice, login: str, password: str) -> None:
    error = await practice.refused("access.sign_in", login=login, password=password)
    assert (error.code, error.message) == ("unauthenticated", SIGN_IN_FAILED)


async def test_sign_out_ends_only_that_session(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with access_practice(small_practice, link_keys) as practice:
        me = practice.ids.patient(P)
        phone = await practice.signed_in_patient(me)
        laptop = await practice.sign_in(practice.email_of(me))
        assert await practice.call("access.sign_out", phone) == {"signed_out": True}
        assert not await works(practice, phone)
        assert await works(practice, laptop)
        # Signing a dead session out again is not an error, and does not revive it.
        assert await practice.call("access.sign_out", phone) == {"signed_out": True}
        assert not await works(practice, phone)


async def test_disabled_access_is_refused_on_the_very_next_request(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with access_practice(small_practice, link_keys) as practice:
        me = practice.ids.patient(P)
        first = await practice.signed_in_patient(me)
        second = await practice.sign_in(practice.email_of(me))
        other = await practice.signed_in_patient(practice.ids.patient(P + 1))

        said = await practice.staff.set_access(me, False)
        assert said == "access disabled; 2 session(s) ended"
        assert not await works(practice, first)
        assert not await works(practice, second)
        assert await works(practice, other)
        await sign_in_refused(practice, practice.email_of(me), PASSWORD)
        await practice.call("access.forgot_password", login=practice.email_of(me))
        assert await practice.deliver() == []  # no way back in by "forgot password"

        await practice.staff.set_access(me, True)
        assert not await works(practice, first)  # old sessions stay ended
        await practice.sign_in(practice.email_of(me))


async def test_idle_sessions_expire_and_active_ones_do_not(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with access_practice(
        small_practice,
        link_keys,
        access={"session_idle_minutes": 30, "session_absolute_hours": 12},
    ) as practice:
        me = practice.ids.patient(P)
        active = await practice.signed_in_patient(me)
        idle = await practice.sign_in(practice.email_of(me))
        for _ in range(4):  # two hours, never idle for 30 minutes
            practice.advance(minutes=29)
            assert await works(practice, active)
        assert not await works(practice, idle)

        practice.advance(minutes=29, seconds=59)
        assert await works(practice, active)
        practice.advance(minutes=30)
        assert not await works(practice, active)


async def test_sessions_end_at_the_absolute_limit_however_active(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with access_practice(
        small_practice, link_keys, access={"session_idle_minutes": 30, "session_absolute_hours": 1}
    ) as practice:
        me = practice.ids.patient(P)
        await practice.set_password(me, PASSWORD)
        answer = await practice.call(
            "access.sign_in", login=practice.email_of(me), password=PASSWORD
        )
        assert answer["expires_at"] == "2026-11-23T13:00:00Z"
        session = answer["session"]
        for _ in range(3):
            practice.advance(minutes=19, seconds=59)
            assert await works(practice, session)
        practice.advance(seconds=3)  # 1 h + 0 s of constant use
        assert not await works(practice, session)


async def test_lockout_refuses_the_right_password_until_lockout_minutes_pass(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with access_practice(
        small_practice, link_keys, access={"lockout_failures": 3, "lockout_minutes": 15}
    ) as practice:
        me = practice.ids.patient(P)
        await practice.set_password(me, PASSWORD)
        for _ in range(2):
            await sign_in_refused(practice, practice.email_of(me), OTHER_PASSWORD)
        # Two failures: not locked, and the count resets.
        await practice.sign_in(practice.email_of(me))
        for _ in range(3):
            await sign_in_refused(practice, practice.email_of(me), OTHER_PASSWORD)

        await sign_in_refused(practice, practice.email_of(me), PASSWORD)  # locked: the same answer
        practice.advance(minutes=10)
        for _ in range(5):  # more failures while locked do not extend the lock
            await sign_in_refused(practice, practice.email_of(me), OTHER_PASSWORD)
        practice.advance(minutes=4, seconds=59)
        await sign_in_refused(practice, practice.email_of(me), PASSWORD)
        practice.advance(seconds=2)
        session = await practice.sign_in(practice.email_of(me))
        assert await works(practice, session)
        # Another patient was never affected.
        await practice.signed_in_patient(practice.ids.patient(P + 1))


async def test_concurrent_wrong_guesses_all_count_towards_the_lockout(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    """Twenty guesses sent at once are twenty failures, not as many as happened to read the
    counter before another attempt wrote it."""
    async with access_practice(
        small_practice, link_keys, access={"lockout_failures": 10, "lockout_minutes": 15}
    ) as practice:
        me = practice.ids.patient(P)
        await practice.set_password(me, PASSWORD)
        await asyncio.gather(
            *(sign_in_refused(practice, practice.email_of(me), OTHER_PASSWORD) for _ in range(20))
        )
        await sign_in_refused(practice, practice.email_of(me), PASSWORD)  # locked by now
        practice.advance(minutes=15, seconds=1)
        await practice.sign_in(practice.email_of(me))


async def test_change_password_ends_other_sessions_and_returns_a_new_one(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with access_practice(small_practice, link_keys) as practice:
        me = practice.ids.patient(P)
        here = await practice.signed_in_patient(me)
        elsewhere = await practice.sign_in(practice.email_of(me))

        wrong = await practice.refused(
            "access.change_password",
            here,
            current_password=OTHER_PASSWORD,
            new_password="another-fine-passphrase",
        )
        assert wrong.code == "forbidden"
        assert await works(practice, here) and await works(practice, elsewhere)

        answer = await practice.call(
            "access.change_password",
            here,
            current_password=PASSWORD,
            new_password=OTHER_PASSWORD,
        )
        assert set(answer) == {"session", "expires_at"}
        assert not await works(practice, here)
        assert not await works(practice, elsewhere)
        assert await works(practice, answer["session"])

        await sign_in_refused(practice, practice.email_of(me), PASSWORD)
        await practice.sign_in(practice.email_of(me), OTHER_PASSWORD)
        notice = await practice.one_mail(practice.email_of(me))
        assert "password" in notice.message["Subject"]
        assert OTHER_PASSWORD not in text_of(notice) and PASSWORD not in text_of(notice)


async def test_change_email_needs_the_password_and_is_confirmed_from_the_new_address(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    new = "pat4.new-address@example.org"
    async with access_practice(practice_db, link_keys) as practice:
        here = await practice.signed_in_patient(P)
        elsewhere = await practice.sign_in(email_of(P))

        wrong = await practice.refused(
            "access.change_email", here, password=OTHER_PASSWORD, new_email=new
        )
        assert wrong.code == "forbidden"
        assert await practice.deliver() == []

        answer = await practice.call("access.change_email", here, password=PASSWORD, new_email=new)
        assert answer["status"] == "check_email"
        confirmation = await practice.one_mail(new)  # the new address only, the old one not yet
        token = link_token(confirmation, "/confirm-email")
        # Nothing changes until the new address confirms.
        assert await works(practice, here) and await works(practice, elsewhere)
        assert practice.query("SELECT email FROM patients WHERE id = %s", (P,)) == [
            {"email": email_of(P)}
        ]
        await practice.sign_in(email_of(P))

        assert await practice.call("access.confirm_email_change", token=token) == {"changed": True}
        notice = await practice.one_mail(email_of(P))  # the old address is told
        assert "changed" in notice.message["Subject"]
        body = text_of(notice) + notice.part("text/html")
        assert "p***@example.org" in body and new not in body
        assert not await works(practice, here)
        assert not await works(practice, elsewhere)

        await sign_in_refused(practice, email_of(P), PASSWORD)
        session = await practice.sign_in(new)
        assert (await practice.call("access.account", session))["email"] == "p***@example.org"
        assert practice.query("SELECT email FROM patients WHERE id = %s", (P,)) == [{"email": new}]


async def test_confirming_a_change_to_an_address_taken_meanwhile_fails_cleanly(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    """Between the request and the click, someone signs up with the new address and verifies
    it. The click must get a clear answer (not `internal`), and neither account changes."""
    new = "shared.later@example.org"
    async with access_practice(
        practice_db, link_keys, access={"self_registration": True}
    ) as practice:
        session = await practice.signed_in_patient(P)
        await practice.call("access.change_email", session, password=PASSWORD, new_email=new)
        token = link_token(await practice.one_mail(new), "/confirm-email")
        await practice.call(
            "access.register",
            first_name="Later",
            last_name="Comer",
            date_of_birth="1980-01-01",
            zip="10001",
            email=new,
            password=OTHER_PASSWORD,
        )
        # A sign-up holds an address once its own link is opened (issue 11, item 2).
        verify = link_token(await practice.one_mail(new), "/verify")
        await practice.call("access.verify_email", token=verify)
        before = practice.query("SELECT * FROM portal_accounts ORDER BY id")

        error = await practice.refused("access.confirm_email_change", token=token)
        assert error.code != "internal", error.message
        assert practice.query("SELECT * FROM portal_accounts ORDER BY id") == before
        assert await works(practice, session)
