"""The issue's Must-show scenario, as far as it is pure: two weeks in New York spanning the end
of daylight saving time (Sunday 2026-11-01, UTC-4 before, UTC-5 after).

Provider 7: In Office 08:00 and Out Of Office 17:00 every workday (the Friday 10-30 Out deleted
as one occurrence, so that day stays open to midnight); Lunch 12:00 for an hour every workday
(not on Thursday 11-05, deleted); a vacation day on 11-04; a weekly meeting on Tuesdays 08:00;
a booked and a pending appointment; a cancelled (x) and a late-cancelled (%) one; one row with
a PHP object for a spec. Provider 8: In 13:00 / Out 18:00 on Tuesdays and Thursdays (a
days-of-week series) with one appointment, and a row with a truncated spec. Provider 9's rows
are not asked for. Every expected interval is worked out by hand from README 5 and 6.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from agent.booking.slots import Window, provider_slots, to_minute
from agent.openemr.calendar import CalendarRules, Schedules, provider_schedules, slot_inputs
from tests.agent.openemr.rows import (
    IN_OFFICE,
    LUNCH,
    OFFICE_VISIT,
    OUT_OF_OFFICE,
    RESERVED,
    VACATION,
    row,
    span,
    utc,
)
from tests.agent.openemr.specs import every

NEW_YORK = ZoneInfo("America/New_York")
FIRST, LAST = date(2026, 10, 26), date(2026, 11, 8)  # Monday to Sunday, two weeks
SERIES = {"recurrence_type": 1, "end": "2026-12-31"}
ROWS = [
    row(1, "7", IN_OFFICE, "2026-10-01", "08:00", spec=every("1", "4"), **SERIES),
    row(2, "7", OUT_OF_OFFICE, "2026-10-01", "17:00", spec=every("1", "4", "20261030"), **SERIES),
    row(3, "7", LUNCH, "2026-10-01", "12:00", 3600, spec=every("1", "4", "20261105"), **SERIES),
    row(4, "7", VACATION, "2026-11-04", "00:00", 86400, all_day=True),
    row(5, "7", RESERVED, "2026-10-06", "08:00", 3600, spec=every("1", "1"),
        recurrence_type=1, end="2027-01-26"),
    row(6, "7", OFFICE_VISIT, "2026-10-28", "10:00", 900, patient="42"),
    row(7, "7", OFFICE_VISIT, "2026-11-02", "09:00", 1800, status="^", patient="43"),
    row(8, "7", OFFICE_VISIT, "2026-10-29", "11:00", 900, status="x", patient="44"),
    row(9, "7", OFFICE_VISIT, "2026-11-06", "14:00", 900, status="%", patient="45"),
    row(10, "8", IN_OFFICE, "2026-10-01", "13:00", spec=every("3,5", "6"),
        recurrence_type=3, end="2026-12-31"),
    row(11, "8", OUT_OF_OFFICE, "2026-10-01", "18:00", spec=every("3,5", "6"),
        recurrence_type=3, end="2026-12-31"),
    row(12, "8", OFFICE_VISIT, "2026-11-03", "14:00", 900, status="*", patient="46"),
    row(13, "9", IN_OFFICE, "2026-10-01", "07:00", spec=every("1", "0"), **SERIES),
    row(14, "9", OFFICE_VISIT, "2026-10-27", "09:00", 900, patient="47"),
    row(98, "8", OFFICE_VISIT, "2026-10-01", "09:00", 900, spec=every("1", "0")[:40], **SERIES),
    row(99, "7", OFFICE_VISIT, "2026-10-01", "09:00", 900, spec='O:8:"stdClass":0:{}', **SERIES),
]  # fmt: skip
RULES = CalendarRules(zone=NEW_YORK)


def schedules() -> Schedules:
    return provider_schedules(
        ROWS, providers=["7", "8"], category=OFFICE_VISIT, first_day=FIRST, last_day=LAST,
        rules=RULES,
    )  # fmt: skip


def test_only_the_providers_asked_for_and_the_unreadable_rows_are_counted() -> None:
    result = schedules()
    assert set(result.by_provider) == {"7", "8"}
    assert sorted(result.skipped) == [98, 99]


def test_the_range_is_local_midnight_to_local_midnight() -> None:
    schedule = schedules().by_provider["7"]
    assert schedule.start == utc("2026-10-26 04:00")  # 00:00 EDT
    assert schedule.end == utc("2026-11-09 05:00")  # 00:00 EST


def test_provider_7_works_08_to_17_local_on_workdays_on_both_sides_of_the_change() -> None:
    assert schedules().by_provider["7"].working == (
        span("2026-10-26", "12:00", "21:00"),
        span("2026-10-27", "12:00", "21:00"),
        span("2026-10-28", "12:00", "21:00"),
        span("2026-10-29", "12:00", "21:00"),
        span("2026-10-30", "12:00", "04:00"),  # Out deleted: open until local midnight
        span("2026-11-02", "13:00", "22:00"),
        span("2026-11-03", "13:00", "22:00"),
        span("2026-11-04", "13:00", "22:00"),  # a vacation is busy time, not a closed day
        span("2026-11-05", "13:00", "22:00"),
        span("2026-11-06", "13:00", "22:00"),
    )


def test_provider_7_is_busy_at_lunch_meetings_vacation_and_live_appointments() -> None:
    assert schedules().by_provider["7"].busy == (
        span("2026-10-26", "16:00", "17:00"),  # lunch
        span("2026-10-27", "12:00", "13:00"),  # Tuesday meeting
        span("2026-10-27", "16:00", "17:00"),
        span("2026-10-28", "14:00", "14:15"),  # booked
        span("2026-10-28", "16:00", "17:00"),
        span("2026-10-29", "16:00", "17:00"),  # the cancelled 11:00 frees its slot
        span("2026-10-30", "16:00", "17:00"),
        span("2026-11-02", "14:00", "14:30"),  # pending (^) from OpenEMR's portal
        span("2026-11-02", "17:00", "18:00"),
        span("2026-11-03", "13:00", "14:00"),  # Tuesday meeting, 08:00 EST
        span("2026-11-03", "17:00", "18:00"),
        span("2026-11-04", "05:00", "05:00"),  # vacation, local midnight to midnight
        span("2026-11-06", "17:00", "18:00"),  # no lunch on 11-05 (exdate); % frees 14:00
    )


def test_provider_8_works_tuesdays_and_thursdays() -> None:
    schedule = schedules().by_provider["8"]
    assert schedule.working == (
        span("2026-10-27", "17:00", "22:00"),
        span("2026-10-29", "17:00", "22:00"),
        span("2026-11-03", "18:00", "23:00"),
        span("2026-11-05", "18:00", "23:00"),
    )
    assert schedule.busy == (span("2026-11-03", "19:00", "19:15"),)


def test_the_slot_function_offers_13_00_local_on_both_sides_of_the_change() -> None:
    inputs = slot_inputs(schedules().by_provider["8"])
    starts = provider_slots(
        hours=inputs.hours,
        busy=inputs.busy,
        tz=NEW_YORK,
        duration=60,
        step=60,
        window=Window(to_minute(utc("2026-10-26 04:00")), to_minute(utc("2026-11-09 05:00"))),
        first_day=inputs.first_day,
        last_day=inputs.last_day,
    )
    expected = [
        "2026-10-27 17:00", "2026-10-27 18:00", "2026-10-27 19:00", "2026-10-27 20:00",
        "2026-10-27 21:00",
        "2026-10-29 17:00", "2026-10-29 18:00", "2026-10-29 19:00", "2026-10-29 20:00",
        "2026-10-29 21:00",
        "2026-11-03 18:00", "2026-11-03 20:00", "2026-11-03 21:00", "2026-11-03 22:00",
        "2026-11-05 18:00", "2026-11-05 19:00", "2026-11-05 20:00", "2026-11-05 21:00",
        "2026-11-05 22:00",
    ]  # fmt: skip
    assert starts == [to_minute(utc(text)) for text in expected]
