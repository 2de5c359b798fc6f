"""The calendar's rules one at a time (README 5.4-5.5 and Portico's documented choices), each
with its expected intervals worked out by hand. New York; 2026-10-28 is a Wednesday on UTC-4."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.booking.slots import to_minute
from agent.openemr.calendar import (
    ALL_DAY_HOURS,
    CalendarEvent,
    CalendarRules,
    ProviderSchedule,
    event_from_row,
    provider_schedules,
    slot_inputs,
)
from tests.agent.openemr.rows import (
    CLOSED,
    IN_OFFICE,
    NEW_PATIENT,
    OFFICE_VISIT,
    OUT_OF_OFFICE,
    RESERVED,
    row,
    span,
    utc,
)
from tests.agent.openemr.specs import every

NEW_YORK = ZoneInfo("America/New_York")
RULES = CalendarRules(zone=NEW_YORK)
DAY = "2026-10-28"


def schedule(
    rows: list[CalendarEvent],
    *,
    category: int = OFFICE_VISIT,
    first: str = DAY,
    last: str = DAY,
    rules: CalendarRules = RULES,
    provider: str = "7",
) -> ProviderSchedule:
    return provider_schedules(
        rows,
        providers={"7", "8"},
        category=category,
        first_day=date.fromisoformat(first),
        last_day=date.fromisoformat(last),
        rules=rules,
    ).by_provider[provider]


def test_an_out_at_the_same_instant_as_an_in_wins() -> None:
    rows = [row(1, "7", IN_OFFICE, DAY, "09:00"), row(2, "7", OUT_OF_OFFICE, DAY, "09:00")]
    assert schedule(rows).working == ()


def test_two_in_out_pairs_make_two_windows() -> None:
    rows = [
        row(1, "7", IN_OFFICE, DAY, "08:00"),
        row(2, "7", OUT_OF_OFFICE, DAY, "12:00"),
        row(3, "7", IN_OFFICE, DAY, "13:00"),
        row(4, "7", OUT_OF_OFFICE, DAY, "17:00"),
    ]
    assert schedule(rows).working == (span(DAY, "12:00", "16:00"), span(DAY, "17:00", "21:00"))


def test_an_out_before_the_in_closes_nothing_and_the_in_runs_to_midnight() -> None:
    rows = [row(1, "7", OUT_OF_OFFICE, DAY, "08:00"), row(2, "7", IN_OFFICE, DAY, "09:00")]
    assert schedule(rows).working == (span(DAY, "13:00", "04:00"),)


def test_an_in_with_a_duration_still_only_opens() -> None:
    rows = [row(1, "7", IN_OFFICE, DAY, "09:00", 3600), row(2, "7", OUT_OF_OFFICE, DAY, "17:00")]
    assert schedule(rows).working == (span(DAY, "13:00", "21:00"),)
    assert schedule(rows).busy == ()


PREFCAT_ROWS = [
    row(1, "7", IN_OFFICE, DAY, "09:00", prefcat=NEW_PATIENT),
    row(2, "7", OUT_OF_OFFICE, DAY, "12:00"),
    row(3, "7", IN_OFFICE, DAY, "13:00"),
    row(4, "7", OUT_OF_OFFICE, DAY, "17:00"),
]


def test_an_in_with_a_preferred_category_opens_only_for_that_category() -> None:
    assert schedule(PREFCAT_ROWS, category=NEW_PATIENT).working == (
        span(DAY, "13:00", "16:00"),
        span(DAY, "17:00", "21:00"),
    )
    assert schedule(PREFCAT_ROWS, category=OFFICE_VISIT).working == (span(DAY, "17:00", "21:00"),)


def test_an_in_for_another_category_closes_an_open_window() -> None:
    rows = [
        row(1, "7", IN_OFFICE, DAY, "08:00"),
        row(2, "7", IN_OFFICE, DAY, "10:00", prefcat=NEW_PATIENT),
        row(3, "7", OUT_OF_OFFICE, DAY, "12:00"),
    ]
    assert schedule(rows, category=OFFICE_VISIT).working == (span(DAY, "12:00", "14:00"),)
    assert schedule(rows, category=NEW_PATIENT).working == (span(DAY, "12:00", "16:00"),)


def test_a_row_without_length_blocks_one_calendar_interval() -> None:
    rows = [row(1, "7", RESERVED, DAY, "10:00", 0)]
    assert schedule(rows).busy == (span(DAY, "14:00", "14:15"),)
    ten_minutes = CalendarRules(zone=NEW_YORK, slot_seconds=600)
    assert schedule(rows, rules=ten_minutes).busy == (span(DAY, "14:00", "14:10"),)


def test_which_statuses_free_a_slot_is_configurable() -> None:
    rows = [
        row(1, "7", OFFICE_VISIT, DAY, "10:00", 900, status="x"),
        row(2, "7", OFFICE_VISIT, DAY, "11:00", 900, status="%"),
        row(3, "7", OFFICE_VISIT, DAY, "12:00", 900, status="?"),
    ]
    assert schedule(rows).busy == (span(DAY, "16:00", "16:15"),)
    no_shows_too = CalendarRules(zone=NEW_YORK, frees_slot=frozenset({"x", "%", "?"}))
    assert schedule(rows, rules=no_shows_too).busy == ()
    like_openemr = CalendarRules(zone=NEW_YORK, frees_slot=frozenset())
    assert schedule(rows, rules=like_openemr).busy == (
        span(DAY, "14:00", "14:15"),
        span(DAY, "15:00", "15:15"),
        span(DAY, "16:00", "16:15"),
    )


def test_a_clinic_wide_closed_day_blocks_every_provider_unless_turned_off() -> None:
    rows = [
        row(1, "0", CLOSED, DAY, "00:00", 86400, all_day=True),
        row(2, "0", IN_OFFICE, DAY, "09:00"),  # a clinic-wide marker opens nothing
        row(3, "8", IN_OFFICE, DAY, "09:00"),
    ]
    for provider in ("7", "8"):
        assert schedule(rows, provider=provider).busy == (span(DAY, "04:00", "04:00"),)
    assert schedule(rows, provider="7").working == ()
    like_openemr = CalendarRules(zone=NEW_YORK, clinic_wide_blocks=False)
    assert schedule(rows, provider="8", rules=like_openemr).busy == ()


def test_a_row_from_the_day_before_that_runs_past_midnight_blocks_the_first_day() -> None:
    rows = [
        row(1, "7", RESERVED, "2026-10-27", "23:00", 7200),
        row(2, "7", RESERVED, DAY, "23:30", 3600),  # clipped at the end of the range
    ]
    # 23:30 EDT on the 28th is 03:30 UTC on the 29th.
    assert schedule(rows).busy == (
        span(DAY, "04:00", "05:00"),
        span("2026-10-29", "03:30", "04:00"),
    )


def test_a_row_without_start_time_is_skipped_and_counted() -> None:
    rows = [row(5, "7", OFFICE_VISIT, DAY, None, 900), row(6, "7", OFFICE_VISIT, DAY, "10:00", 900)]
    result = provider_schedules(
        rows, providers={"7"}, category=OFFICE_VISIT,
        first_day=date(2026, 10, 28), last_day=date(2026, 10, 28), rules=RULES,
    )  # fmt: skip
    assert result.skipped == (5,)
    assert result.by_provider["7"].busy == (span(DAY, "14:00", "14:15"),)


def test_a_huge_interval_is_skipped_not_an_overflow() -> None:
    rows = [row(5, "7", RESERVED, "2026-10-01", "10:00", 900, recurrence_type=1,
                end="9999-12-31", spec=every("99999999999", "1"))]  # fmt: skip
    far = provider_schedules(
        rows, providers={"7"}, category=OFFICE_VISIT,
        first_day=date(9999, 12, 1), last_day=date(9999, 12, 30), rules=RULES,
    )  # fmt: skip
    assert far.skipped == (5,)


# Daylight saving time: one rule for impossible wall times, fold=0.


def test_a_wall_time_in_the_spring_gap_is_read_with_the_offset_before_the_change() -> None:
    rows = [
        row(1, "7", IN_OFFICE, "2026-03-08", "02:30"),  # does not exist: clocks jump 02:00->03:00
        row(2, "7", OUT_OF_OFFICE, "2026-03-08", "17:00"),
    ]
    got = schedule(rows, first="2026-03-08", last="2026-03-08")
    assert got.working == (span("2026-03-08", "07:30", "21:00"),)  # 03:30 EDT to 17:00 EDT


def test_an_ambiguous_wall_time_in_the_fall_is_its_first_occurrence() -> None:
    rows = [row(1, "7", OFFICE_VISIT, "2026-11-01", "01:30", 1800)]
    got = schedule(rows, first="2026-11-01", last="2026-11-01")
    assert got.busy == (span("2026-11-01", "05:30", "06:00"),)  # 01:30 EDT, not EST


def test_an_all_day_row_blocks_the_whole_local_day_whatever_its_length() -> None:
    fall = [row(1, "7", RESERVED, "2026-11-01", "00:00", 86400, all_day=True)]
    assert schedule(fall, first="2026-11-01", last="2026-11-01").busy == (
        (utc("2026-11-01 04:00"), utc("2026-11-02 05:00")),  # 25 hours
    )
    spring = [row(1, "7", RESERVED, "2026-03-08", "00:00", 86400, all_day=True)]
    assert schedule(spring, first="2026-03-08", last="2026-03-08").busy == (
        (utc("2026-03-08 05:00"), utc("2026-03-09 04:00")),  # 23 hours
    )


def test_a_daily_09_00_stays_09_00_local_across_the_spring_change() -> None:
    rows = [
        row(1, "7", IN_OFFICE, "2026-03-01", "09:00", recurrence_type=1, end="2026-03-31",
            spec=every("1", "0")),
        row(2, "7", OUT_OF_OFFICE, "2026-03-01", "10:00", recurrence_type=1, end="2026-03-31",
            spec=every("1", "0")),
    ]  # fmt: skip
    got = schedule(rows, first="2026-03-07", last="2026-03-09")
    assert got.working == (
        span("2026-03-07", "14:00", "15:00"),
        span("2026-03-08", "13:00", "14:00"),
        span("2026-03-09", "13:00", "14:00"),
    )


# What the slot function receives.


def test_slot_inputs_round_busy_time_outwards_and_working_time_inwards() -> None:
    rows = [
        row(1, "7", IN_OFFICE, DAY, "09:00:30"),
        row(2, "7", OUT_OF_OFFICE, DAY, "10:00:30"),
        row(3, "7", RESERVED, DAY, "09:30:10", 590),
    ]
    inputs = slot_inputs(schedule(rows))
    assert inputs.hours == ALL_DAY_HOURS
    assert (inputs.first_day, inputs.last_day) == (date(2026, 10, 28), date(2026, 10, 28))
    assert inputs.busy == [
        (to_minute(utc("2026-10-28 04:00")), to_minute(utc("2026-10-28 13:01"))),
        (to_minute(utc("2026-10-28 13:30")), to_minute(utc("2026-10-28 13:40"))),
        (to_minute(utc("2026-10-28 14:00")), to_minute(utc("2026-10-29 04:00"))),
    ]


# Rows as the driver returns them.

DRIVER_ROW: dict[str, object] = {
    "pc_eid": 5,
    "pc_aid": "7",
    "pc_pid": None,
    "pc_catid": 2,
    "pc_eventDate": date(2026, 10, 1),
    "pc_endDate": "0000-00-00",
    "pc_startTime": timedelta(hours=9),
    "pc_duration": 0,
    "pc_recurrtype": 1,
    "pc_recurrspec": every("1", "4"),
    "pc_apptstatus": "-",
    "pc_prefcatid": 0,
    "pc_alldayevent": 0,
}


def test_a_driver_row_becomes_an_event() -> None:
    assert event_from_row(DRIVER_ROW) == CalendarEvent(
        eid=5,
        provider="7",
        patient="",
        category=2,
        event_date=date(2026, 10, 1),
        end_date=None,
        start_time=timedelta(hours=9),
        duration=0,
        recurrence_type=1,
        recurrence_spec=every("1", "4"),
        status="-",
        preferred_category=0,
        all_day=False,
    )


@pytest.mark.parametrize("value", [time(9, 0), "09:00:00", timedelta(hours=9)])
def test_a_start_time_may_come_as_time_text_or_timedelta(value: object) -> None:
    assert event_from_row({**DRIVER_ROW, "pc_startTime": value}).start_time == timedelta(hours=9)


@pytest.mark.parametrize("value", ["0000-00-00", None, "2026-13-45"])
def test_a_row_without_a_real_date_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        event_from_row({**DRIVER_ROW, "pc_eventDate": value})
