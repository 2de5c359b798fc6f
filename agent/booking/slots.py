"""Which appointment start times may be offered: pure functions over plain values.

Times are whole minutes since the Unix epoch (UTC) so that the inner loops work on ints; the
practice's working hours are minutes of the local day, turned into UTC per date with
zoneinfo, which makes daylight-saving days come out right. DESIGN.md "Booking rules": a start
s for a type of duration d with provider P is offered iff [s, s+d) lies inside one of P's
working blocks that day, overlaps none of P's busy intervals (appointments, time off), s is
on the rounding grid in local time, and earliest <= s <= latest.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from agent.store.base import HoursBlock

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class Window:
    """Bounds on a slot's start (epoch minutes, both inclusive): notice and horizon."""

    earliest: int
    latest: int


def to_minute(moment: datetime) -> int:
    """An aware datetime as whole epoch minutes (rounded down)."""
    return math.floor(moment.timestamp() / 60)


def from_minute(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, tz=UTC)


def booking_window(now: datetime, min_notice_hours: int, horizon_days: int) -> Window:
    """earliest = now + notice (rounded up to a minute), latest = now + horizon."""
    now_seconds = now.timestamp()
    earliest = math.ceil((now_seconds + min_notice_hours * 3600) / 60)
    latest = math.floor((now_seconds + horizon_days * 86400) / 60)
    return Window(earliest, latest)


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort and merge [start, end) intervals; empty ones are dropped."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _local_to_minute(day: date, minute_of_day: int, tz: ZoneInfo) -> tuple[int, int]:
    """(epoch minute, UTC offset in minutes) of a local wall time; fold=0 for ambiguous and
    nonexistent times, i.e. the first occurrence / the offset before the transition."""
    local = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=minute_of_day)
    # `+ timedelta` keeps the wall time, so DST days need the offset looked up anew.
    local = local.replace(tzinfo=tz)
    offset = local.utcoffset()
    assert offset is not None
    offset_minutes = int(offset.total_seconds()) // 60
    naive_minutes = (local.replace(tzinfo=None) - datetime(1970, 1, 1)) // timedelta(minutes=1)
    return naive_minutes - offset_minutes, offset_minutes


def _wall_time_exists(day: date, minute_of_day: int, tz: ZoneInfo) -> bool:
    local = datetime(day.year, day.month, day.day) + timedelta(minutes=minute_of_day)
    aware = local.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local


def provider_slots(
    *,
    hours: Sequence[HoursBlock],
    busy: Sequence[tuple[int, int]],
    tz: ZoneInfo,
    duration: int,
    step: int,
    window: Window,
    first_day: date | None = None,
    last_day: date | None = None,
) -> list[int]:
    """Offered starts (epoch minutes, ascending) for one provider and one appointment type.

    `hours` may mix weekly blocks and blocks dated for one local day (``HoursBlock.on``).
    `busy` must come from merge_intervals. `duration` and `step` are in minutes. Days are
    local dates; they default to the whole window.
    """
    if duration <= 0 or step <= 0 or window.earliest > window.latest:
        return []
    by_weekday: list[list[HoursBlock]] = [[] for _ in range(7)]
    by_date: dict[date, list[HoursBlock]] = {}
    for block in hours:
        if 0 <= block.start < block.end <= MINUTES_PER_DAY:
            if block.on is None:
                by_weekday[block.weekday].append(block)
            else:
                by_date.setdefault(block.on, []).append(block)
    for blocks in by_weekday:
        blocks.sort(key=lambda b: b.start)
    day = from_minute(window.earliest).astimezone(tz).date()
    end_day = from_minute(window.latest).astimezone(tz).date()
    if first_day is not None and first_day > day:
        day = first_day
    if last_day is not None and last_day < end_day:
        end_day = last_day
    busy_starts = [b[0] for b in busy]
    busy_ends = [b[1] for b in busy]
    out: list[int] = []
    several = False  # a day with more than one block: they may overlap
    one_day = timedelta(days=1)
    while day <= end_day:
        blocks = by_weekday[day.weekday()]
        dated = by_date.get(day)
        if dated:
            blocks = sorted([*blocks, *dated], key=lambda b: b.start)
        several = several or len(blocks) > 1
        for block in blocks:
            start, start_offset = _local_to_minute(day, block.start, tz)
            end, end_offset = _local_to_minute(day, block.end, tz)
            if (
                start_offset == end_offset
                and _wall_time_exists(day, block.start, tz)
                and _wall_time_exists(day, block.end, tz)
            ):
                _block_slots(
                    out, start, end, start_offset, duration, step, window, busy_starts, busy_ends
                )
            else:
                _transition_block_slots(
                    out, day, block, end, tz, duration, step, window, busy_starts, busy_ends
                )
        day += one_day
    if several:
        # Overlapping blocks (nothing in provider_hours forbids them) would offer a time twice.
        return sorted(set(out))
    return out


def _block_slots(
    out: list[int],
    block_start: int,
    block_end: int,
    offset: int,
    duration: int,
    step: int,
    window: Window,
    busy_starts: list[int],
    busy_ends: list[int],
) -> None:
    """The usual case: one UTC offset all block long, so the free gaps between busy
    intervals are filled with grid points by range() rather than checked one by one."""
    cursor = max(block_start, window.earliest)
    last_start = min(block_end - duration, window.latest)
    index = bisect_right(busy_ends, cursor)  # first busy interval still running at cursor
    count = len(busy_starts)
    while cursor <= last_start:
        if index < count and busy_starts[index] < last_start + duration:
            gap_last = min(busy_starts[index] - duration, last_start)
            next_cursor = busy_ends[index]
            index += 1
        else:
            gap_last = last_start
            next_cursor = last_start + 1
        if gap_last >= cursor:
            first = cursor + (-(cursor + offset)) % step  # next start on the local grid
            out.extend(range(first, gap_last + 1, step))
        cursor = max(cursor, next_cursor)


def _transition_block_slots(
    out: list[int],
    day: date,
    block: HoursBlock,
    block_end: int,
    tz: ZoneInfo,
    duration: int,
    step: int,
    window: Window,
    busy_starts: list[int],
    busy_ends: list[int],
) -> None:
    """A block that a daylight-saving change runs through: walk the local grid one wall time
    at a time. Wall times that do not exist (spring forward) are skipped; wall times that
    occur twice (fall back) are offered once, at their first occurrence."""
    first = block.start + (-block.start) % step
    for minute_of_day in range(first, block.end, step):
        if not _wall_time_exists(day, minute_of_day, tz):
            continue
        start, _ = _local_to_minute(day, minute_of_day, tz)
        if not window.earliest <= start <= window.latest or start + duration > block_end:
            continue
        index = bisect_right(busy_ends, start)
        if index < len(busy_starts) and busy_starts[index] < start + duration:
            continue
        out.append(start)


def choose_provider(candidates: Sequence[tuple[int, int]]) -> int:
    """ "No preference": among (provider_id, appointments that local day) free at the chosen
    time, the one with the fewest appointments that day, then the lowest id."""
    if not candidates:
        raise ValueError("no candidate provider")
    return min(candidates, key=lambda c: (c[1], c[0]))[0]
