"""The issue's slot golden scenario through MariaDB and the OpenEMR store: the rows of
tests/agent/openemr/test_calendar_two_weeks.py (two providers, two weeks across the end of
daylight saving time on 2026-11-01 in New York) written into `openemr_postcalendar_events`
as OpenEMR writes them, read back by the store (`working_hours`, `busy_intervals`) and fed to
Portico's one slot function. Every expected start below is a local wall-clock time worked out
by hand from the rules of README 5 and 6 (an hour's visit on the hour):

Provider 7, In 08:00 / Out 17:00 every workday, lunch 12:00-13:00 every workday (not on
Thursday 11-05), a meeting Tuesdays 08:00-09:00, vacation all of Wednesday 11-04; the Out row
of Friday 10-30 deleted (open until midnight); booked 10-28 10:00-10:15 and 11-02 09:00-09:30
(pending '^'); cancelled 10-29 11:00 ('x') and 11-06 14:00 ('%') free their slots.
Provider 8: In 13:00 / Out 18:00 on Tuesdays and Thursdays; booked 11-03 14:00-14:15.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from agent.booking.slots import Window, merge_intervals, provider_slots, to_minute
from agent.openemr.calendar import CalendarEvent
from agent.store.base import HoursBlock, Interval, Tx
from tests.agent.openemr.store import NEW_YORK, openemr_store, read
from tests.agent.openemr.test_calendar_two_weeks import FIRST, LAST, ROWS
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.rows import insert

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=NEW_YORK)
OFFICE_VISIT = 5

WEEKDAY_HOURS = ["08", "09", "10", "11", "13", "14", "15", "16"]  # lunch 12-13 excluded
PROVIDER_7 = {
    "2026-10-26": WEEKDAY_HOURS,
    "2026-10-27": ["09", "10", "11", "13", "14", "15", "16"],  # meeting 08-09
    "2026-10-28": ["08", "09", "11", "13", "14", "15", "16"],  # booked 10:00-10:15
    "2026-10-29": WEEKDAY_HOURS,  # the cancelled 11:00 is free again
    "2026-10-30": ["08", "09", "10", "11", *(f"{h}" for h in range(13, 24))],  # no Out
    "2026-11-02": ["08", "10", "11", "13", "14", "15", "16"],  # pending 09:00-09:30
    "2026-11-03": ["09", "10", "11", "13", "14", "15", "16"],  # meeting 08-09 (EST now)
    # 2026-11-04: vacation
    "2026-11-05": ["08", "09", "10", "11", "12", "13", "14", "15", "16"],  # lunch deleted
    "2026-11-06": WEEKDAY_HOURS,  # the late-cancelled 14:00 is free again
}
PROVIDER_8 = {
    "2026-10-27": ["13", "14", "15", "16", "17"],
    "2026-10-29": ["13", "14", "15", "16", "17"],
    "2026-11-03": ["13", "15", "16", "17"],  # booked 14:00-14:15
    "2026-11-05": ["13", "14", "15", "16", "17"],
}


def _local_minutes(expected: dict[str, list[str]]) -> list[int]:
    return [
        to_minute(datetime.combine(date.fromisoformat(day), time(int(hour)), NEW_YORK))
        for day, hours in expected.items()
        for hour in hours
    ]


def _write(db: OpenEMRDatabase, event: CalendarEvent) -> None:
    insert(
        db,
        "openemr_postcalendar_events",
        {
            "pc_eid": event.eid,
            "pc_catid": event.category,
            "pc_multiple": 0,
            "pc_aid": event.provider,
            "pc_pid": event.patient,
            "pc_title": "",
            "pc_eventDate": event.event_date,
            "pc_endDate": event.end_date,
            "pc_duration": event.duration,
            "pc_recurrtype": event.recurrence_type,
            "pc_recurrspec": event.recurrence_spec,
            "pc_startTime": event.start_time,
            "pc_endTime": (event.start_time or timedelta()) + timedelta(seconds=event.duration),
            "pc_alldayevent": int(event.all_day),
            "pc_apptstatus": event.status,
            "pc_prefcatid": event.preferred_category,
            "pc_eventstatus": 1,
            "pc_sharing": 1,
        },
    )


async def test_the_two_week_scenario_offers_the_hand_written_starts_through_the_store(
    openemr_db: OpenEMRDatabase,
) -> None:
    for event in ROWS:
        _write(openemr_db, event)
    window = Window(
        to_minute(datetime.combine(FIRST, time(), NEW_YORK)),
        to_minute(datetime.combine(LAST + timedelta(days=1), time(), NEW_YORK)),
    )
    async with openemr_store(openemr_db, NOW) as store:

        def inputs(tx: Tx) -> tuple[dict[int, list[HoursBlock]], dict[int, list[Interval]]]:
            hours = store.working_hours(tx, [7, 8], FIRST, LAST, OFFICE_VISIT)
            busy = store.busy_intervals(tx, [7, 8], window.earliest, window.latest)
            return hours, busy

        hours, busy = await read(store, inputs)

    def starts(provider: int) -> list[int]:
        return provider_slots(
            hours=hours.get(provider, []),
            busy=merge_intervals(busy.get(provider, [])),
            tz=NEW_YORK,
            duration=60,
            step=60,
            window=window,
            first_day=FIRST,
            last_day=LAST,
        )

    assert starts(7) == _local_minutes(PROVIDER_7)
    assert starts(8) == _local_minutes(PROVIDER_8)
