"""`openemr.notify_provider`: a `pnotes` message to the provider per booking and cancellation,
as OpenEMR's portal leaves one (README of issue 13, section 3, side effects), every column
compared with a row written by hand; off by default."""

from __future__ import annotations

from datetime import datetime

from agent.store.base import Tx
from tests.agent.openemr.writing import (
    OFFICE_VISIT,
    PATIENT,
    TUESDAY_1030,
    Office,
    open_office,
)
from tests.support.openemr.portal import OpenEMRPortal

# The clock's 2026-10-20 14:05:09 UTC as New York's wall clock (EDT).
LOCAL_NOW = datetime(2026, 10, 20, 10, 5, 9)


async def book(office: Office) -> int:
    def run(tx: Tx) -> int:
        return office.store.insert_appointment(
            tx, PATIENT, office.provider, OFFICE_VISIT, TUESDAY_1030, 15
        )

    return await office.store.transaction(run)


def note(body: str) -> dict[str, object]:
    return {
        "date": LOCAL_NOW,
        "body": body,
        "pid": PATIENT,
        "user": "portal-user",
        "groupname": None,
        "activity": 1,
        "authorized": 1,
        "title": "Patient Reminders",
        "assigned_to": "mgrey",
        "deleted": 0,
        "message_status": "New",
        "portal_relation": None,
        "is_msg_encrypted": 0,
        "update_by": None,
        "update_date": LOCAL_NOW,
    }


async def test_booking_and_cancelling_leave_the_provider_a_note(
    openemr_portal: OpenEMRPortal,
) -> None:
    office = open_office(openemr_portal, notify_provider=True)
    eid = await book(office)
    await office.store.transaction(
        lambda tx: office.store.cancel_appointment(tx, eid, TUESDAY_1030 - 60, late=False)
    )
    rows = office.openemr.query("SELECT * FROM pnotes ORDER BY id")
    for row in rows:
        row.pop("id")
    assert rows == [
        note(
            "2026-10-20 10:05 (portal-user to mgrey) A New Appointment request was received"
            " from portal patient Ada Lovelace regarding appointment dated 2026-11-03 10:30:00."
            " Booked online through Portico."
        ),
        note(
            "2026-10-20 10:05 (portal-user to mgrey) An Updated Appointment request was received"
            " from portal patient Ada Lovelace regarding appointment dated 2026-11-03 10:30:00."
            " Cancelled online through Portico."
        ),
    ]


async def test_no_note_unless_configured(openemr_portal: OpenEMRPortal) -> None:
    office = open_office(openemr_portal)
    eid = await book(office)
    await office.store.transaction(
        lambda tx: office.store.cancel_appointment(tx, eid, TUESDAY_1030 - 60, late=True)
    )
    assert office.openemr.query("SELECT id FROM pnotes") == []
