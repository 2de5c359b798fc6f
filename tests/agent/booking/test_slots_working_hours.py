"""Slots lie inside the provider's working blocks, on the right local weekday."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.booking.slots import Window, from_minute, provider_slots, to_minute
from agent.store.base import HoursBlock

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 6, 1)  # no daylight-saving change anywhere near


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def whole_days(first: date, last: date, tz: ZoneInfo) -> Window:
    """A window that does not cut into any of the local days first..last."""
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last + timedelta(days=1), time(), tz)
    return Window(to_minute(start), to_minute(end))


def offered(
    hours: list[HoursBlock],
    *,
    tz: ZoneInfo = BERLIN,
    first: date = MONDAY,
    last: date = MONDAY,
    duration: int = 30,
    step: int = 15,
) -> list[datetime]:
    starts = provider_slots(
        hours=hours,
        busy=[],
        tz=tz,
        duration=duration,
        step=step,
        window=whole_days(first, last, tz),
    )
    return [from_minute(m).astimezone(tz) for m in starts]


def clock(slots: list[datetime]) -> list[str]:
    return [s.strftime("%H:%M") for s in slots]


def test_every_slot_lies_inside_the_working_block() -> None:
    slots = offered([HoursBlock(0, hm("09:00"), hm("17:00"))], duration=30, step=15)
    assert slots, "a Monday with hours offers slots"
    for start in slots:
        end = start + timedelta(minutes=30)
        assert start.date() == MONDAY
        assert start.time() >= time(9, 0)
        assert end.date() == MONDAY and end.time() <= time(17, 0)
    assert clock(slots)[0] == "09:00"
    assert clock(slots)[-1] == "16:30"
    assert len(slots) == 31


def test_split_day_has_no_slot_across_lunch() -> None:
    hours = [HoursBlock(0, hm("08:00"), hm("12:00")), HoursBlock(0, hm("13:00"), hm("17:00"))]
    times = clock(offered(hours, duration=60, step=15))
    assert "11:00" in times  # ends exactly when lunch starts
    for crossing in ("11:15", "11:30", "11:45", "12:00", "12:15", "12:30", "12:45"):
        assert crossing not in times
    assert "13:00" in times  # starts exactly when lunch ends
    assert times[0] == "08:00"
    assert times[-1] == "16:00"
    assert len(times) == 13 + 13


def test_sixty_minute_type_does_not_start_half_an_hour_before_closing() -> None:
    block = [HoursBlock(0, hm("09:00"), hm("17:00"))]
    sixty = clock(offered(block, duration=60, step=30))
    assert "16:30" not in sixty
    assert sixty[-1] == "16:00"
    thirty = clock(offered(block, duration=30, step=30))
    assert thirty[-1] == "16:30"


def test_block_ending_off_grid_keeps_the_whole_visit_inside() -> None:
    # Until 16:59: a 30-minute visit at 16:30 would run one minute past closing.
    times = clock(offered([HoursBlock(0, hm("09:00"), hm("16:59"))], duration=30, step=15))
    assert times[-1] == "16:15"


def test_blocks_listed_out_of_order_still_give_ascending_times() -> None:
    hours = [HoursBlock(0, hm("14:00"), hm("16:00")), HoursBlock(0, hm("09:00"), hm("11:00"))]
    times = clock(offered(hours, duration=60, step=60))
    assert times == ["09:00", "10:00", "14:00", "15:00"]


def test_block_until_midnight_offers_its_last_hour() -> None:
    slots = offered([HoursBlock(0, hm("22:00"), 24 * 60)], duration=60, step=60)
    assert [(s.date(), s.strftime("%H:%M")) for s in slots] == [
        (MONDAY, "22:00"),
        (MONDAY, "23:00"),
    ]


def test_days_without_hours_offer_nothing() -> None:
    hours = [HoursBlock(0, hm("09:00"), hm("12:00")), HoursBlock(3, hm("14:00"), hm("16:00"))]
    week = offered(hours, first=MONDAY, last=MONDAY + timedelta(days=6), duration=60, step=60)
    per_day = Counter(s.date() for s in week)
    assert per_day == {MONDAY: 3, MONDAY + timedelta(days=3): 2}


def test_no_hours_at_all_offer_nothing() -> None:
    assert offered([], last=MONDAY + timedelta(days=13)) == []


@pytest.mark.parametrize(
    "zone",
    ["Pacific/Auckland", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago"],
)
@pytest.mark.parametrize(
    ("start", "end"), [("07:00", "09:00"), ("12:00", "14:00"), ("21:00", "23:00")]
)
def test_weekday_zero_is_monday_in_the_practice_zone(zone: str, start: str, end: str) -> None:
    # Far from UTC the UTC date differs from the local one for part of the day: mapping the
    # weekday (or the window's days) through UTC would move these hours to Sunday or Tuesday.
    tz = ZoneInfo(zone)
    sunday, tuesday = MONDAY - timedelta(days=1), MONDAY + timedelta(days=1)
    slots = offered(
        [HoursBlock(0, hm(start), hm(end))], tz=tz, first=sunday, last=tuesday, step=60, duration=60
    )
    assert [(s.date(), s.strftime("%a %H:%M")) for s in slots] == [
        (MONDAY, f"Mon {start}"),
        (MONDAY, f"Mon {(datetime.strptime(start, '%H:%M') + timedelta(hours=1)):%H:%M}"),
    ]


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/Los_Angeles"])
def test_each_weekday_lands_on_its_own_local_day(zone: str) -> None:
    tz = ZoneInfo(zone)
    # Monday 09:00, Tuesday 10:00, ... Sunday 15:00: a one-hour block each.
    hours = [HoursBlock(wd, hm("09:00") + 60 * wd, hm("10:00") + 60 * wd) for wd in range(7)]
    slots = offered(
        hours, tz=tz, first=MONDAY, last=MONDAY + timedelta(days=6), step=60, duration=60
    )
    assert [s.strftime("%a %H:%M") for s in slots] == [
        "Mon 09:00",
        "Tue 10:00",
        "Wed 11:00",
        "Thu 12:00",
        "Fri 13:00",
        "Sat 14:00",
        "Sun 15:00",
    ]


def test_overlapping_blocks_offer_each_time_once_in_order() -> None:
    # provider_hours has no constraint against overlapping rows (e.g. 09:00-12:00 entered
    # alongside 11:00-13:00); the patient must still see each time once, in order.
    hours = [HoursBlock(0, hm("09:00"), hm("12:00")), HoursBlock(0, hm("11:00"), hm("13:00"))]
    times = clock(offered(hours, duration=60, step=60))
    assert times == ["09:00", "10:00", "11:00", "12:00"]
