"""Working hours dated for one local day (HoursBlock.on): a store whose schedule is calendar
events rather than a weekly pattern gives its hours that way, and the one slot function
treats them like weekly ones on that day only, daylight-saving days included."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.booking.slots import Window, from_minute, provider_slots, to_minute
from agent.store.base import HoursBlock

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2026, 6, 1)
TUESDAY = date(2026, 6, 2)


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def offered(hours: list[HoursBlock], first: date, last: date) -> list[str]:
    start = datetime.combine(first, time(), NEW_YORK)
    end = datetime.combine(last + timedelta(days=1), time(), NEW_YORK)
    starts = provider_slots(
        hours=hours,
        busy=[],
        tz=NEW_YORK,
        duration=30,
        step=30,
        window=Window(to_minute(start), to_minute(end)),
    )
    return [from_minute(m).astimezone(NEW_YORK).strftime("%a %H:%M") for m in starts]


def test_a_dated_block_opens_only_its_own_day() -> None:
    # Weekday 0 (Monday) on the block must not make every Monday a working day.
    block = HoursBlock(TUESDAY.weekday(), hm("09:00"), hm("10:30"), on=TUESDAY)
    assert offered([block], MONDAY, TUESDAY + timedelta(days=7)) == [
        "Tue 09:00",
        "Tue 09:30",
        "Tue 10:00",
    ]


def test_dated_and_weekly_blocks_on_one_day_offer_each_start_once() -> None:
    weekly = HoursBlock(MONDAY.weekday(), hm("09:00"), hm("10:00"))
    extra = HoursBlock(MONDAY.weekday(), hm("09:30"), hm("11:00"), on=MONDAY)
    assert offered([weekly, extra], MONDAY, MONDAY) == [
        "Mon 09:00",
        "Mon 09:30",
        "Mon 10:00",
        "Mon 10:30",
    ]


def test_a_dated_block_on_the_spring_forward_day_skips_the_missing_hour() -> None:
    spring = date(2026, 3, 8)  # 02:00 -> 03:00 in New York
    block = HoursBlock(spring.weekday(), hm("01:00"), hm("04:00"), on=spring)
    assert offered([block], spring, spring) == [
        "Sun 01:00",
        "Sun 01:30",
        "Sun 03:00",
        "Sun 03:30",
    ]
