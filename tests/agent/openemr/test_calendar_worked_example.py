"""README 5.7, OpenEMR's own worked example: one day, In Office 09:00, an appointment
10:00-10:15, Lunch 12:30 for 2700 s, a cancelled (x) appointment 14:00-14:15, Out Of Office
15:00. The intervals are written by hand; fed to Portico's slot function with OpenEMR's policy
(cancelled rows stay busy) on a 15-minute grid, they give exactly OpenEMR's offers."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from agent.booking.slots import Window, from_minute, provider_slots, to_minute
from agent.openemr.calendar import CalendarRules, provider_schedules, slot_inputs
from tests.agent.openemr.rows import (
    IN_OFFICE,
    LUNCH,
    OFFICE_VISIT,
    OUT_OF_OFFICE,
    row,
    span,
)

NEW_YORK = ZoneInfo("America/New_York")
DAY = date(2026, 10, 28)  # a Wednesday, UTC-4
ROWS = [
    row(1, "7", IN_OFFICE, "2026-10-28", "09:00"),
    row(2, "7", OFFICE_VISIT, "2026-10-28", "10:00", 900, patient="42"),
    row(3, "7", LUNCH, "2026-10-28", "12:30", 2700),
    row(4, "7", OFFICE_VISIT, "2026-10-28", "14:00", 900, status="x", patient="43"),
    row(5, "7", OUT_OF_OFFICE, "2026-10-28", "15:00"),
]


def times(text: str) -> list[str]:
    """'09:00 09:15' as ['09:00', '09:15']: offers read as OpenEMR's README prints them."""
    return text.split()


OPENEMR_POLICY = CalendarRules(zone=NEW_YORK, frees_slot=frozenset())
PORTICO_POLICY = CalendarRules(zone=NEW_YORK)

OPENEMR_15_MINUTES = times(
    "09:00 09:15 09:30 09:45 10:15 10:30 10:45 11:00 11:15 11:30 11:45 12:00 12:15 "
    "13:15 13:30 13:45 14:15 14:30 14:45"
)
OPENEMR_30_MINUTES = times("09:00 09:30 10:15 10:45 11:15 11:45 13:15 14:15")


def offered(rules: CalendarRules, duration: int) -> list[str]:
    schedule = provider_schedules(
        ROWS, providers={"7"}, category=OFFICE_VISIT, first_day=DAY, last_day=DAY, rules=rules
    ).by_provider["7"]
    inputs = slot_inputs(schedule)
    day_start = to_minute(datetime.combine(DAY, time(), NEW_YORK))
    starts = provider_slots(
        hours=inputs.hours,
        busy=inputs.busy,
        tz=NEW_YORK,
        duration=duration,
        step=15,
        window=Window(day_start, day_start + 24 * 60 - 1),
        first_day=inputs.first_day,
        last_day=inputs.last_day,
    )
    return [from_minute(start).astimezone(NEW_YORK).strftime("%H:%M") for start in starts]


def test_the_intervals_of_the_worked_example_with_openemrs_policy() -> None:
    schedules = provider_schedules(
        ROWS, providers={"7"}, category=OFFICE_VISIT, first_day=DAY, last_day=DAY,
        rules=OPENEMR_POLICY,
    )  # fmt: skip
    schedule = schedules.by_provider["7"]
    assert schedule.working == (span("2026-10-28", "13:00", "19:00"),)
    assert schedule.busy == (
        span("2026-10-28", "14:00", "14:15"),
        span("2026-10-28", "16:30", "17:15"),
        span("2026-10-28", "18:00", "18:15"),
    )
    assert schedules.skipped == ()


def test_portico_frees_the_cancelled_appointment_by_default() -> None:
    schedule = provider_schedules(
        ROWS, providers={"7"}, category=OFFICE_VISIT, first_day=DAY, last_day=DAY,
        rules=PORTICO_POLICY,
    ).by_provider["7"]  # fmt: skip
    assert schedule.busy == (
        span("2026-10-28", "14:00", "14:15"),
        span("2026-10-28", "16:30", "17:15"),
    )


def test_fifteen_minute_offers_are_openemrs() -> None:
    assert offered(OPENEMR_POLICY, 15) == OPENEMR_15_MINUTES


def test_thirty_minute_offers_are_every_free_quarter_hour_not_openemrs_jumps() -> None:
    """OpenEMR jumps k slots after each offer (README 5.6); Portico offers every start on its
    rounding grid that fits, so OpenEMR's offers are a subset of Portico's."""
    portico = offered(OPENEMR_POLICY, 30)
    assert portico == times(
        "09:00 09:15 09:30 10:15 10:30 10:45 11:00 11:15 11:30 11:45 12:00 13:15 13:30 14:15 14:30"
    )
    assert set(OPENEMR_30_MINUTES) <= set(portico)


def test_with_the_cancelled_row_freed_14_00_is_offered() -> None:
    assert offered(PORTICO_POLICY, 15) == sorted([*OPENEMR_15_MINUTES, "14:00"])
    assert offered(PORTICO_POLICY, 30) == times(
        "09:00 09:15 09:30 10:15 10:30 10:45 11:00 11:15 11:30 11:45 12:00 "
        "13:15 13:30 13:45 14:00 14:15 14:30"
    )
