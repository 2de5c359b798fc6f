"""From OpenEMR's tables to offered start times: rows written as OpenEMR writes them, read by
`calendar_events` and `practice_calendar_settings`, through `provider_schedules` and
`slot_inputs` into Portico's slot function. Expected starts written by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from agent.booking.slots import Window, from_minute, provider_slots, to_minute
from agent.openemr.calendar import CalendarRules, provider_schedules, slot_inputs
from agent.openemr.queries import calendar_events, practice_calendar_settings
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.recurrspec import WORKDAY, every
from tests.support.openemr.rows import (
    IN_OFFICE,
    NEW_PATIENT,
    OUT_OF_OFFICE,
    add_event,
    add_provider,
    set_global,
)

RESERVED = 11
NEW_YORK = ZoneInfo("America/New_York")
# Friday (summer time, UTC-4) to Monday (standard time, UTC-5): the clocks go back at 02:00
# on Sunday 2026-11-01.
FIRST, LAST = date(2026, 10, 30), date(2026, 11, 2)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_providers_30_minute_starts_on_both_sides_of_the_dst_change(
    openemr_db: OpenEMRDatabase,
) -> None:
    """Grey works 9:00-12:00 every workday (one In Office and one Out Of Office series). On
    Friday a Reserved row of no length at 10:00 blocks one `calendar_interval`, set to 60
    minutes: 10:00-11:00 (with the default 15, 10:30 would be free). On Monday a pending New
    Patient visit holds 9:30-10:00 and a cancelled one at 11:00 frees its time (Portico's
    default). House's visit on Friday at 9:00 is not Grey's. New Patient visits last 30
    minutes, offered on a 30-minute grid.

    Friday: 9:00 9:30 11:00 11:30.
    Monday: 9:00 10:00 10:30 11:00 11:30 (9:30 is booked).
    Saturday and Sunday are the weekend: no In Office row."""
    db = openemr_db
    set_global(db, "gbl_time_zone", "America/New_York")
    set_global(db, "calendar_interval", "60")
    grey = add_provider(db, username="grey", fname="Meredith", lname="Grey")
    house = add_provider(db, username="house", fname="Gregory", lname="House")
    for category, start in ((IN_OFFICE, "9:00"), (OUT_OF_OFFICE, "12:00")):
        add_event(
            db,
            provider=grey,
            category=category,
            day="2026-10-01",
            start=start,
            repeat=every(1, WORKDAY),
            until="2026-12-31",
        )
    add_event(db, provider=grey, category=RESERVED, day="2026-10-30", start="10:00")
    add_event(
        db,
        provider=house,
        category=NEW_PATIENT,
        day="2026-10-30",
        start="9:00",
        minutes=30,
        patient=1001,
    )
    add_event(
        db,
        provider=grey,
        category=NEW_PATIENT,
        day="2026-11-02",
        start="9:30",
        minutes=30,
        patient=1002,
        status="^",
    )
    add_event(
        db,
        provider=grey,
        category=NEW_PATIENT,
        day="2026-11-02",
        start="11:00",
        minutes=30,
        patient=1003,
        status="x",
    )

    connection = db.connect()
    with connection, connection.cursor() as cursor:
        settings = practice_calendar_settings(cursor, tables=db.tables)
        rows = calendar_events(cursor, [str(grey)], FIRST, LAST, tables=db.tables)
    assert settings.time_zone is not None and rows.unreadable == ()
    rules = CalendarRules(
        zone=settings.time_zone,
        weekend=settings.weekend,
        slot_seconds=settings.slot_minutes * 60,
    )
    schedules = provider_schedules(
        rows.events,
        providers={str(grey)},
        category=NEW_PATIENT,
        first_day=FIRST,
        last_day=LAST,
        rules=rules,
    )
    inputs = slot_inputs(schedules.by_provider[str(grey)])
    starts = provider_slots(
        hours=inputs.hours,
        busy=inputs.busy,
        tz=NEW_YORK,
        duration=30,
        step=30,
        window=Window(
            to_minute(datetime.combine(FIRST, time(), NEW_YORK)),
            to_minute(datetime.combine(LAST, time(23, 59), NEW_YORK)),
        ),
        first_day=inputs.first_day,
        last_day=inputs.last_day,
    )

    assert schedules.skipped == ()
    assert [from_minute(start) for start in starts] == [
        # Friday 2026-10-30, UTC-4.
        utc("2026-10-30 13:00"),
        utc("2026-10-30 13:30"),
        utc("2026-10-30 15:00"),
        utc("2026-10-30 15:30"),
        # Monday 2026-11-02, UTC-5.
        utc("2026-11-02 14:00"),
        utc("2026-11-02 15:00"),
        utc("2026-11-02 15:30"),
        utc("2026-11-02 16:00"),
        utc("2026-11-02 16:30"),
    ]
