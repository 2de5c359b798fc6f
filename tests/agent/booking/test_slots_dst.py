"""Daylight-saving days: no slot at a wall time that does not exist, none offered twice, none
lost, and real (elapsed) durations that fit the block. Policy (slots.py): nonexistent wall
times are skipped, an ambiguous one is offered once at its first occurrence (fold=0), and the
block ends at its end wall time taken at fold=0."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.booking.slots import Window, from_minute, provider_slots, to_minute
from agent.store.base import HoursBlock

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
SPRING_NY, FALL_NY = date(2026, 3, 8), date(2026, 11, 1)  # Sundays
SPRING_LONDON, FALL_LONDON = date(2026, 3, 29), date(2026, 10, 25)
SPRING_LORD_HOWE = date(2026, 10, 4)  # 02:00 -> 02:30
SUNDAY = 6


def hm(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:])


def wall(day: date, minute_of_day: int, tz: ZoneInfo) -> datetime:
    """A wall time at fold=0 (for 24:00, midnight of the next day)."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minute_of_day)
    return naive.replace(tzinfo=tz)


def offered(
    block: HoursBlock,
    day: date,
    tz: ZoneInfo,
    *,
    duration: int,
    step: int,
    busy: list[tuple[int, int]] | None = None,
    window: Window | None = None,
) -> list[int]:
    if window is None:  # several days around `day`; the day itself is chosen below
        window = Window(
            to_minute(wall(day - timedelta(days=2), 0, tz)),
            to_minute(wall(day + timedelta(days=2), 0, tz)),
        )
    return provider_slots(
        hours=[block],
        busy=busy or [],
        tz=tz,
        duration=duration,
        step=step,
        window=window,
        first_day=day,
        last_day=day,
    )


def clock(starts: list[int], tz: ZoneInfo) -> list[str]:
    return [from_minute(m).astimezone(tz).strftime("%H:%M") for m in starts]


def offsets(starts: list[int], tz: ZoneInfo) -> list[str]:
    return [from_minute(m).astimezone(tz).strftime("%H:%M%z") for m in starts]


def grid(first: str, last: str, step: int) -> list[str]:
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(hm(first), hm(last) + 1, step)]


def test_spring_forward_skips_the_missing_hour() -> None:
    block = HoursBlock(SUNDAY, 0, hm("06:00"))
    starts = offered(block, SPRING_NY, NEW_YORK, duration=30, step=15)
    times = clock(starts, NEW_YORK)
    assert not [t for t in times if t.startswith("02:")]
    assert times == grid("00:00", "01:45", 15) + grid("03:00", "05:30", 15)
    assert len(set(starts)) == len(starts) == 19
    assert starts == sorted(starts)
    block_start = to_minute(wall(SPRING_NY, 0, NEW_YORK))
    block_end = to_minute(wall(SPRING_NY, hm("06:00"), NEW_YORK))
    assert block_end - block_start == 5 * 60  # the day's 00:00-06:00 lasts five real hours
    for start in starts:
        assert block_start <= start and start + 30 <= block_end


def test_spring_forward_appointment_across_the_gap_lasts_its_real_duration() -> None:
    # A 60-minute visit at 01:30 EST ends at 03:30 EDT: 60 elapsed minutes, not 120.
    block = HoursBlock(SUNDAY, hm("01:00"), hm("04:00"))
    starts = offered(block, SPRING_NY, NEW_YORK, duration=60, step=30)
    assert offsets(starts, NEW_YORK) == [
        "01:00-0500",
        "01:30-0500",
        "03:00-0400",
    ]
    end_of_block = to_minute(wall(SPRING_NY, hm("04:00"), NEW_YORK))
    assert starts[-1] + 60 == end_of_block
    assert from_minute(starts[1] + 60).astimezone(NEW_YORK).strftime("%H:%M") == "03:30"


