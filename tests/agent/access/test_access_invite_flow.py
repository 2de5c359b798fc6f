"""Invite -> email -> activate -> sign in -> book -> sign out, end to end over the link, on both
practice systems (`small_practice`: portico and openemr)."""

from __future__ import annotations

from pathlib import Path

from agent.access.sessions import SIGN_IN_FAILED
from tests.agent.access_fixtures import (
    DOB,
    FROM_ADDRESS,
    PASSWORD,
    ZIP,
    access_practice,
    link_token,
    text_of,
)
from tests.support.practice import SmallPractice

NUMBER = 7  # the patient's number in the small practice: Pat7


async def test_invited_patient_activates_from_the_email_books_and_signs_out(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with access_practice(
        small_practice, link_keys, access={"activate_without_confirmation": True}
    ) as practice:
        patient = small_practice.patient(NUMBER)
        assert await practice.staff.invite(patient) == "p***@example.org"

        # The invitation as the office's relay received it: from the portal, to the patient.
        mail = await practice.one_mail(practice.email_of(patient))
        assert mail.mail_from == FROM_ADDRESS
        assert mail.message["To"] == practice.email_of(patient)
        assert "Example Family Clinic" in mail.message["Subject"]
        assert "Hello Pat7," in text_of(mail)
        token = link_token(mail, "/activate")
        assert len(token) >= 22  # >= 128 bits, urlsafe base64

        # Before activation there is no password to sign in with.
        refused = await practice.refused(
            "access.sign_in", login=practice.email_of(patient), password=PASSWORD
        )
        assert (refused.code, refused.message) == ("unauthenticated", SIGN_IN_FAILED)

        activated = await practice.call(
            "access.activate", token=token, date_of_birth=DOB, zip=ZIP, password=PASSWORD
        )
        assert activated == {"activated": True, "access_enabled": True}

        session = await practice.sign_in(practice.email_of(patient))
        account = await practice.call("access.account", session)
        assert account == {
            "first_name": "Pat7",
            "email": "p***@example.org",
            "username": None,
            "identity": "email",
        }

        follow_up, adams = small_practice.FOLLOW_UP, small_practice.DR_ADAMS
        slots = await practice.call(
            "booking.availability",
            session,
            appointment_type_id=follow_up,
            provider_id=adams,
            days=3,
        )
        start = slots["days"][0]["slots"][0]["start"]
        booked = await practice.client.request(
            "booking.book",
            {"appointment_type_id": follow_up, "provider_id": adams, "start": start},
            session=session,
            idempotency_key="invite-flow-1",
            deadline=30,
        )
        assert booked["start"] == start and booked["status"] == "booked"
        rows = practice.ids.appointments(
            "patient_id", "provider_id", "status", "source", id=booked["id"]
        )
        assert rows == [
            {"patient_id": patient, "provider_id": adams, "status": "booked", "source": "portal"}
        ]
        listing = await practice.call("appointments.list", session)
        assert [a["id"] for a in listing["upcoming"]] == [booked["id"]]

        assert await practice.call("access.sign_out", session) == {"signed_out": True}

        # The very next request with the same session is refused.
        after = await practice.refused("appointments.list", session)
        assert after.code == "unauthenticated"
        again = await practice.refused("booking.cancel", session, appointment_id=booked["id"])
        assert again.code == "unauthenticated"
        assert practice.ids.appointments("status", id=booked["id"]) == [{"status": "booked"}]

        # The invitation link worked once.
        reused = await practice.refused(
            "access.activate", token=token, date_of_birth=DOB, zip=ZIP, password=PASSWORD
        )
        assert reused.code == "not_found"


async def test_without_auto_enable_an_activated_patient_waits_for_staff(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    """Seed 004: only with activate_without_confirmation does activation alone give access."""
    async with access_practice(
        small_practice, link_keys, access={"activate_without_confirmation": False}
    ) as practice:
        patient = small_practice.patient(NUMBER)
        await practice.staff.invite(patient)
        token = link_token(await practice.one_mail(practice.email_of(patient)), "/activate")
        activated = await practice.call(
            "access.activate", token=token, date_of_birth=DOB, zip=ZIP, password=PASSWORD
        )
        assert activated == {"activated": True, "access_enabled": False}

        refused = await practice.refused(
            "access.sign_in", login=practice.email_of(patient), password=PASSWORD
        )
        assert (refused.code, refused.message) == ("unauthenticated", SIGN_IN_FAILED)

        assert await practice.staff.set_access(patient, True) == "access enabled"
        session = await practice.sign_in(practice.email_of(patient))
        assert (await practice.call("access.account", session))["first_name"] == "Pat7"


async def test_a_second_invite_replaces_the_first_link(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with access_practice(
        small_practice, link_keys, access={"activate_without_confirmation": True}
    ) as practice:
        patient = small_practice.patient(NUMBER)
        await practice.staff.invite(patient)
        first = link_token(await practice.one_mail(practice.email_of(patient)), "/activate")
        await practice.staff.invite(patient)
        second = link_token(await practice.one_mail(practice.email_of(patient)), "/activate")
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
    small_practice: SmallPractice, link_keys: Path
) -> None:
    """Seed 004: staff turn access on; the patient sets a password with "forgot password"."""
    async with access_practice(small_practice, link_keys) as practice:
        patient = small_practice.patient(NUMBER)
        said = await practice.staff.set_access(patient, True)
        assert said.startswith("access enabled; the patient has no password yet")
        await practice.call("access.forgot_password", login=practice.email_of(patient).upper())
        token = link_token(await practice.one_mail(practice.email_of(patient)), "/reset")
        assert await practice.call("access.reset_password", token=token, password=PASSWORD) == {
            "reset": True
        }
        session = await practice.sign_in(practice.email_of(patient))
        assert (await practice.call("appointments.list", session)) == {"upcoming": [], "past": []}
