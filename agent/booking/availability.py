"""Availability as a patient is shown it: the providers' free starts, merged for "No
preference", grouped by local day and labelled. Pure: plain values in, the answer's ``days``
out; reads.py fetches the rows and slots.py decides which starts a provider offers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agent.booking.slots import Window, from_minute, merge_intervals, provider_slots
from agent.store.base import HoursBlock, Interval

DAY_MINUTES = 24 * 60


def free_days(
    *,
    providers: Sequence[int],
    hours: Mapping[int, Sequence[HoursBlock]],
    busy: Mapping[int, Sequence[Interval]],
    own: Sequence[Interval],
    tz: ZoneInfo,
    duration: int,
    step: int,
    window: Window,
    first_day: date,
    last_day: date,
    provider_id: int | None,
) -> list[dict[str, Any]]:
    """The answer's ``days``: each local day from first_day to last_day that has a free start,
    with its slots in time order. `busy` is each provider's time as the store gives it
    (unmerged); `own` is the patient's own booked time, which no provider may be offered at.
    A slot names the provider only when one was chosen (`provider_id`)."""
    free: dict[int, list[int]] = {}
    for pid in providers:
        spans = busy.get(pid, [])
        merged = merge_intervals([*spans, *own] if own else spans)
        for minute in provider_slots(
            hours=hours.get(pid, []),
            busy=merged,
            tz=tz,
            duration=duration,
            step=step,
            window=window,
            first_day=first_day,
            last_day=last_day,
        ):
            free.setdefault(minute, []).append(pid)
    by_day: dict[str, list[dict[str, Any]]] = {}
    label = SlotLabels(tz)
    for minute in sorted(free):
        local_day, local_time = label.local(minute)
        slot: dict[str, Any] = {"start": label.utc(minute), "local_time": local_time}
        if provider_id is not None:
            slot["provider_id"] = provider_id
        by_day.setdefault(local_day, []).append(slot)
    return [{"date": d, "slots": s} for d, s in by_day.items()]


class SlotLabels:
    """Formats many slot times fast: the UTC offset is looked up once per quarter hour and date
    strings once per day, the rest is integer arithmetic (a page of availability holds
    hundreds of slots; datetime + strftime per slot was a large share of answering it)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._offsets: dict[int, int] = {}
        self._days: dict[int, str] = {}

    def _day(self, day_number: int) -> str:
        text = self._days.get(day_number)
        if text is None:
            text = self._days[day_number] = (
                date(1970, 1, 1) + timedelta(days=day_number)
            ).isoformat()
        return text

    def local(self, minute: int) -> tuple[str, str]:
        # Offsets change only at quarter hours of UTC (every zone's transitions do), so a
        # quarter-hour bucket is exact.
        quarter = minute // 15
        offset = self._offsets.get(quarter)
        if offset is None:
            shift = from_minute(quarter * 15).astimezone(self.tz).utcoffset()
            offset = self._offsets[quarter] = int(shift.total_seconds()) // 60 if shift else 0
        local = minute + offset
        within = local % DAY_MINUTES
        return self._day(local // DAY_MINUTES), f"{within // 60:02d}:{within % 60:02d}"

    def utc(self, minute: int) -> str:
        within = minute % DAY_MINUTES
        return f"{self._day(minute // DAY_MINUTES)}T{within // 60:02d}:{within % 60:02d}:00Z"