def test_spring_forward_appointment_after_the_gap_blocks_what_runs_into_it() -> None:
    busy = [
        (
            to_minute(wall(SPRING_NY, hm("03:00"), NEW_YORK)),
            to_minute(wall(SPRING_NY, hm("03:30"), NEW_YORK)),
        )
    ]
    block = HoursBlock(SUNDAY, 0, hm("06:00"))
    times = clock(offered(block, SPRING_NY, NEW_YORK, duration=30, step=15, busy=busy), NEW_YORK)
    assert "01:30" in times  # 01:30 EST + 30 min = 03:00 EDT, when the appointment starts
    assert "01:45" not in times  # would run until 03:15 EDT
    assert "03:00" not in times and "03:15" not in times
    assert "03:30" in times


def test_notice_and_horizon_on_a_transition_day() -> None:
    block = HoursBlock(SUNDAY, 0, hm("06:00"))
    # now 03:10 EDT, no notice: the day's first start is 03:15.
    now = to_minute(datetime.combine(SPRING_NY, time(3, 10), NEW_YORK))
    starts = offered(
        block, SPRING_NY, NEW_YORK, duration=30, step=15, window=Window(now, now + 1440)
    )
    assert clock(starts, NEW_YORK)[0] == "03:15"
    # Horizon reached at 01:20 EST, before the gap: the day's last start is 01:15.
    latest = to_minute(datetime.combine(SPRING_NY, time(1, 20), NEW_YORK))
    starts = offered(
        block, SPRING_NY, NEW_YORK, duration=30, step=15, window=Window(latest - 1440, latest)
    )
    assert clock(starts, NEW_YORK) == grid("00:00", "01:15", 15)


def test_fall_back_offers_each_wall_time_once() -> None:
    block = HoursBlock(SUNDAY, 0, hm("04:00"))
    starts = offered(block, FALL_NY, NEW_YORK, duration=30, step=30)
    times = clock(starts, NEW_YORK)
    assert [t for t, n in Counter(times).items() if n > 1] == []
    # Nothing outside the repeated hour is lost, and the repeated one is offered once.
    assert times == grid("00:00", "03:30", 30)
    # ... at its first occurrence (daylight time).
    assert offsets(starts, NEW_YORK)[2:4] == ["01:00-0400", "01:30-0400"]
    assert starts == sorted(starts)
    block_end = to_minute(wall(FALL_NY, hm("04:00"), NEW_YORK))
    assert all(start + 30 <= block_end for start in starts)


def test_fall_back_block_inside_the_repeated_hour() -> None:
    block = HoursBlock(SUNDAY, hm("01:00"), hm("02:00"))
    starts = offered(block, FALL_NY, NEW_YORK, duration=15, step=15)
    assert offsets(starts, NEW_YORK) == [
        "01:00-0400",
        "01:15-0400",
        "01:30-0400",
        "01:45-0400",
    ]


@pytest.mark.parametrize("monday", [date(2026, 3, 9), date(2026, 11, 2)])
def test_ordinary_days_next_to_a_transition_have_the_usual_slots(monday: date) -> None:
    hours = [HoursBlock(wd, hm("09:00"), hm("17:00")) for wd in range(7)]
    # The whole week around the transition, Monday before to Monday after.
    days = [monday - timedelta(days=7) + timedelta(days=n) for n in range(8)]
    window = Window(
        to_minute(wall(days[0], 0, NEW_YORK)), to_minute(wall(days[-1], 24 * 60, NEW_YORK))
    )
    starts = provider_slots(hours=hours, busy=[], tz=NEW_YORK, duration=30, step=15, window=window)
    by_day: dict[date, list[str]] = {}
    for m in starts:
        local = from_minute(m).astimezone(NEW_YORK)
        by_day.setdefault(local.date(), []).append(local.strftime("%H:%M"))
    assert sorted(by_day) == days
    for day in days:
        assert by_day[day] == grid("09:00", "16:30", 15), day
        assert len(by_day[day]) == 31


