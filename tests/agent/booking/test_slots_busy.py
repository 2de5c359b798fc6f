"""Booked appointments and time off take slots away; touching them end-to-start does not."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.booking.slots import (
    Window,
    from_minute,
    merge_intervals,
    provider_slots,
    to_minute,
)
from agent.store.base import HoursBlock

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2026, 6, 1)
WEEKDAYS_9_TO_5 = [HoursBlock(wd, 9 * 60, 17 * 60) for wd in range(5)]


def at(day: date, hhmm: str) -> int:
    """Epoch minute of a local wall time in Chicago."""
    return to_minute(datetime.combine(day, time.fromisoformat(hhmm), CHICAGO))


def offered(
    busy: list[tuple[int, int]],
    *,
    first: date = MONDAY,
    last: date = MONDAY,
    duration: int = 30,
    step: int = 15,
    hours: list[HoursBlock] = WEEKDAYS_9_TO_5,
) -> list[datetime]:
    window = Window(
        to_minute(datetime.combine(first, time(), CHICAGO)),
        to_minute(datetime.combine(last + timedelta(days=1), time(), CHICAGO)),
    )
    starts = provider_slots(
        hours=hours,
        busy=merge_intervals(busy),
        tz=CHICAGO,
        duration=duration,
        step=step,
        window=window,
    )
    return [from_minute(m).astimezone(CHICAGO) for m in starts]


def clock(slots: list[datetime]) -> list[str]:
    return [s.strftime("%H:%M") for s in slots]


def test_appointment_blocks_overlapping_slots_but_not_touching_ones() -> None:
    times = clock(offered([(at(MONDAY, "10:00"), at(MONDAY, "10:30"))]))
    assert "09:30" in times  # ends 10:00, exactly when the appointment starts
    for overlapping in ("09:45", "10:00", "10:15"):
        assert overlapping not in times
    assert "10:30" in times  # starts exactly when the appointment ends
    assert len(times) == 31 - 3


def test_time_off_in_the_middle_of_the_day() -> None:
    times = clock(offered([(at(MONDAY, "12:00"), at(MONDAY, "13:30"))], duration=60, step=30))
    morning = ["09:00", "09:30", "10:00", "10:30", "11:00"]
    afternoon = ["13:30", "14:00", "14:30", "15:00", "15:30", "16:00"]
    assert times == morning + afternoon


def test_busy_interval_off_the_grid_blocks_every_slot_it_touches() -> None:
    times = clock(offered([(at(MONDAY, "11:07"), at(MONDAY, "11:08"))], duration=30, step=15))
    assert "10:30" in times
    for overlapping in ("10:45", "11:00"):
        assert overlapping not in times
    assert "11:15" in times


def test_one_minute_of_overlap_is_still_an_overlap() -> None:
    # An appointment from 10:14: a 30-minute slot at 09:45 would end at 10:15.
    times = clock(offered([(at(MONDAY, "10:14"), at(MONDAY, "10:44"))], duration=30, step=15))
    assert "09:30" in times
    assert "09:45" not in times
    assert "10:30" not in times
    assert "10:45" in times


def test_busy_just_outside_the_block_changes_nothing() -> None:
    busy = [(at(MONDAY, "07:00"), at(MONDAY, "09:00")), (at(MONDAY, "17:00"), at(MONDAY, "19:00"))]
    times = clock(offered(busy))
    assert times[0] == "09:00"
    assert times[-1] == "16:30"
    assert len(times) == 31


def test_whole_day_booked_offers_nothing_that_day() -> None:
    busy = [(at(MONDAY, "09:00"), at(MONDAY, "17:00"))]
    assert offered(busy) == []


def test_merge_intervals_sorts_merges_and_drops_empty_ones() -> None:
    raw = [
        (600, 660),
        (540, 570),
        (650, 700),  # overlaps the first
        (570, 580),  # touches (540, 570)
        (800, 800),  # empty
        (900, 890),  # backwards, empty
        (610, 620),  # inside (600, 660)
        (1000, 1010),
    ]
    assert merge_intervals(raw) == [(540, 580), (600, 700), (1000, 1010)]
    assert merge_intervals([]) == []
    assert merge_intervals(iter([(5, 6)])) == [(5, 6)]


def test_unsorted_overlapping_appointments_block_their_union() -> None:
    busy = [
        (at(MONDAY, "14:00"), at(MONDAY, "14:45")),
        (at(MONDAY, "10:00"), at(MONDAY, "11:00")),
        (at(MONDAY, "10:30"), at(MONDAY, "11:30")),  # appointment and time off overlapping
        (at(MONDAY, "14:45"), at(MONDAY, "15:00")),  # back to back
        (at(MONDAY, "10:15"), at(MONDAY, "10:20")),  # inside another one
    ]
    times = clock(offered(busy, duration=30, step=15))
    free = [
        "09:00", "09:15", "09:30",
        "11:30", "11:45", "12:00", "12:15", "12:30", "12:45", "13:00", "13:15", "13:30",
        "15:00", "15:15", "15:30", "15:45", "16:00", "16:15", "16:30",
    ]  # fmt: skip
    assert times == free


def test_time_off_over_several_days_blocks_them_entirely() -> None:
    tuesday, thursday = MONDAY + timedelta(days=1), MONDAY + timedelta(days=3)
    friday = MONDAY + timedelta(days=4)
    time_off = [(at(tuesday, "12:00"), at(thursday, "12:00"))]
    week = offered(time_off, first=MONDAY, last=friday, duration=60, step=60)
    per_day = Counter(s.date() for s in week)
    assert per_day == {MONDAY: 8, tuesday: 3, thursday: 5, friday: 8}
    by_day = {d: [s.strftime("%H:%M") for s in week if s.date() == d] for d in per_day}
    assert by_day[tuesday] == ["09:00", "10:00", "11:00"]
    assert by_day[thursday] == ["12:00", "13:00", "14:00", "15:00", "16:00"]


def test_appointments_on_other_days_do_not_matter() -> None:
    tuesday = MONDAY + timedelta(days=1)
    busy = [(at(tuesday, "09:00"), at(tuesday, "17:00"))]
    assert len(offered(busy, first=MONDAY, last=MONDAY)) == 31
