"""What the booking pages ask of availability: the time page asks for its one day
(`days=1, from_date=D`, proxy/views/booking_steps.py) and is answered with that day alone,
the same slots the day list's 14-day answer holds for D. Both practice systems."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.agent.booking.test_booking_changes import _book, _provider
from tests.support.practice import RunningPractice, SmallPractice, running_practice

FIRST = date(2026, 11, 24)  # the day after the practice's "now" (Monday 23 November)


async def _availability(
    practice: RunningPractice, provider: str | None, first: date, days: int
) -> Any:
    return await practice.call(
        "booking.availability",
        patient=practice.ids.patient(1),
        appointment_type_id=practice.ids.FOLLOW_UP,
        provider_id=_provider(practice, provider),
        from_date=first.isoformat(),
        days=days,
    )


async def test_the_time_page_gets_its_day_only_and_the_same_slots_as_the_list(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        await _book(practice, "2026-11-25T15:00:00Z", patient=2, provider="adams")
        for provider in ("adams", None):
            listed = await _availability(practice, provider, FIRST, 14)
            by_date = {d["date"]: d["slots"] for d in listed["days"]}
            assert len(by_date) >= 5  # a fortnight of weekdays has free times to compare
            for n in range(14):
                day = FIRST + timedelta(days=n)
                one = await _availability(practice, provider, day, 1)
                assert (one["first_day"], one["last_day"]) == (day.isoformat(),) * 2
                want = by_date.get(day.isoformat())
                assert one["days"] == ([{"date": day.isoformat(), "slots": want}] if want else [])