def test_london_spring_forward_block_across_one_oclock() -> None:
    block = HoursBlock(SUNDAY, hm("00:00"), hm("03:00"))
    starts = offered(block, SPRING_LONDON, LONDON, duration=30, step=30)
    assert offsets(starts, LONDON) == [
        "00:00+0000",
        "00:30+0000",
        "02:00+0100",
        "02:30+0100",
    ]
    # 00:00 GMT to 03:00 BST is two real hours.
    assert to_minute(wall(SPRING_LONDON, hm("03:00"), LONDON)) - starts[0] == 120


def test_london_fall_back_block_across_one_oclock() -> None:
    block = HoursBlock(SUNDAY, hm("00:00"), hm("03:00"))
    starts = offered(block, FALL_LONDON, LONDON, duration=30, step=30)
    assert offsets(starts, LONDON) == [
        "00:00+0100",
        "00:30+0100",
        "01:00+0100",
        "01:30+0100",
        "02:00+0000",
        "02:30+0000",
    ]
    assert len(set(starts)) == len(starts)


@pytest.mark.parametrize(("day", "first_utc_hour"), [(SPRING_LONDON, 8), (FALL_LONDON, 9)])
def test_london_transition_days_keep_ordinary_hours(day: date, first_utc_hour: int) -> None:
    # 09:00-17:00 on the Sunday of a change is untouched by it: BST after the spring change,
    # GMT after the autumn one.
    block = HoursBlock(SUNDAY, hm("09:00"), hm("17:00"))
    starts = offered(block, day, LONDON, duration=60, step=60)
    assert clock(starts, LONDON) == grid("09:00", "16:00", 60)
    utc_hours = [from_minute(m).astimezone(UTC).hour for m in starts]
    assert utc_hours == list(range(first_utc_hour, first_utc_hour + 8))


def test_block_ending_inside_the_spring_gap_offers_nothing_after_its_end() -> None:
    # Hours "until 02:30" on the day 02:00-02:59 does not exist: by the office's clock a start
    # at 03:00 or 03:15 is after closing, and for a short type the block should offer exactly
    # what "until 03:00" offers (the wall times 02:00-02:59 are skipped either way).
    until_0230 = offered(
        HoursBlock(SUNDAY, 0, hm("02:30")), SPRING_NY, NEW_YORK, duration=15, step=15
    )
    until_0300 = offered(
        HoursBlock(SUNDAY, 0, hm("03:00")), SPRING_NY, NEW_YORK, duration=15, step=15
    )
    assert clock(until_0300, NEW_YORK) == grid("00:00", "01:45", 15)
    assert [t for t in clock(until_0230, NEW_YORK) if t >= "02:30"] == []
    assert until_0230 == until_0300


def test_thirty_minute_shift_keeps_starts_on_the_local_grid() -> None:
    # Lord Howe Island moves its clocks by 30 minutes: 02:00 -> 02:30 on 2026-10-04. With an
    # hourly grid, 02:30 is never a valid start, whatever the block.
    block = HoursBlock(SUNDAY, hm("01:00"), hm("02:15"))
    starts = offered(block, SPRING_LORD_HOWE, LORD_HOWE, duration=10, step=60)
    assert clock(starts, LORD_HOWE) == ["01:00"]


@pytest.mark.parametrize("step", [15, 30, 60])
def test_thirty_minute_shift_day_with_ordinary_block(step: int) -> None:
    block = HoursBlock(SUNDAY, hm("00:00"), hm("04:00"))
    starts = offered(block, SPRING_LORD_HOWE, LORD_HOWE, duration=30, step=step)
    times = clock(starts, LORD_HOWE)
    assert all(hm(t) % step == 0 for t in times)
    assert not [t for t in times if "02:00" <= t < "02:30"]
    expected = [t for t in grid("00:00", "03:30", step) if not "02:00" <= t < "02:30"]
    assert times == expected
