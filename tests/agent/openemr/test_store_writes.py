"""The rows the OpenEMR store writes, read back column by column (README of issue 13, section 3),
in OpenEMR's sql_mode and a strict one (the `openemr_portal` fixture runs both)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from agent.store.base import Tx
from tests.agent.openemr.writing import (
    OFFICE_VISIT,
    OTHER_PATIENT,
    PATIENT,
    TUESDAY_1030,
    Office,
    event_count,
    open_office,
)
from tests.support.openemr.portal import OpenEMRPortal
from tests.support.openemr.rows import FACILITY, IN_OFFICE, add_event

# Written by hand from README section 3 ("Recommended row") and 6.2 (the staff "no repeat").
NO_REPEAT = (
    'a:6:{s:17:"event_repeat_freq";s:1:"0";s:22:"event_repeat_freq_type";s:1:"0";'
    's:19:"event_repeat_on_num";s:1:"1";s:19:"event_repeat_on_day";s:1:"0";'
    's:20:"event_repeat_on_freq";s:1:"0";s:6:"exdate";s:0:"";}'
)
EMPTY_ADDRESS = (
    'a:6:{s:14:"event_location";s:0:"";s:13:"event_street1";s:0:"";s:13:"event_street2";s:0:"";'
    's:10:"event_city";s:0:"";s:11:"event_state";s:0:"";s:12:"event_postal";s:0:"";}'
)


async def book(office: Office, patient: int = PATIENT, start: int = TUESDAY_1030) -> int:
    store = office.store

    def run(tx: Tx) -> int:
        assert store.lock_patient(tx, patient)
        return store.insert_appointment(tx, patient, office.provider, OFFICE_VISIT, start, 15)

    return await store.transaction(run)


async def cancel(office: Office, eid: int, *, late: bool) -> None:
    await office.store.transaction(
        lambda tx: office.store.cancel_appointment(tx, eid, TUESDAY_1030 - 60, late=late)
    )


def event_row(office: Office, eid: int) -> dict[str, Any]:
    return office.openemr.query(
        "SELECT * FROM openemr_postcalendar_events WHERE pc_eid = %s", (eid,)
    )[0]


def expected_row(office: Office, eid: int, **changes: Any) -> dict[str, Any]:
    row = {
        "pc_eid": eid,
        "pc_catid": OFFICE_VISIT,
        "pc_multiple": 0,
        "pc_aid": str(office.provider),
        "pc_pid": str(PATIENT),
        "pc_gid": 0,
        "pc_title": "Office Visit",
        "pc_time": datetime(2026, 10, 20, 10, 5, 9),  # the clock's 14:05:09 UTC, in EDT
        "pc_hometext": "",
        "pc_comments": 0,
        "pc_counter": 0,
        "pc_topic": 1,
        "pc_informant": None,
        "pc_eventDate": date(2026, 11, 3),
        "pc_endDate": None,
        "pc_duration": 900,
        "pc_recurrtype": 0,
        "pc_recurrspec": NO_REPEAT,
        "pc_recurrfreq": 0,
        "pc_startTime": timedelta(hours=10, minutes=30),  # 15:30 UTC in EST
        "pc_endTime": timedelta(hours=10, minutes=45),
        "pc_alldayevent": 0,
        "pc_location": EMPTY_ADDRESS,
        "pc_conttel": None,
        "pc_contname": None,
        "pc_contemail": None,
        "pc_website": None,
        "pc_fee": None,
        "pc_eventstatus": 1,
        "pc_sharing": 1,
        "pc_language": None,
        "pc_apptstatus": "^",
        "pc_prefcatid": 0,
        "pc_facility": 7,  # the In Office row's, not the provider's own (3)
        "pc_sendalertsms": "NO",
        "pc_sendalertemail": "NO",
        "pc_billing_location": 7,
        "pc_room": "",
    }
    row.update(changes)
    return row


async def test_a_booking_writes_every_column_as_openemrs_calendar_does(
    openemr_portal: OpenEMRPortal,
) -> None:
    office = open_office(openemr_portal)
    eid = await book(office)
    row = event_row(office, eid)
    written_uuid = row.pop("uuid")
    assert row == expected_row(office, eid)
    assert uuid.UUID(bytes=written_uuid).version == 4
    other = event_row(office, await book(office, OTHER_PATIENT, TUESDAY_1030 + 60))
    assert other["uuid"] != written_uuid


async def test_the_facility_is_the_providers_own_when_the_in_office_row_has_none(
    openemr_portal: OpenEMRPortal,
) -> None:
    office = open_office(openemr_portal)
    # Wednesday 4 November: a second In Office row at 10:00 with facility 0 is the latest
    # opening before 10:30, so the provider's users.facility_id (3) is used.
    add_event(
        office.openemr,
        provider=office.provider,
        category=IN_OFFICE,
        day="2026-11-04",
        start="10:00",
        facility=0,
    )
    wednesday_1030 = TUESDAY_1030 + 24 * 60
    eid = await book(office, start=wednesday_1030)
    row = event_row(office, eid)
    assert (row["pc_eventDate"], row["pc_facility"], row["pc_billing_location"]) == (
        date(2026, 11, 4),
        FACILITY,
        FACILITY,
    )


async def test_a_booking_takes_the_configured_status(openemr_portal: OpenEMRPortal) -> None:
    office = open_office(openemr_portal, booking_status="-")
    assert event_row(office, await book(office))["pc_apptstatus"] == "-"


async def test_cancel_sets_the_status_and_keeps_every_other_column(
    openemr_portal: OpenEMRPortal,
) -> None:
    office = open_office(openemr_portal)
    on_time, late = await book(office), await book(office, OTHER_PATIENT, TUESDAY_1030 + 60)
    await cancel(office, on_time, late=False)
    await cancel(office, late, late=True)
    row = event_row(office, on_time)
    row.pop("uuid")
    assert row == expected_row(office, on_time, pc_apptstatus="x")
    assert event_row(office, late)["pc_apptstatus"] == "%"


async def test_cancel_uses_the_configured_statuses(openemr_portal: OpenEMRPortal) -> None:
    office = open_office(openemr_portal, cancel_status="C", late_cancel_status="L")
    on_time, late = await book(office), await book(office, OTHER_PATIENT, TUESDAY_1030 + 60)
    await cancel(office, on_time, late=False)
    await cancel(office, late, late=True)
    assert [event_row(office, eid)["pc_apptstatus"] for eid in (on_time, late)] == ["C", "L"]


async def test_no_row_is_ever_deleted_over_book_cancel_and_reschedule(
    openemr_portal: OpenEMRPortal,
) -> None:
    office = open_office(openemr_portal)
    store = office.store
    before = event_count(office.openemr)
    first = await book(office)
    assert event_count(office.openemr) == before + 1
    await cancel(office, first, late=False)
    assert event_count(office.openemr) == before + 1
    second = await book(office)  # the cancelled time is free again

    def reschedule(tx: Tx) -> int:
        # What BookingService does: cancel the old row and insert the new one, one transaction.
        store.lock_patient(tx, PATIENT)
        store.cancel_appointment(tx, second, TUESDAY_1030 - 60, late=False)
        return store.insert_appointment(
            tx, PATIENT, office.provider, OFFICE_VISIT, TUESDAY_1030 + 30, 15
        )

    third = await store.transaction(reschedule)
    assert event_count(office.openemr) == before + 3
    statuses = office.openemr.query(
        "SELECT pc_eid, pc_apptstatus, pc_startTime FROM openemr_postcalendar_events"
        " WHERE pc_pid = %s ORDER BY pc_eid",
        (str(PATIENT),),
    )
    assert statuses == [
        {"pc_eid": first, "pc_apptstatus": "x", "pc_startTime": timedelta(hours=10, minutes=30)},
        {"pc_eid": second, "pc_apptstatus": "x", "pc_startTime": timedelta(hours=10, minutes=30)},
        {"pc_eid": third, "pc_apptstatus": "^", "pc_startTime": timedelta(hours=11)},
    ]


async def test_lock_patient_is_false_for_no_such_pid(openemr_portal: OpenEMRPortal) -> None:
    office = open_office(openemr_portal)
    # patient_data.id 1 exists (Ada's surrogate id); pid 1 does not.
    found = await office.store.transaction(
        lambda tx: [office.store.lock_patient(tx, pid) for pid in (1, PATIENT, 99999)]
    )
    assert found == [False, True, False]
