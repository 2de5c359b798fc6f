"""All booking rules at once, against a brute-force reference that walks every local minute.

The reference checks each rule of DESIGN.md "Booking rules" directly, with zoneinfo, and
follows slots.py's daylight-saving policy: a wall time that does not exist is skipped, one that
occurs twice is offered once at its first occurrence (fold=0), and [s, s+duration) must end by
the block's end wall time taken at fold=0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from agent.booking.slots import (
    booking_window,
    from_minute,
    merge_intervals,
    provider_slots,
)
from agent.store.base import HoursBlock

ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]


def reference_slots(
    *,
    hours: list[HoursBlock],
    busy: list[tuple[int, int]],
    tz: ZoneInfo,
    duration: int,
    step: int,
    now: datetime,
    notice_hours: int,
    horizon_days: int,
    first_day: date | None = None,
    last_day: date | None = None,
) -> list[int]:
    """Every offered start (epoch minutes), found by checking every local minute naively."""
    earliest = now.timestamp() + notice_hours * 3600  # seconds, not rounded
    latest = now.timestamp() + horizon_days * 86400
    day = datetime.fromtimestamp(earliest, tz).date() - timedelta(days=1)
    end_day = datetime.fromtimestamp(latest, tz).date() + timedelta(days=1)
    if first_day is not None:
        day = max(day, first_day)
    if last_day is not None:
        end_day = min(end_day, last_day)
    found: set[int] = set()
    while day <= end_day:
        midnight = datetime.combine(day, time())
        for block in hours:
            if block.weekday != day.weekday():
                continue
            end_wall = (midnight + timedelta(minutes=block.end)).replace(tzinfo=tz)  # fold=0
            block_end = int(end_wall.timestamp()) // 60
            for minute_of_day in range(block.start, block.end):
                if minute_of_day % step:
                    continue  # not on the local grid
                naive = midnight + timedelta(minutes=minute_of_day)
                start = naive.replace(tzinfo=tz)  # fold=0: the first occurrence
                if start.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
                    continue  # skipped by spring forward
                seconds = start.timestamp()
                s = int(seconds) // 60
                if s + duration > block_end:  # real, elapsed minutes
                    continue
                if not earliest <= seconds <= latest:
                    continue
                if any(b0 < b1 and b0 < s + duration and s < b1 for b0, b1 in busy):
                    continue
                found.add(s)
        day += timedelta(days=1)
    return sorted(found)


@dataclass(frozen=True)
class Scenario:
    zone: str
    hours: tuple[HoursBlock, ...]
    busy: tuple[tuple[int, int], ...]
    duration: int
    step: int
    now: datetime
    notice_hours: int
    horizon_days: int
    first_day: date | None = None
    last_day: date | None = None


def check(sc: Scenario) -> None:
    tz = ZoneInfo(sc.zone)
    got = provider_slots(
        hours=list(sc.hours),
        busy=merge_intervals(sc.busy),
        tz=tz,
        duration=sc.duration,
        step=sc.step,
        window=booking_window(sc.now, sc.notice_hours, sc.horizon_days),
        first_day=sc.first_day,
        last_day=sc.last_day,
    )
    want = reference_slots(
        hours=list(sc.hours),
        busy=list(sc.busy),
        tz=tz,
        duration=sc.duration,
        step=sc.step,
        now=sc.now,
        notice_hours=sc.notice_hours,
        horizon_days=sc.horizon_days,
        first_day=sc.first_day,
        last_day=sc.last_day,
    )
    if got != want:

        def show(starts: set[int]) -> list[str]:
            return [from_minute(m).astimezone(tz).isoformat() for m in sorted(starts)]

        raise AssertionError(
            f"offered but not allowed: {show(set(got) - set(want))}; "
            f"allowed but not offered: {show(set(want) - set(got))}; "
            f"duplicates: {len(got) - len(set(got))}; ascending: {got == sorted(got)}"
        )


# --- a realistic week ------------------------------------------------------------------------

CHICAGO = "America/Chicago"


def chicago(day: int, hhmm: str) -> int:
    """Epoch minute of a wall time in the week of Monday 2026-06-01 (day 0 = Monday)."""
    moment = datetime.combine(
        date(2026, 6, 1) + timedelta(days=day), time.fromisoformat(hhmm), ZoneInfo(CHICAGO)
    )
    return int(moment.timestamp()) // 60


REALISTIC_WEEK = Scenario(
    zone=CHICAGO,
    hours=(
        *(HoursBlock(wd, 8 * 60, 12 * 60) for wd in range(5)),
        *(HoursBlock(wd, 13 * 60, 17 * 60) for wd in range(5)),
        HoursBlock(5, 9 * 60, 13 * 60),  # Saturday morning; Sunday closed
    ),
    busy=(
        (chicago(1, "08:00"), chicago(1, "08:45")),  # Tuesday, first thing
        (chicago(1, "10:10"), chicago(1, "10:50")),  # off the grid
        (chicago(1, "10:50"), chicago(1, "11:20")),  # back to back with the previous one
        (chicago(2, "12:30"), chicago(2, "17:00")),  # Wednesday afternoon off
        (chicago(3, "09:00"), chicago(3, "10:00")),
        (chicago(3, "09:30"), chicago(3, "09:45")),  # duplicate entry inside the previous one
        (chicago(4, "15:00"), chicago(7, "08:00")),  # long weekend: Friday 15:00 to Monday
        (chicago(7, "08:00"), chicago(7, "09:00")),
    ),
    duration=45,
    step=15,
    now=datetime(2026, 6, 1, 10, 23, 17, tzinfo=ZoneInfo(CHICAGO)),
    notice_hours=24,
    horizon_days=7,
)


def test_a_realistic_week_matches_the_reference() -> None:
    check(REALISTIC_WEEK)


def test_a_realistic_week_offers_what_the_office_expects() -> None:
    tz = ZoneInfo(CHICAGO)
    sc = REALISTIC_WEEK
    starts = provider_slots(
        hours=list(sc.hours),
        busy=merge_intervals(sc.busy),
        tz=tz,
        duration=sc.duration,
        step=sc.step,
        window=booking_window(sc.now, sc.notice_hours, sc.horizon_days),
    )
    by_day: dict[str, list[str]] = {}
    for m in starts:
        local = from_minute(m).astimezone(tz)
        by_day.setdefault(local.strftime("%a"), []).append(local.strftime("%H:%M"))
    # Tuesday: 24 h notice from Monday 10:23:17 and busy until 11:20; a 45-minute visit at
    # 11:30 would run into lunch, so the first start is after lunch; the afternoon is free.
    assert by_day["Tue"][:2] == ["13:00", "13:15"]
    assert by_day["Tue"][-1] == "16:15"
    # Wednesday afternoon is time off: the last morning start ends 12:00, nothing after.
    assert by_day["Wed"][-1] == "11:15"
    assert "Thu" in by_day and "09:15" not in by_day["Thu"] and "10:00" in by_day["Thu"]
    assert by_day["Fri"][-1] == "14:15"  # ends exactly when the long weekend starts
    assert "Sat" not in by_day and "Sun" not in by_day
    # Next Monday: time off until 08:00, an appointment until 09:00, horizon 10:23:17.
    assert by_day["Mon"] == ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15"]


# --- random scenarios ------------------------------------------------------------------------


def transition_days(zone: str) -> list[date]:
    """Local dates in 2026 on which the zone's UTC offset changes."""
    tz = ZoneInfo(zone)
    days = []
    day = date(2026, 1, 1)
    while day.year == 2026:
        before = datetime.combine(day, time(), tz).utcoffset()
        after = datetime.combine(day + timedelta(days=1), time(), tz).utcoffset()
        if before != after:
            days.append(day)
        day += timedelta(days=1)
    return days


