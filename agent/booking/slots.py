"""Which appointment start times may be offered: pure functions over plain values.

Times are whole minutes since the Unix epoch (UTC) so that the inner loops work on ints; the
practice's working hours are minutes of the local day, turned into UTC per date with
zoneinfo, which makes daylight-saving days come out right. DESIGN.md "Booking rules": a start
s for a type of duration d with provider P is offered iff [s, s+d) lies inside one of P's
working blocks that day, overlaps none of P's busy intervals (appointments, time off), s is
on the rounding grid in local time, and earliest <= s <= latest.

How, so that the cost follows the free gaps rather than the grid points: open_starts gives
what the hours and the window allow as ranges (one per block and day, converted to UTC once
per zone, day and block), blocked_starts turns busy time into the starts it rules out, and
free_ranges cuts the ranges only where those fall. provider_slots is the three in a row;
"No preference" (availability.py) uses the same parts for providers with the same hours.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
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
    if duration <= 0 or step <= 0:
        return []
    starts, overlapping = open_starts(hours, tz, duration, step, window, first_day, last_day)
    out: list[int] = []
    for free in free_ranges(starts, blocked_starts(busy, duration)):
        out.extend(free)
    if overlapping:
        # Overlapping blocks (nothing in provider_hours forbids them) would offer a time twice.
        return sorted(set(out))
    return out


def blocked_starts(busy: Iterable[tuple[int, int]], duration: int) -> list[tuple[int, int]]:
    """The starts that busy time rules out, as merged [first, stop) intervals: [s, s+duration)
    overlaps [b0, b1) exactly when b0 - duration < s < b1."""
    return merge_intervals((b0 - duration + 1, b1) for b0, b1 in busy if b0 < b1)


def common_blocked(lists: Sequence[Sequence[tuple[int, int]]]) -> list[tuple[int, int]]:
    """The starts blocked in every one of `lists` (each from blocked_starts): for providers with
    the same hours, a start is offered by one of them iff it is not blocked for all of them."""
    if not lists:
        return []
    sizes = [len(spans) for spans in lists]
    shortest = sizes.index(min(sizes))  # the shortest first: the common part only shrinks
    common = list(lists[shortest])
    for index, other in enumerate(lists):
        if not common:
            break
        if index != shortest:
            common = _intersect(common, other)
    return common


def _intersect(
    few: Sequence[tuple[int, int]], many: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Both merged and sorted; `few` is walked and `many` only bisected into, so a short list of
    starts blocked for everyone so far costs little against a provider's long one."""
    out: list[tuple[int, int]] = []
    count = len(many)
    for lo, hi in few:
        index = bisect_right(many, lo, key=_stop)  # the first of `many` not over by lo
        while index < count and many[index][0] < hi:
            other_lo, other_hi = many[index]
            out.append((lo if lo > other_lo else other_lo, hi if hi < other_hi else other_hi))
            index += 1
    return out


def _stop(interval: tuple[int, int]) -> int:
    return interval[1]


def free_ranges(starts: Sequence[range], blocked: Sequence[tuple[int, int]]) -> list[range]:
    """`starts` (from open_starts) without the `blocked` ones (merged [first, stop) intervals):
    each range is cut only where a blocked interval falls inside it (bisect, then a walk over
    the intervals it meets), so the cost follows the free gaps, not the grid points."""
    if not blocked:
        return list(starts)
    firsts = [b[0] for b in blocked]
    stops = [b[1] for b in blocked]
    count = len(blocked)
    out: list[range] = []
    for grid in starts:
        cursor, last, step = grid.start, grid[-1], grid.step
        index = bisect_right(stops, cursor)  # the first blocked interval not over by cursor
        while index < count and firsts[index] <= last:
            if firsts[index] > cursor:
                out.append(range(cursor, firsts[index], step))
            stop = stops[index]
            if stop > cursor:
                cursor = stop + (grid.start - stop) % step  # next grid point from stop on
            index += 1
        if cursor <= last:
            out.append(range(cursor, last + 1, step))
    return out


