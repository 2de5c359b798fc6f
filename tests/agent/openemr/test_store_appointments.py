"""A patient's appointments, categories and providers through the OpenEMR store, both
sql_modes, on a pool whose default database is another (empty) one. Expected values are
written by hand from README 2.2, 2.4, 2.5 and 4 (America/New_York: EST, UTC-5, in mid
November 2026)."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.store.base import Appointment, AppointmentType, Provider
from tests.agent.openemr.store import openemr_store, read
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.recurrspec import WORKDAY, every
from tests.support.openemr.rows import (
    IN_OFFICE,
    NEW_PATIENT,
    OFFICE_VISIT,
    OUT_OF_OFFICE,
    add_event,
    add_patient,
    add_provider,
)

NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # Mon 10:00 EST


def minute(day: int, hour: int, mins: int = 0) -> int:
    """Epoch minutes of a UTC time in November 2026, written by hand."""
    return int(datetime(2026, 11, day, hour, mins, tzinfo=UTC).timestamp()) // 60


async def test_categories_by_name_and_working_providers_by_id(
    openemr_db: OpenEMRDatabase,
) -> None:
    db = openemr_db
    grey = add_provider(db, username="grey", fname="Meredith", lname="Grey")
    adams = add_provider(db, username="adams", fname="Ann", lname="Adams", title="")
    gone = add_provider(db, username="gone", fname="Old", lname="Timer")
    series = {"repeat": every(1, WORKDAY), "until": "2026-12-31"}
    for provider in (grey, adams):
        add_event(
            db, provider=provider, category=IN_OFFICE, day="2026-11-02", start="9:00", **series
        )
    # Gone worked until last month only: no future In Office row.
    add_event(
        db,
        provider=gone,
        category=IN_OFFICE,
        day="2026-09-01",
        start="9:00",
        repeat=every(1, WORKDAY),
        until="2026-10-31",
    )
    async with openemr_store(db, NOW) as store:
        types = await read(store, store.appointment_types)
        one = await read(store, store.appointment_type, NEW_PATIENT)
        no_show = await read(store, store.appointment_type, 1)
        marker = await read(store, store.appointment_type, OUT_OF_OFFICE)
        everyone = await read(store, store.providers)
        for_visit = await read(store, store.providers, OFFICE_VISIT)
        only_adams = await read(store, store.providers, OFFICE_VISIT, adams)
        not_bookable = await read(store, store.providers, 1)

    assert types == [
        AppointmentType(9, "Established Patient", 15),
        AppointmentType(12, "Health and Behavioral Assessment", 15),
        AppointmentType(NEW_PATIENT, "New Patient", 30),
        AppointmentType(OFFICE_VISIT, "Office Visit", 15),
        AppointmentType(14, "Ophthalmological Services", 15),
        AppointmentType(13, "Preventive Care Services", 15),
    ]
    assert one == AppointmentType(NEW_PATIENT, "New Patient", 30)
    assert no_show is None and marker is None
    # Id order (Grey was added first), not OpenEMR's name order; not the admin, not Timer.
    assert everyone == [Provider(grey, "Dr. Meredith Grey"), Provider(adams, "Ann Adams")]
    assert for_visit == everyone
    assert only_adams == [Provider(adams, "Ann Adams")]
    assert not_bookable == []


def seed_visits(db: OpenEMRDatabase) -> tuple[int, dict[str, int]]:
    """Patient 1001's rows, one per status kind, and rows that are not theirs."""
    grey = add_provider(db, username="grey", fname="Meredith", lname="Grey")
    add_patient(db, 1001)
    add_patient(db, 1002, fname="Bob")
    ids: dict[str, int] = {}
    for key, day, start, status in [
        ("past_seen", "2026-11-09", "9:00", ">"),
        ("past_no_show", "2026-11-10", "9:00", "?"),
        ("cancelled", "2026-11-17", "9:00", "x"),
        ("late", "2026-11-17", "9:30", "%"),
        ("left", "2026-11-12", "9:00", "!"),
        ("pending", "2026-11-17", "10:00", "^"),
        ("confirmed", "2026-11-18", "14:00", "SMS"),
        ("custom", "2026-11-19", "8:00", "ZZ"),
        ("today_early", "2026-11-16", "9:30", "-"),  # 14:30 UTC: before now
        ("arrived", "2026-11-16", "10:00", "@"),
    ]:
        ids[key] = add_event(
            db,
            provider=grey,
            category=OFFICE_VISIT,
            day=day,
            start=start,
            minutes=15,
            patient=1001,
            status=status,
        )
    ids["bob"] = add_event(
        db,
        provider=grey,
        category=OFFICE_VISIT,
        day="2026-11-17",
        start="11:00",
        minutes=15,
        patient=1002,
        status="^",
    )
    ids["padded"] = add_event(
        db,
        provider=grey,
        category=OFFICE_VISIT,
        day="2026-11-17",
        start="12:00",
        minutes=15,
        patient="1001 ",
        status="^",
    )
    ids["series"] = add_event(
        db,
        provider=grey,
        category=OFFICE_VISIT,
        day="2026-11-17",
        start="13:00",
        minutes=15,
        patient=1001,
        repeat=every(1, WORKDAY),
        until="2026-12-31",
    )
    return grey, ids


