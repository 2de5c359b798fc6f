"""round_to_minutes: slot starts land on a 15/30/60-minute grid of the practice's local clock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.booking.slots import Window, from_minute, provider_slots, to_minute
from agent.store.base import HoursBlock

MONDAY = date(2026, 6, 1)


def minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def offered(
    hours: list[HoursBlock],
    tz: ZoneInfo,
    *,
    duration: int,
    step: int,
    window: Window | None = None,
    days: int = 1,
) -> list[datetime]:
    if window is None:
        window = Window(
            to_minute(datetime.combine(MONDAY, time(), tz)),
            to_minute(datetime.combine(MONDAY + timedelta(days=days), time(), tz)),
        )
    starts = provider_slots(
        hours=hours, busy=[], tz=tz, duration=duration, step=step, window=window
    )
    return [from_minute(m).astimezone(tz) for m in starts]


@pytest.mark.parametrize("step", [15, 30, 60])
@pytest.mark.parametrize(
    "zone", ["America/Chicago", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "UTC"]
)
def test_every_start_is_on_the_local_grid(zone: str, step: int) -> None:
    tz = ZoneInfo(zone)
    # Odd block edges and an odd duration, so nothing lines up with the grid by accident.
    hours = [HoursBlock(wd, 8 * 60 + 7, 17 * 60 + 53) for wd in range(7)]
    slots = offered(hours, tz, duration=25, step=step, days=7)
    assert slots
    for start in slots:
        assert (start.hour * 60 + start.minute) % step == 0, start
    # Every grid point of the day that fits is there: 08:15 .. 17:15 (or coarser).
    first = {15: "08:15", 30: "08:30", 60: "09:00"}[step]
    last = {15: "17:15", 30: "17:00", 60: "17:00"}[step]
    monday = [s.strftime("%H:%M") for s in slots if s.date() == MONDAY]
    assert monday[0] == first
    assert monday[-1] == last
    assert len(monday) == (minutes(last) - minutes(first)) // step + 1


@pytest.mark.parametrize(("step", "first"), [(15, "09:15"), (30, "09:30"), (60, "10:00")])
def test_block_starting_off_grid_begins_at_the_next_grid_point(step: int, first: str) -> None:
    slots = offered(
        [HoursBlock(0, 9 * 60 + 10, 12 * 60)], ZoneInfo("Europe/Paris"), duration=30, step=step
    )
    assert slots[0].strftime("%H:%M") == first


@pytest.mark.parametrize(
    ("zone", "utc_clock"),
    [("Asia/Kolkata", "03:30"), ("Asia/Kathmandu", "03:15"), ("Australia/Eucla", "00:15")],
)
def test_grid_is_local_not_utc_in_zones_with_odd_offsets(zone: str, utc_clock: str) -> None:
    tz = ZoneInfo(zone)
    slots = offered([HoursBlock(0, 9 * 60, 12 * 60)], tz, duration=60, step=60)
    assert [s.strftime("%H:%M") for s in slots] == ["09:00", "10:00", "11:00"]
    assert slots[0].astimezone(ZoneInfo("UTC")).strftime("%H:%M") == utc_clock


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Asia/Kathmandu"])
def test_off_grid_block_in_odd_offset_zone_rounds_up_locally(zone: str) -> None:
    tz = ZoneInfo(zone)
    slots = offered([HoursBlock(0, 9 * 60 + 10, 11 * 60)], tz, duration=15, step=15)
    assert [s.strftime("%H:%M") for s in slots][:3] == ["09:15", "09:30", "09:45"]


@pytest.mark.parametrize(("step", "first"), [(15, "10:15"), (30, "10:30"), (60, "11:00")])
def test_notice_off_the_grid_rounds_up_to_the_next_grid_point(step: int, first: str) -> None:
    tz = ZoneInfo("Asia/Kathmandu")
    earliest = to_minute(datetime.combine(MONDAY, time(10, 7), tz))
    window = Window(earliest, earliest + 24 * 60)
    slots = offered([HoursBlock(0, 9 * 60, 17 * 60)], tz, duration=30, step=step, window=window)
    assert slots[0].strftime("%H:%M") == first


def test_grid_follows_the_local_clock_after_an_appointment_ends_off_grid() -> None:
    tz = ZoneInfo("Asia/Kolkata")
    busy = [
        (
            to_minute(datetime.combine(MONDAY, time(9, 0), tz)),
            to_minute(datetime.combine(MONDAY, time(9, 40), tz)),
        )
    ]
    window = Window(
        to_minute(datetime.combine(MONDAY, time(), tz)),
        to_minute(datetime.combine(MONDAY + timedelta(days=1), time(), tz)),
    )
    starts = provider_slots(
        hours=[HoursBlock(0, 9 * 60, 11 * 60)],
        busy=busy,
        tz=tz,
        duration=30,
        step=30,
        window=window,
    )
    assert [from_minute(m).astimezone(tz).strftime("%H:%M") for m in starts] == [
        "10:00",
        "10:30",
    ]