def open_starts(
    hours: Sequence[HoursBlock],
    tz: ZoneInfo,
    duration: int,
    step: int,
    window: Window,
    first_day: date | None = None,
    last_day: date | None = None,
) -> tuple[list[range], bool]:
    """Every start the working hours allow before busy time is considered: ascending ranges
    (a block's starts on the local grid, inside the window, ending by the block's end), and
    whether two blocks of one day overlap (the ranges may then overlap too)."""
    if duration <= 0 or step <= 0 or window.earliest > window.latest:
        return [], False
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
    out: list[range] = []
    overlapping = False
    one_day = timedelta(days=1)
    earliest, latest = window.earliest, window.latest
    while day <= end_day:
        blocks = by_weekday[day.weekday()]
        dated = by_date.get(day)
        if dated:
            blocks = sorted([*blocks, *dated], key=lambda b: b.start)
        reached = 0  # the latest end of the day's blocks so far
        for block in blocks:
            overlapping = overlapping or block.start < reached
            reached = max(reached, block.end)
            for grid in _block_starts(tz, day, block.start, block.end, duration, step):
                first = grid.start
                if first < earliest:
                    first += -(-(earliest - first) // grid.step) * grid.step
                stop = min(grid.stop, latest + 1)
                if first < stop:
                    out.append(range(first, stop, grid.step))
        day += one_day
    return out, overlapping


def _block_starts(
    tz: ZoneInfo, day: date, start_of_block: int, end_of_block: int, duration: int, step: int
) -> tuple[range, ...]:
    """A block's starts on one local day, before the window: one range when the UTC offset is
    the same all block long, else one range per start."""
    usual = _usual_block(tz, day, start_of_block, end_of_block)
    if usual is not None:
        start, end, offset = usual
        first = start + (-(start + offset)) % step  # the first start on the local grid
        return (range(first, end - duration + 1, step),) if first <= end - duration else ()
    return _transition_block_starts(tz, day, start_of_block, end_of_block, duration, step)


@lru_cache(maxsize=8192)
def _usual_block(
    tz: ZoneInfo, day: date, start_of_block: int, end_of_block: int
) -> tuple[int, int, int] | None:
    """(start, end, UTC offset) of a block in epoch minutes, or None if the offset changes in
    it or an end is a wall time that does not exist. Cached: every provider with the same
    hours, and every request, converts the same blocks of the same days."""
    start, start_offset = _local_to_minute(day, start_of_block, tz)
    end, end_offset = _local_to_minute(day, end_of_block, tz)
    if (
        start_offset == end_offset
        and _wall_time_exists(day, start_of_block, tz)
        and _wall_time_exists(day, end_of_block, tz)
    ):
        return start, end, start_offset
    return None


@lru_cache(maxsize=1024)
def _transition_block_starts(
    tz: ZoneInfo, day: date, start_of_block: int, end_of_block: int, duration: int, step: int
) -> tuple[range, ...]:
    """A daylight-saving change runs through the block: walk the local grid one wall time at a
    time. Wall times that do not exist (spring forward) are skipped; wall times that occur
    twice (fall back) are offered once, at their first occurrence."""
    end, _ = _local_to_minute(day, end_of_block, tz)
    starts = []
    for minute_of_day in range(start_of_block + (-start_of_block) % step, end_of_block, step):
        if _wall_time_exists(day, minute_of_day, tz):
            moment, _ = _local_to_minute(day, minute_of_day, tz)
            if moment + duration <= end:
                starts.append(range(moment, moment + 1))
    return tuple(starts)


def choose_provider(candidates: Sequence[tuple[int, int]]) -> int:
    """ "No preference": among (provider_id, appointments that local day) free at the chosen
    time, the one with the fewest appointments that day, then the lowest id."""
    if not candidates:
        raise ValueError("no candidate provider")
    return min(candidates, key=lambda c: (c[1], c[0]))[0]