async def test_a_patients_appointments_in_porticos_words(openemr_db: OpenEMRDatabase) -> None:
    grey, ids = seed_visits(openemr_db)
    async with openemr_store(openemr_db, NOW) as store:
        mine = await read(store, store.patient_appointments, 1001)
        one = await read(store, store.appointment, ids["late"], 1001)
        bobs = await read(store, store.appointment, ids["bob"], 1001)
        series = await read(store, store.appointment, ids["series"], 1001)
        missing = await read(store, store.appointment, 999999, 1001)

    def appointment(key: str, start: int, status: str, late: bool = False) -> Appointment:
        return Appointment(
            id=ids[key],
            patient_id=1001,
            provider_id=grey,
            provider_name="Dr. Meredith Grey",
            type_id=OFFICE_VISIT,
            type_name="Office Visit",
            duration_minutes=15,
            start=start,
            end=start + 15,
            status=status,
            late_cancel=late,
        )

    # Newest first; repeating, another pid's and a '1001 ' row are not 1001's appointments.
    assert mine == [
        appointment("custom", minute(19, 13), "booked"),
        appointment("confirmed", minute(18, 19), "booked"),
        appointment("pending", minute(17, 15), "booked"),
        appointment("late", minute(17, 14, 30), "cancelled", late=True),
        appointment("cancelled", minute(17, 14), "cancelled"),
        appointment("arrived", minute(16, 15), "completed"),
        appointment("today_early", minute(16, 14, 30), "booked"),
        appointment("left", minute(12, 14), "cancelled"),
        appointment("past_no_show", minute(10, 14), "no_show"),
        appointment("past_seen", minute(9, 14), "completed"),
    ]
    assert one == appointment("late", minute(17, 14, 30), "cancelled", late=True)
    assert bobs is None and series is None and missing is None


async def test_booked_time_counts_and_overlaps(openemr_db: OpenEMRDatabase) -> None:
    grey, ids = seed_visits(openemr_db)
    now = minute(16, 15)
    async with openemr_store(openemr_db, NOW) as store:
        upcoming = await read(store, store.upcoming_count, 1001, now)
        tuesday = await read(store, store.patient_busy, 1001, minute(17, 5), minute(18, 5))
        moving = await read(
            store, store.patient_busy, 1001, minute(17, 5), minute(18, 5), ids["pending"]
        )
        edge = await read(store, store.patient_busy, 1001, minute(17, 15, 15), minute(17, 16))
        per_day = await read(
            store, store.appointments_per_provider, [grey, 999], minute(17, 5), minute(18, 5)
        )
        week = await read(
            store, store.appointments_per_provider, [grey], minute(16, 5), minute(23, 5)
        )

    # Booked from 10:00 EST Monday on: pending, confirmed, custom ('-' at 09:30 is before
    # now; '@' arrived is completed).
    assert upcoming == 3
    assert tuesday == [(minute(17, 15), minute(17, 15, 15))]  # cancelled ones take no time
    assert moving == []
    assert edge == []  # [start, end) touching the end of 10:00-10:15 does not overlap
    # Tuesday's booked rows with a patient: 1001's pending and Bob's; the '1001 ' row is
    # no pid as OpenEMR writes one, the repeating row is the desk's, cancelled ones free.
    assert per_day == {grey: 2}
    assert week == {grey: 5}  # + today 09:30 '-', Wed SMS, Thu 'ZZ'
