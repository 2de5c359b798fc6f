"""Minimum notice and horizon: now + notice <= start <= now + horizon, to the minute."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.booking.slots import (
    Window,
    booking_window,
    from_minute,
    provider_slots,
    to_minute,
)
from agent.store.base import HoursBlock

DENVER = ZoneInfo("America/Denver")
MONDAY = date(2026, 6, 1)
EVERY_DAY_9_TO_5 = [HoursBlock(wd, 9 * 60, 17 * 60) for wd in range(7)]


def local(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), DENVER)


def offered(
    now: datetime,
    *,
    notice_hours: int = 0,
    horizon_days: int = 1,
    first_day: date | None = None,
    last_day: date | None = None,
    hours: list[HoursBlock] = EVERY_DAY_9_TO_5,
) -> list[datetime]:
    starts = provider_slots(
        hours=hours,
        busy=[],
        tz=DENVER,
        duration=30,
        step=15,
        window=booking_window(now, notice_hours, horizon_days),
        first_day=first_day,
        last_day=last_day,
    )
    return [from_minute(m).astimezone(DENVER) for m in starts]


def test_to_minute_and_from_minute_round_trip() -> None:
    moment = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
    assert from_minute(to_minute(moment)) == moment
    assert to_minute(moment) == 29_672_100  # 2026-06-01T15:00Z is 1_780_326_000 s
    assert to_minute(moment + timedelta(seconds=59, microseconds=999_999)) == to_minute(moment)
    assert to_minute(moment.astimezone(DENVER)) == to_minute(moment)


def test_start_exactly_at_the_notice_is_offered() -> None:
    slots = offered(local(MONDAY, 7, 0), notice_hours=2)
    assert slots[0] == local(MONDAY, 9, 0)


def test_start_one_minute_inside_the_notice_is_not_offered() -> None:
    slots = offered(local(MONDAY, 7, 1), notice_hours=2)
    assert local(MONDAY, 9, 0) not in slots
    assert slots[0] == local(MONDAY, 9, 15)


def test_notice_counts_seconds_of_now() -> None:
    # 08:59:30 with no notice: 09:00 is in the future and offered; 08:59 would be in the past.
    window = booking_window(local(MONDAY, 8, 59, 30), 0, 1)
    assert window.earliest == to_minute(local(MONDAY, 9, 0))
    hours = [HoursBlock(0, 8 * 60 + 45, 17 * 60)]
    slots = offered(local(MONDAY, 8, 59, 30), hours=hours)
    assert slots[0] == local(MONDAY, 9, 0)
    assert local(MONDAY, 8, 45) not in slots
    # One second past 09:00, 09:00 is gone.
    assert offered(local(MONDAY, 9, 0, 1), hours=hours)[0] == local(MONDAY, 9, 15)


def test_no_notice_offers_a_start_at_exactly_now() -> None:
    assert offered(local(MONDAY, 9, 0), notice_hours=0)[0] == local(MONDAY, 9, 0)
    assert offered(local(MONDAY, 12, 10), notice_hours=0)[0] == local(MONDAY, 12, 15)


def test_notice_of_a_day_skips_today() -> None:
    slots = offered(local(MONDAY, 10, 0), notice_hours=24, horizon_days=3)
    assert slots[0] == local(MONDAY + timedelta(days=1), 10, 0)


def test_start_exactly_at_the_horizon_is_offered_and_later_not() -> None:
    slots = offered(local(MONDAY, 9, 0), horizon_days=7)
    assert slots[-1] == local(MONDAY + timedelta(days=7), 9, 0)
    earlier_now = offered(local(MONDAY, 8, 59), horizon_days=7)
    assert earlier_now[-1] == local(MONDAY + timedelta(days=6), 16, 30)


def test_horizon_counts_seconds_of_now() -> None:
    # now + 1 day = 09:00:30 tomorrow: 09:00 is inside; from 08:59:30, 09:00 is 30 s too late.
    tuesday = MONDAY + timedelta(days=1)
    assert offered(local(MONDAY, 9, 0, 30), horizon_days=1)[-1] == local(tuesday, 9, 0)
    assert offered(local(MONDAY, 8, 59, 30), horizon_days=1)[-1] == local(MONDAY, 16, 30)
    window = booking_window(local(MONDAY, 8, 59, 30), 0, 1)
    assert window.latest == to_minute(local(tuesday, 8, 59))


def test_notice_beyond_the_horizon_offers_nothing() -> None:
    assert offered(local(MONDAY, 8, 0), notice_hours=48, horizon_days=1) == []
    assert (
        provider_slots(
            hours=EVERY_DAY_9_TO_5,
            busy=[],
            tz=DENVER,
            duration=30,
            step=15,
            window=Window(100, 99),
        )
        == []
    )


@pytest.mark.parametrize(("duration", "step"), [(0, 15), (30, 0), (-5, 15)])
def test_nonsense_duration_or_step_offers_nothing(duration: int, step: int) -> None:
    now = local(MONDAY, 8, 0)
    starts = provider_slots(
        hours=EVERY_DAY_9_TO_5,
        busy=[],
        tz=DENVER,
        duration=duration,
        step=step,
        window=booking_window(now, 0, 7),
    )
    assert starts == []


@pytest.mark.parametrize(
    ("zone", "now_clock", "hours", "expected"),
    [
        # 20:00 in Los Angeles is already Tuesday in UTC.
        ("America/Los_Angeles", "20:00", (20, 22), ["Mon 20:00", "Mon 21:00", "Tue 20:00"]),
        # 06:00 in Auckland is still Sunday in UTC, and the horizon is Monday evening UTC.
        ("Pacific/Auckland", "06:00", (5, 7), ["Mon 06:00", "Tue 05:00", "Tue 06:00"]),
    ],
)
def test_window_edges_fall_on_local_days_far_from_utc(
    zone: str, now_clock: str, hours: tuple[int, int], expected: list[str]
) -> None:
    tz = ZoneInfo(zone)
    now = datetime.combine(MONDAY, time.fromisoformat(now_clock), tz)
    starts = provider_slots(
        hours=[HoursBlock(wd, hours[0] * 60, hours[1] * 60) for wd in range(7)],
        busy=[],
        tz=tz,
        duration=60,
        step=60,
        window=booking_window(now, 0, 1),
    )
    assert [from_minute(m).astimezone(tz).strftime("%a %H:%M") for m in starts] == expected


def test_first_and_last_day_restrict_the_days() -> None:
    wednesday, friday = MONDAY + timedelta(days=2), MONDAY + timedelta(days=4)
    slots = offered(local(MONDAY, 8, 0), horizon_days=14, first_day=wednesday, last_day=friday)
    assert sorted({s.date() for s in slots}) == [
        wednesday,
        wednesday + timedelta(days=1),
        friday,
    ]
    assert len(slots) == 3 * 31


def test_days_outside_the_window_stay_closed() -> None:
    # A first_day before now and a last_day past the horizon do not widen the window.
    now = local(MONDAY, 12, 0)
    slots = offered(
        now,
        horizon_days=2,
        first_day=MONDAY - timedelta(days=5),
        last_day=MONDAY + timedelta(days=10),
    )
    assert slots[0] == now
    assert slots[-1] == local(MONDAY + timedelta(days=2), 12, 0)


def test_single_day_window() -> None:
    tuesday = MONDAY + timedelta(days=1)
    slots = offered(local(MONDAY, 8, 0), horizon_days=7, first_day=tuesday, last_day=tuesday)
    assert {s.date() for s in slots} == {tuesday}
    assert len(slots) == 31
