"""The audit trail: a row for every sign-in, booking change and access change, stamped in UTC
with actor, patient, action, outcome and client ip - and never any patient data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import (
    CLIENT_IP,
    DOB,
    OTHER_PASSWORD,
    PASSWORD,
    ZIP,
    AccessPractice,
    access_practice,
    email_of,
    link_token,
    utc_naive,
)
from tests.support.practice import DR_ADAMS, FOLLOW_UP

P = 8
NEW_BY_PATIENT = "pat8.moved@example.org"
NEW_BY_STAFF = "pat8.office@example.org"


class Trail:
    """Reads the audit rows written since the last look."""

    def __init__(self, practice: AccessPractice) -> None:
        self.practice = practice
        self.last_id = 0
        self.all: list[dict[str, Any]] = []

    def new(self) -> list[tuple[str, Any, str, str, str | None]]:
        """(actor, patient_id, action, outcome, client_ip) of each new row, oldest first; and
        every new row is stamped with the FixedClock's now, in UTC."""
        rows = self.practice.query(
            "SELECT * FROM portal_audit WHERE id > %s ORDER BY id", (self.last_id,)
        )
        if rows:
            self.last_id = rows[-1]["id"]
        self.all += rows
        now: datetime = utc_naive(self.practice.clock.now())
        assert [row["occurred_at"] for row in rows] == [now] * len(rows)
        self.practice.advance(minutes=1)  # so that each step's rows have their own time
        return [
            (row["actor"], row["patient_id"], row["action"], row["outcome"], row["client_ip"])
            for row in rows
        ]


async def test_sign_ins_booking_and_access_changes_are_audited_without_patient_data(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(
        practice_db, link_keys, access={"activate_without_confirmation": True}
    ) as practice:
        trail = Trail(practice)
        me, ip, staff = f"patient:{P}", CLIENT_IP, "staff:test"

        await practice.staff.invite(P)
        assert trail.new() == [(staff, P, "access.invite", "sent", None)]
        token = link_token(await practice.one_mail(email_of(P)), "/activate")
        await practice.call(
            "access.activate", token=token, date_of_birth=DOB, zip=ZIP, password=PASSWORD
        )
        assert trail.new() == [(me, P, "access.activate", "ok", ip)]

        await practice.refused("access.sign_in", login=email_of(P), password=OTHER_PASSWORD)
        assert trail.new() == [(me, P, "access.sign_in", "failed", ip)]
        await practice.refused("access.sign_in", login="nobody@example.org", password=PASSWORD)
        assert trail.new() == [("anonymous", None, "access.sign_in", "failed", ip)]
        session = await practice.sign_in(email_of(P))
        assert trail.new() == [(me, P, "access.sign_in", "ok", ip)]

        slots = await practice.call(
            "booking.availability", session, appointment_type_id=FOLLOW_UP, provider_id=DR_ADAMS
        )
        first, _, _, _, later = [s["start"] for s in slots["days"][0]["slots"][:5]]
        trail.new()
        booked = await practice.call(
            "booking.book",
            session,
            appointment_type_id=FOLLOW_UP,
            provider_id=DR_ADAMS,
            start=first,
        )
        assert trail.new() == [(me, P, "booking.book", "ok", ip)]
        moved = await practice.call(
            "booking.reschedule", session, appointment_id=booked["id"], start=later
        )
        assert trail.new() == [(me, P, "booking.reschedule", "ok", ip)]
        await practice.refused("booking.cancel", session, appointment_id=booked["id"])
        assert trail.new() == [(me, P, "booking.cancel", "not_found", ip)]
        await practice.call("booking.cancel", session, appointment_id=moved["appointment"]["id"])
        assert trail.new() == [(me, P, "booking.cancel", "ok", ip)]
        # Booked, moved, cancelled: each mailed to the patient with its calendar file (issue 16).
        assert len(await practice.deliver()) == 3

        await practice.call(
            "access.change_email", session, password=PASSWORD, new_email=NEW_BY_PATIENT
        )
        assert trail.new() == [(me, P, "access.change_email", "confirmation_sent", ip)]
        change = link_token(await practice.one_mail(NEW_BY_PATIENT), "/confirm-email")
        await practice.call("access.confirm_email_change", token=change)
        assert trail.new() == [(me, P, "access.email_changed", "ok", ip)]
        await practice.deliver()

        await practice.staff.request_email_change(P, NEW_BY_STAFF)
        assert trail.new() == [(staff, P, "access.change_email", "confirmation_sent", None)]
        change = link_token(await practice.one_mail(NEW_BY_STAFF), "/confirm-email")
        await practice.call("access.confirm_email_change", token=change)
        assert trail.new() == [(me, P, "access.email_changed", "ok", ip)]
        await practice.deliver()
        session = await practice.sign_in(NEW_BY_STAFF)
        trail.new()
        await practice.staff.set_access(P, False)
        assert trail.new() == [(staff, P, "access.disable", "ok", None)]
        await practice.refused("access.sign_in", login=NEW_BY_STAFF, password=PASSWORD)
        assert trail.new() == [(me, P, "access.sign_in", "no_access", ip)]
        await practice.staff.set_access(P, True)
        assert trail.new() == [(staff, P, "access.enable", "ok", None)]
        session = await practice.sign_in(NEW_BY_STAFF)
        await practice.call("access.sign_out", session)
        assert trail.new() == [
            (me, P, "access.sign_in", "ok", ip),
            (me, P, "access.sign_out", "ok", ip),
        ]

        # Not one column of any row holds the patient's email, name, birth date, zip or password.
        secrets = [
            email_of(P),
            f"pat{P}@",
            NEW_BY_PATIENT,
            NEW_BY_STAFF,
            f"Pat{P}",
            "Example",
            DOB,
            "1970",
            ZIP,
            PASSWORD,
            OTHER_PASSWORD,
        ]
        everything = practice.query("SELECT * FROM portal_audit")
        assert len(everything) == len(trail.all) == 19
        for row in everything:
            for column, value in row.items():
                if column != "occurred_at":
                    for secret in secrets:
                        assert secret.casefold() not in str(value).casefold(), (column, row)


async def test_reading_appointments_is_audited(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    """DESIGN.md "Access rules": every PHI read writes an audit row; a patient's appointment
    list is PHI."""
    async with access_practice(practice_db, link_keys) as practice:
        session = await practice.signed_in_patient(P)
        trail = Trail(practice)
        trail.new()
        await practice.call("appointments.list", session)
        rows = trail.new()
        assert [(actor, patient, ip) for actor, patient, _, _, ip in rows] == [
            (f"patient:{P}", P, CLIENT_IP)
        ]