TRANSITIONS = {zone: transition_days(zone) for zone in ZONES}
START_2026 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
END_2026 = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())
# Block edges: anywhere, or at the hours where 2026's transitions happen in these zones.
EDGES = st.integers(0, 24 * 60) | st.sampled_from([0, 60, 90, 105, 120, 135, 150, 165, 180, 1440])


@st.composite
def weekly_hours(draw: st.DrawFn) -> tuple[HoursBlock, ...]:
    """Up to three blocks per weekday; they may touch but not overlap."""
    blocks = []
    for weekday in range(7):
        edges = sorted(draw(st.lists(EDGES, max_size=6)))
        for start, end in zip(edges[::2], edges[1::2], strict=False):
            if start < end:
                blocks.append(HoursBlock(weekday, start, end))
    return tuple(draw(st.permutations(blocks)))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    zone = draw(st.sampled_from(ZONES))
    tz = ZoneInfo(zone)
    near = TRANSITIONS[zone]
    if near and draw(st.booleans()):
        # Shortly before (or just after) a daylight-saving change, so the window spans it.
        midnight = datetime.combine(draw(st.sampled_from(near)), time(), tz)
        seconds = int(midnight.timestamp()) + draw(st.integers(-10 * 86400, 86400))
    else:
        seconds = draw(st.integers(START_2026, END_2026))
    now = datetime.fromtimestamp(seconds, UTC).astimezone(tz)
    horizon_days = draw(st.integers(1, 10))
    now_minute = seconds // 60
    busy = draw(
        st.lists(
            st.tuples(
                st.integers(now_minute - 1440, now_minute + (horizon_days + 1) * 1440),
                st.integers(1, 600) | st.integers(600, 3 * 1440),
            ).map(lambda sl: (sl[0], sl[0] + sl[1])),
            max_size=8,
        )
    )
    today = now.date()
    some_day = st.none() | st.integers(-1, 11).map(lambda n: today + timedelta(days=n))
    return Scenario(
        zone=zone,
        hours=draw(weekly_hours()),
        busy=tuple(busy),
        duration=draw(st.integers(5, 240)),
        step=draw(st.sampled_from([15, 30, 60])),
        now=now,
        notice_hours=draw(st.integers(0, 48)),
        horizon_days=horizon_days,
        first_day=draw(some_day),
        last_day=draw(some_day),
    )


@settings(max_examples=150, deadline=None)
# Found by this test and minimised by hypothesis: a block whose end wall time falls in the
# spring-forward gap offered a start after the gap (02:00 BST / 03:00 EDT), past the block's
# end by the local clock.
@example(
    Scenario(
        zone="Europe/London",
        hours=(HoursBlock(6, 0, 65),),
        busy=(),
        duration=5,
        step=15,
        now=datetime(2026, 3, 29, 0, 0, tzinfo=ZoneInfo("Europe/London")),
        notice_hours=0,
        horizon_days=1,
    )
)
@example(
    Scenario(
        zone="America/New_York",
        hours=(HoursBlock(6, 0, 125),),
        busy=(),
        duration=5,
        step=15,
        now=datetime(2026, 3, 8, 0, 0, tzinfo=ZoneInfo("America/New_York")),
        notice_hours=0,
        horizon_days=1,
    )
)
@given(scenarios())
def test_random_scenarios_match_the_reference(sc: Scenario) -> None:
    check(sc)
