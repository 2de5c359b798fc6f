"""The OpenEMR store's booking reads (agent/openemr/store/schedule.py) against hand-built rows,
both sql_modes, on a pool whose default database is another (empty) one.

The calendar (America/New_York; 2026-11-01 02:00 EDT falls back to 01:00 EST):

    Grey  In Office 09:00 / Out Of Office 12:00, every workday 2026-10-26..2026-12-31
    Grey  Fri 10-30 In Office 14:00 reserved for New Patient (pc_prefcatid 10), Out 16:00
    Grey  Sun 11-01 In Office 00:30, Out Of Office 03:00 (the night the clocks go back)
    Grey  Sun 11-01 01:00 30 min  pid 1001 '-'   01:00 is read at its first occurrence, EDT
    Grey  Mon 11-02 10:00 60 min  pid 1002 'x'   cancelled: frees its time
    Grey  Mon 11-02 11:00 30 min  pid 1003 '^'   pending portal booking: busy

Expected values are written by hand from README 5.4-5.5 and the slot rules.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from agent.booking.slots import Window, merge_intervals, provider_slots
from agent.store.base import HoursBlock
from tests.agent.openemr.store import NEW_YORK, openemr_store, read
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.recurrspec import WORKDAY, every
from tests.support.openemr.rows import (
    IN_OFFICE,
    NEW_PATIENT,
    OFFICE_VISIT,
    OUT_OF_OFFICE,
    add_event,
    add_provider,
)

FRI, SAT, SUN, MON = date(2026, 10, 30), date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)
NOW = datetime(2026, 10, 29, 12, 0, tzinfo=UTC)


def minute(month: int, day: int, hour: int, mins: int = 0) -> int:
    """Epoch minutes of a UTC time in 2026, written by hand."""
    return int(datetime(2026, month, day, hour, mins, tzinfo=UTC).timestamp()) // 60


def seed(db: OpenEMRDatabase) -> int:
    grey = add_provider(db, username="grey", fname="Meredith", lname="Grey")
    series = {"repeat": every(1, WORKDAY), "until": "2026-12-31"}
    add_event(db, provider=grey, category=IN_OFFICE, day="2026-10-26", start="9:00", **series)
    add_event(db, provider=grey, category=OUT_OF_OFFICE, day="2026-10-26", start="12:00", **series)
    add_event(db, provider=grey, category=IN_OFFICE, day="2026-10-30", start="14:00", prefcat=10)
    add_event(db, provider=grey, category=OUT_OF_OFFICE, day="2026-10-30", start="16:00")
    add_event(db, provider=grey, category=IN_OFFICE, day="2026-11-01", start="0:30")
    add_event(db, provider=grey, category=OUT_OF_OFFICE, day="2026-11-01", start="3:00")
    visit = {"provider": grey, "category": OFFICE_VISIT}
    add_event(db, **visit, day="2026-11-01", start="1:00", minutes=30, patient=1001)
    add_event(db, **visit, day="2026-11-02", start="10:00", minutes=60, patient=1002, status="x")
    add_event(db, **visit, day="2026-11-02", start="11:00", minutes=30, patient=1003, status="^")
    return grey


async def test_hours_are_dated_wall_clock_blocks_per_category(
    openemr_db: OpenEMRDatabase,
) -> None:
    grey = seed(openemr_db)
    async with openemr_store(openemr_db, NOW) as store:
        visit = await read(store, store.working_hours, [grey], FRI, MON, OFFICE_VISIT)
        new = await read(store, store.working_hours, [grey], FRI, MON, NEW_PATIENT)
        untyped = await read(store, store.working_hours, [grey], FRI, MON)
        sunday = await read(store, store.working_hours, [grey], SUN, SUN, OFFICE_VISIT)
        nobody = await read(store, store.working_hours, [], FRI, MON, OFFICE_VISIT)

    fri_morning = HoursBlock(4, 9 * 60, 12 * 60, on=FRI)
    sun_night = HoursBlock(6, 30, 3 * 60, on=SUN)  # wall clock: 3.5 real hours that night
    mon_morning = HoursBlock(0, 9 * 60, 12 * 60, on=MON)
    assert visit == {grey: [fri_morning, sun_night, mon_morning]}
    # The reserved In Office row opens the afternoon for New Patient only.
    assert new == {
        grey: [fri_morning, HoursBlock(4, 14 * 60, 16 * 60, on=FRI), sun_night, mon_morning]
    }
    assert untyped == visit
    assert sunday == {grey: [sun_night]}
    assert nobody == {}


async def test_busy_time_is_what_blocks_in_utc_minutes(openemr_db: OpenEMRDatabase) -> None:
    grey = seed(openemr_db)
    async with openemr_store(openemr_db, NOW) as store:
        busy = await read(store, store.busy_intervals, [grey], minute(10, 30, 4), minute(11, 3, 5))
        monday_only = await read(
            store, store.busy_intervals, [grey], minute(11, 2, 5), minute(11, 3, 5)
        )
        before = await read(
            store, store.busy_intervals, [grey], minute(11, 2, 5), minute(11, 2, 16)
        )

    # Sunday 01:00 EDT = 05:00 UTC; Monday 11:00 EST = 16:00 UTC. The cancelled 10:00 is free.
    assert busy == {
        grey: [(minute(11, 1, 5), minute(11, 1, 5, 30)), (minute(11, 2, 16), minute(11, 2, 16, 30))]
    }
    assert monday_only == {grey: [(minute(11, 2, 16), minute(11, 2, 16, 30))]}
    assert before == {}  # [start, end) overlaps nothing ending at or before 16:00


async def test_the_slot_function_gives_hand_written_starts_across_the_change(
    openemr_db: OpenEMRDatabase,
) -> None:
    grey = seed(openemr_db)
    async with openemr_store(openemr_db, NOW) as store:
        hours = await read(store, store.working_hours, [grey], FRI, MON, OFFICE_VISIT)
        busy = await read(store, store.busy_intervals, [grey], minute(10, 29, 4), minute(11, 4, 5))
    starts = provider_slots(
        hours=hours[grey],
        busy=merge_intervals(busy[grey]),
        tz=NEW_YORK,
        duration=60,
        step=30,
        window=Window(minute(10, 29, 0), minute(11, 5, 0)),
        first_day=FRI,
        last_day=MON,
    )
    assert starts == [
        # Friday, EDT: 09:00..11:00 local.
        minute(10, 30, 13),
        minute(10, 30, 13, 30),
        minute(10, 30, 14),
        minute(10, 30, 14, 30),
        minute(10, 30, 15),
        # Sunday night: 00:30 and 01:00 EDT would run into the 01:00 EDT visit (05:00-05:30
        # UTC); 01:30 EDT (05:30 UTC) is free; the repeated 01:00-01:59 is offered once, at
        # its first occurrence; 02:00 EST (07:00 UTC) ends at 03:00 EST, the Out row; 02:30
        # would run past it.
        minute(11, 1, 5, 30),
        minute(11, 1, 7),
        # Monday, EST: 09:00, 09:30, 10:00 (the cancelled visit frees it); 10:30 and 11:00
        # run into the pending 11:00 visit.
        minute(11, 2, 14),
        minute(11, 2, 14, 30),
        minute(11, 2, 15),
    ]
