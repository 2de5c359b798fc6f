"""Slot labels computed by arithmetic agree with datetime, DST changes included."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from agent.booking.reads import _SlotLabels
from agent.booking.slots import from_minute, to_minute

ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Asia/Kathmandu",  # +05:45
    "America/St_Johns",  # -03:30 with DST
    "Pacific/Chatham",  # +12:45 with DST
    "UTC",
]


@pytest.mark.parametrize("zone", ZONES)
def test_every_minute_of_2026_on_a_five_minute_step(zone: str) -> None:
    tz = ZoneInfo(zone)
    labels = _SlotLabels(tz)
    start = to_minute(datetime(2026, 1, 1, tzinfo=UTC))
    end = to_minute(datetime(2027, 1, 1, tzinfo=UTC))
    for minute in range(start, end, 5):
        local = from_minute(minute).astimezone(tz)
        assert labels.local(minute) == (local.date().isoformat(), local.strftime("%H:%M"))
        assert labels.utc(minute) == from_minute(minute).strftime("%Y-%m-%dT%H:%M:%SZ")
