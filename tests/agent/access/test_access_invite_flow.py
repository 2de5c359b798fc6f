"""Invite -> email -> activate -> sign in -> book -> sign out, end to end over the link."""

from __future__ import annotations

from pathlib import Path

from agent.access.sessions import SIGN_IN_FAILED
from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import (
    DOB,
    FROM_ADDRESS,
    PASSWORD,
    ZIP,
    access_practice,
    email_of,
    link_token,
    text_of,
)
from tests.support.practice import DR_ADAMS, FOLLOW_UP

PATIENT = 7


async def test_invited_patient_activates_from_the_email_books_and_signs_out(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(
        practice_db, link_keys, access={"activate_without_confirmation": True}
    ) as practice:
        assert await practice.staff.invite(PATIENT) == "p***@example.org"

        # The invitation as the office's relay received it: from the portal, to the patient.
        mail = await practice.one_mail(email_of(PATIENT))
        assert mail.mail_from == FROM_ADDRESS
        assert mail.message["To"] == email_of(PATIENT)
        assert "Example Family Clinic" in mail.message["Subject"]
        assert "Hello Pat7," in text_of(mail)
        token = link_token(mail, "/activate")
        assert len(token) >= 22  # >= 128 bits, urlsafe base64

        # Before activation there is no password to sign in with.
        refused = await practice.refused(
            "access.sign_in", login=email_of(PATIENT), password=PASSWORD
        )
        assert (refused.code, refused.message) == ("unauthenticated", SIGN_IN_FAILED)

        activated = await practice.call(
            "access.activate", token=token, date_of_birth=DOB, zip=ZIP, password=PASSWORD
        )
        assert activated == {"activated": True, "access_enabled": True}

        session = await practice.sign_in(email_of(PATIENT))
        account = await practice.call("access.account", session)
        assert account == {
            "first_name": "Pat7",
            "email": "p***@example.org",
            "username": None,
            "identity": "email",
        }

        slots = await practice.call(
            "booking.availability",
            session,
            appointment_type_id=FOLLOW_UP,
            provider_id=DR_ADAMS,
            days=3,
        )
        start = slots["days"][0]["slots"][0]["start"]
        booked = await practice.client.request(
            "booking.book",
            {"appointment_type_id": FOLLOW_UP, "provider_id": DR_ADAMS, "start": start},
            session=session,
            idempotency_key="invite-flow-1",
            deadline=30,
        )
        assert booked["start"] == start and booked["status"] == "booked"
        rows = practice.query(
            "SELECT patient_id, provider_id, status, source FROM appointments WHERE id = %s",
            (booked["id"],),
        )
        assert rows == [
            {"patient_id": PATIENT, "provider_id": DR_ADAMS, "status": "booked", "source": "portal"}
        ]
        listing = await practice.call("appointments.list", session)
        assert [a["id"] for a in listing["upcoming"]] == [booked["id"]]

        assert await practice.call("access.sign_out", session) == {"signed_out": True}

        # The very next request with the same session is refused.
        after = await practice.refused("appointments.list", session)
        assert after.code == "unauthenticated"
        again = await practice.refused("booking.cancel", session, appointment_id=booked["id"])
        assert again.code == "unauthenticated"
        assert practice.query("SELECT status FROM appointments WHERE id = %s", (booked["id"],)) == [
            {"status": "booked"}
        ]

        # The invitation link worked once.
        reused = await practice.refused(
            "access.activate", token=token, date_of_birth=DOB, zip=ZIP, password=PASSWORD
        )
        assert reused.code == "not_found"


async def test_without_auto_enable_an_activated_patient_waits_for_staff(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    """Seed 004: only with activate_without_confirmation does activation alone give access."""
    async with access_practice(
        practice_db, link_keys, access={"activate_without_confirmation": False}
    ) as practice:
        await practice.staff.invite(PATIENT)
        token = link_token(await practice.one_mail(email_of(PATIENT)), "/activate")
        activated = await practice.call(
            "access.activate", token=token, date_of_birth=DOB, zip=ZIP, password=PASSWORD
        )
        assert activated == {"activated": True, "access_enabled": False}

        refused = await practice.refused(
            "access.sign_in", login=email_of(PATIENT), password=PASSWORD
        )
        assert (refused.code, refused.message) == ("unauthenticated", SIGN_IN_FAILED)

        assert await practice.staff.set_access(PATIENT, True) == "access enabled"
        session = await practice.sign_in(email_of(PATIENT))
        assert (await practice.call("access.account", session))["first_name"] == "Pat7"


async def test_a_second_invite_replaces_the_first_link(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(
        practice_db, link_keys, access={"activate_without_confirmation": True}
    ) as practice:
        await practice.staff.invite(PATIENT)
        first = link_token(await practice.one_mail(email_of(PATIENT)), "/activate")
        await practice.staff.invite(PATIENT)
        second = link_token(await practice.one_mail(email_of(PATIENT)), "/activate")
        assert first != second

        old = await practice.refused(
            "access.activate", token=first, date_of_birth=DOB, zip=ZIP, password=PASSWORD
        )
        assert old.code == "not_found"
        assert (
            await practice.call(
                "access.activate", token=second, date_of_birth=DOB, zip=ZIP, password=PASSWORD
            )
        )["activated"] is True


async def test_staff_enabled_patient_without_invite_signs_in_after_forgot_password(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    """Seed 004: staff turn access on; the patient sets a password with "forgot password"."""
    async with access_practice(practice_db, link_keys) as practice:
        said = await practice.staff.set_access(PATIENT, True)
        assert said.startswith("access enabled; the patient has no password yet")
        await practice.call("access.forgot_password", login=email_of(PATIENT).upper())
        token = link_token(await practice.one_mail(email_of(PATIENT)), "/reset")
        assert await practice.call("access.reset_password", token=token, password=PASSWORD) == {
            "reset": True
        }
        session = await practice.sign_in(email_of(PATIENT))
        assert (await practice.call("appointments.list", session)) == {"upcoming": [], "past": []}
