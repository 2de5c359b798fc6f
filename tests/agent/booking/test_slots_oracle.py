"""provider_slots and "No preference" availability against an oracle that checks every grid
point of every day, written from DESIGN.md "Booking rules" with nothing from slots.py.

A start s for a type of d minutes with provider P is offered iff s is on the rounding grid of
the local day (a wall time whose minute of the day is a multiple of the step), that wall time
exists (spring forward skips some) and is taken at its first occurrence (fall back repeats
some), [s, s+d) ends by the block's end wall time (first occurrence too), overlaps none of P's
busy intervals, and earliest <= s <= latest. Weekly blocks apply on their weekday, dated blocks
on their date. Random days are drawn around the 2026 changes in New York and Berlin.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.booking.availability import free_days
from agent.booking.slots import Window, merge_intervals, provider_slots
from agent.store.base import HoursBlock

ZONES = ["America/New_York", "Europe/Berlin", "UTC"]
# 2026's daylight-saving days (local dates): New York 8 March and 1 November, Berlin 29 March
# and 25 October; the oracle does not need them, the strategy aims at them.
CHANGE_DAYS = [date(2026, 3, 8), date(2026, 11, 1), date(2026, 3, 29), date(2026, 10, 25)]


def _epoch_minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def oracle(
    hours: list[HoursBlock],
    busy: list[tuple[int, int]],
    zone: str,
    duration: int,
    step: int,
    window: Window,
    first_day: date,
    last_day: date,
) -> list[int]:
    tz = ZoneInfo(zone)
    found: set[int] = set()
    day = first_day
    while day <= last_day:
        midnight = datetime.combine(day, time())
        for block in hours:
            applies = block.on == day if block.on is not None else block.weekday == day.weekday()
            if not applies:
                continue
            block_end = _epoch_minute((midnight + timedelta(minutes=block.end)).replace(tzinfo=tz))
            for minute_of_day in range(block.start, block.end):
                if minute_of_day % step:
                    continue
                wall = midnight + timedelta(minutes=minute_of_day)
                aware = wall.replace(tzinfo=tz)  # fold=0: the first occurrence
                if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
                    continue  # this wall time does not exist that day
                s = _epoch_minute(aware)
                if s + duration > block_end or not window.earliest <= s <= window.latest:
                    continue
                if any(max(s, b0) < min(s + duration, b1) for b0, b1 in busy):
                    continue  # [s, s+duration) and [b0, b1) share a minute
                found.add(s)
        day += timedelta(days=1)
    return sorted(found)


EDGE = st.sampled_from([0, 60, 90, 120, 150, 180, 480, 720, 780, 1080, 1380, 1440]) | st.integers(
    0, 1440
)


@st.composite
def blocks(draw: st.DrawFn, days: list[date]) -> list[HoursBlock]:
    """Weekly blocks (overlapping ones too: nothing forbids them) and some dated ones."""
    out = []
    for _ in range(draw(st.integers(0, 6))):
        start, end = sorted((draw(EDGE), draw(EDGE)))
        if start < end:
            on = draw(st.none() | st.sampled_from(days))
            weekday = on.weekday() if on is not None else draw(st.integers(0, 6))
            out.append(HoursBlock(weekday, start, end, on))
    return out


@dataclass(frozen=True)
class Case:
    zone: str
    hours: list[HoursBlock]
    busy: list[tuple[int, int]]
    duration: int
    step: int
    window: Window
    first_day: date
    last_day: date


def _rules(case: Case) -> dict[str, object]:
    """The oracle's arguments (dataclasses.asdict would turn the blocks into dicts too)."""
    return {f.name: getattr(case, f.name) for f in fields(case)}


@st.composite
def cases(draw: st.DrawFn) -> Case:
    zone = draw(st.sampled_from(ZONES))
    tz = ZoneInfo(zone)
    around = draw(st.sampled_from(CHANGE_DAYS) | st.dates(date(2026, 1, 1), date(2026, 12, 31)))
    first_day = around + timedelta(days=draw(st.integers(-3, 1)))
    last_day = first_day + timedelta(days=draw(st.integers(0, 4)))
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    base = _epoch_minute(datetime.combine(first_day, time(), tz))
    span = ((last_day - first_day).days + 1) * 1440
    earliest = base + draw(st.integers(-1440, span))
    window = Window(earliest, earliest + draw(st.integers(-60, span + 1440)))
    busy = [
        (start, start + length)
        for start, length in draw(
            st.lists(
                st.tuples(st.integers(base - 600, base + span), st.integers(-5, 600)), max_size=10
            )
        )
    ]
    return Case(
        zone=zone,
        hours=draw(blocks(days)),
        busy=busy,
        duration=draw(st.integers(1, 240)),
        step=draw(st.sampled_from([5, 10, 15, 20, 30, 60])),
        window=window,
        first_day=first_day,
        last_day=last_day,
    )


@settings(max_examples=400, deadline=None)
@given(cases())
def test_provider_slots_equal_the_oracle(case: Case) -> None:
    want = oracle(**_rules(case))
    got = provider_slots(
        hours=case.hours,
        busy=merge_intervals(case.busy),
        tz=ZoneInfo(case.zone),
        duration=case.duration,
        step=case.step,
        window=case.window,
        first_day=case.first_day,
        last_day=case.last_day,
    )
    assert got == want


def _labelled_by_hand(starts: list[int], zone: str, provider_id: int | None) -> list[object]:
    """The answer's days written out with datetime, one slot at a time."""
    tz = ZoneInfo(zone)
    days: dict[str, list[dict[str, object]]] = {}
    for s in starts:
        moment = datetime.fromtimestamp(s * 60, UTC)
        local = moment.astimezone(tz)
        slot: dict[str, object] = {
            "start": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "local_time": local.strftime("%H:%M"),
        }
        if provider_id is not None:
            slot["provider_id"] = provider_id
        days.setdefault(local.date().isoformat(), []).append(slot)
    return [{"date": d, "slots": slots} for d, slots in days.items()]


@settings(max_examples=200, deadline=None)
@given(
    cases(),
    st.lists(st.integers(0, 3), min_size=1, max_size=6),
    st.data(),
)
def test_no_preference_is_the_union_of_every_providers_oracle(
    case: Case, hours_of: list[int], data: st.DataObject
) -> None:
    """Providers share hours or not (hours_of[i]: which of a few schedules provider i keeps),
    each has busy time of their own, and the patient's own appointments block everyone."""
    days = [case.first_day + timedelta(days=n) for n in range(5)]
    schedules = [case.hours, *(data.draw(blocks(days)) for _ in range(3))]
    providers = list(range(1, len(hours_of) + 1))
    hours = {pid: schedules[s] for pid, s in zip(providers, hours_of, strict=True)}
    some_busy = st.sampled_from([[], case.busy, case.busy[::2], case.busy[1::3]])
    busy = {pid: data.draw(some_busy) for pid in providers}
    own = data.draw(st.sampled_from([[], case.busy[-1:]]))
    chosen = data.draw(st.none() | st.sampled_from(providers))
    union: set[int] = set()
    for pid in providers:
        rules = _rules(case) | {"hours": hours[pid], "busy": [*busy[pid], *own]}
        union.update(oracle(**rules))
    got = free_days(
        providers=providers,
        hours=hours,
        busy=busy,
        own=own,
        tz=ZoneInfo(case.zone),
        duration=case.duration,
        step=case.step,
        window=case.window,
        first_day=case.first_day,
        last_day=case.last_day,
        provider_id=chosen,
    )
    assert got == _labelled_by_hand(sorted(union), case.zone, chosen)
