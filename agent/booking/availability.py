"""Availability as a patient is shown it: the providers' free starts, merged for "No
preference", grouped by local day and labelled. Pure: plain values in, the answer's ``days``
out; reads.py fetches the rows and slots.py decides which starts a provider offers.

Providers with the same working hours are taken together: a start is offered by one of them
iff the hours allow it and it is not blocked for all of them (slots.common_blocked), so the
cost follows the free gaps and the days shown rather than providers x grid points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agent.booking.slots import (
    Window,
    blocked_starts,
    common_blocked,
    free_ranges,
    from_minute,
    open_starts,
)
from agent.store.base import HoursBlock, Interval

DAY_MINUTES = 24 * 60
# "HH:MM" of every minute of a day: a slot's labels are table lookups, not formatting.
_QUARTERS_A_DAY = DAY_MINUTES // 15
_CHANGES = -(1 << 30)  # no one offset all UTC day: look it up by quarter hour
_CLOCK = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(DAY_MINUTES))


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
    # The same starts as provider_slots gives each provider, merged: see the module docstring.
    groups: dict[tuple[HoursBlock, ...], list[list[Interval]]] = {}
    for pid in providers:
        blocks = hours.get(pid)
        if blocks:
            spans = busy.get(pid, ())
            blocked = blocked_starts([*spans, *own] if own else spans, duration)
            groups.setdefault(tuple(sorted(blocks, key=_block_order)), []).append(blocked)
    minutes: list[int] = []
    sources = 0
    for blocks_of_group, blocked_lists in groups.items():
        starts, overlapping = open_starts(
            blocks_of_group, tz, duration, step, window, first_day, last_day
        )
        if starts:
            sources += 2 if overlapping else 1
            for free in free_ranges(starts, common_blocked(blocked_lists)):
                minutes.extend(free)
    if sources > 1:  # starts from several groups (or overlapping blocks) interleave
        minutes = sorted(set(minutes))
    return _by_day(minutes, SlotLabels(tz), provider_id)


def _block_order(block: HoursBlock) -> tuple[int, int, int, date]:
    return (block.weekday, block.start, block.end, block.on or date.min)


def _by_day(
    minutes: Sequence[int], label: SlotLabels, provider_id: int | None
) -> list[dict[str, Any]]:
    by_day: dict[int, list[dict[str, Any]]] = {}
    slots: list[dict[str, Any]] = []
    local_day = utc_day = -1
    utc_date = ""
    day_offset = _CHANGES
    clock = _CLOCK
    for minute in minutes:
        if minute // DAY_MINUTES != utc_day:  # per UTC day, not per slot
            utc_day = minute // DAY_MINUTES
            utc_date = label.day(utc_day)
            day_offset = label.day_offset(utc_day)
        local = minute + (day_offset if day_offset != _CHANGES else label.offset(minute))
        if local // DAY_MINUTES != local_day:
            local_day = local // DAY_MINUTES
            slots = by_day.setdefault(local_day, [])
        start = f"{utc_date}T{clock[minute % DAY_MINUTES]}:00Z"
        if provider_id is None:
            slots.append({"start": start, "local_time": clock[local % DAY_MINUTES]})
        else:
            slots.append(
                {
                    "start": start,
                    "local_time": clock[local % DAY_MINUTES],
                    "provider_id": provider_id,
                }
            )
    return [{"date": label.day(number), "slots": slots} for number, slots in by_day.items()]


class SlotLabels:
    """Formats many slot times fast: the UTC offset is looked up twice per day (per quarter
    hour on a day it changes) and date strings once per day, the rest is arithmetic and
    tables (a page of availability holds hundreds of slots; datetime + strftime per slot was
    a large share of answering it)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._offsets: dict[int, int] = {}
        self._whole_days: dict[int, int] = {}
        self._days: dict[int, str] = {}

    def day(self, day_number: int) -> str:
        """The ISO date of a day counted from 1970-01-01."""
        text = self._days.get(day_number)
        if text is None:
            text = self._days[day_number] = (
                date(1970, 1, 1) + timedelta(days=day_number)
            ).isoformat()
        return text

    def offset(self, minute: int) -> int:
        """The zone's UTC offset at an epoch minute, in minutes."""
        offset = self.day_offset(minute // DAY_MINUTES)
        return offset if offset != _CHANGES else self._quarter(minute // 15)

    def day_offset(self, day: int) -> int:
        """The offset all UTC day `day` long, or _CHANGES if it changes that day."""
        offset = self._whole_days.get(day)
        if offset is None:
            # A UTC day that starts and ends on one offset has it all day long (zones change
            # offset at most once a day, the assumption slots.py makes for a block as well):
            # two lookups a day rather than one per slot.
            first = self._quarter(day * _QUARTERS_A_DAY)
            last = self._quarter(day * _QUARTERS_A_DAY + _QUARTERS_A_DAY - 1)
            offset = self._whole_days[day] = first if first == last else _CHANGES
        return offset

    def _quarter(self, quarter: int) -> int:
        # Offsets change only at quarter hours of UTC (every zone's transitions do), so a
        # quarter-hour bucket is exact.
        offset = self._offsets.get(quarter)
        if offset is None:
            shift = from_minute(quarter * 15).astimezone(self.tz).utcoffset()
            offset = self._offsets[quarter] = int(shift.total_seconds()) // 60 if shift else 0
        return offset

    def local(self, minute: int) -> tuple[str, str]:
        local = minute + self.offset(minute)
        return self.day(local // DAY_MINUTES), _CLOCK[local % DAY_MINUTES]

    def utc(self, minute: int) -> str:
        return f"{self.day(minute // DAY_MINUTES)}T{_CLOCK[minute % DAY_MINUTES]}:00Z"
