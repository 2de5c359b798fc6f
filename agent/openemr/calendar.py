"""A provider's working and busy time from OpenEMR's calendar rows (pure).

OpenEMR has no schedule table: a provider's hours are rows of `openemr_postcalendar_events`.
An In Office row (category 2) opens availability at its start, an Out Of Office row (3) closes
it, and every other row of the provider blocks its own time (README 5.4-5.5, copied from
`find_appt_popup.php`):

- markers are swept per local day: open from an In to the next Out that day; an In without an
  Out stays open until midnight; an In and an Out at the same instant leave it closed (OUT
  wins); a marker's duration is ignored;
- an In row whose `pc_prefcatid` is neither 0 nor the requested category closes instead of
  opening (the staff finder's rule, the documented intent);
- every other row blocks [start, start + pc_duration); a row of zero length blocks one
  `calendar_interval`, as OpenEMR marks at least one slot;
- rows whose status is in `frees_slot` block nothing. Default: the cancelled statuses `x` and
  `%` (OpenEMR's finders keep them busy until staff delete the row, which a portal cannot ask
  staff to do);
- clinic-wide rows (`pc_aid = '0'`: holidays, Closed) block every provider unless
  `clinic_wide_blocks` is off (OpenEMR's finders never see them; its dialog only warns staff).

Times are naive local wall clock in the practice zone. Occurrences are dates plus wall times,
turned into aware instants only at the end (`wall_clock_to_utc`), so a 09:00 row is 09:00 on
both sides of a daylight-saving change. One rule for the two kinds of impossible wall time,
PEP 495's fold=0 (the one agent/booking/slots.py uses): a time in the spring gap is read with
the offset before the change (02:30 becomes 03:30 after the jump), an ambiguous time in the
fall is its first occurrence (the one still on summer time). An all-day row blocks its local
day, midnight to midnight, whatever the day's length.

`slot_inputs` turns a schedule into exactly what `provider_slots` takes, so the OpenEMR store
and the portico store feed the same slot function.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.booking.slots import MINUTES_PER_DAY, merge_intervals
from agent.openemr.recurrence import DEFAULT_WEEKEND, occurrences, recurrence_rule
from agent.store.base import HoursBlock

# Category ids OpenEMR hard-codes in its finders (find_appt_popup.php) and dialog script.
IN_OFFICE = 2
OUT_OF_OFFICE = 3
# `pc_aid` of clinic-wide rows (HolidayService.php).
CLINIC_WIDE = "0"
# Statuses of list `apptstat` that mean cancelled: Canceled and Canceled < 24h.
CANCELLED_STATUSES = frozenset({"x", "%"})
# Every local day open to the slot function; the closed hours come in as busy time instead.
ALL_DAY_HOURS = tuple(HoursBlock(weekday, 0, MINUTES_PER_DAY) for weekday in range(7))

Interval = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """The columns of one `openemr_postcalendar_events` row the calendar needs.

    `pc_endTime` is left out on purpose: OpenEMR's finder uses start + duration.
    """

    eid: int  # pc_eid
    provider: str  # pc_aid: users.id as text, '0' clinic-wide
    patient: str  # pc_pid: patient pid as text, '' on markers, lunches, meetings
    category: int  # pc_catid
    event_date: date  # pc_eventDate: the date, or the first occurrence of a repeating row
    end_date: date | None  # pc_endDate, inclusive; None for NULL and 0000-00-00
    start_time: timedelta | None  # pc_startTime, as the driver returns TIME
    duration: int  # pc_duration, seconds
    recurrence_type: int  # pc_recurrtype
    recurrence_spec: str | bytes | None  # pc_recurrspec, PHP-serialized
    status: str  # pc_apptstatus
    preferred_category: int  # pc_prefcatid
    all_day: bool  # pc_alldayevent


@dataclass(frozen=True, slots=True)
class CalendarRules:
    """Practice settings and Portico's policies that shape a schedule."""

    zone: ZoneInfo  # gbl_time_zone, or the configured zone
    weekend: tuple[int, ...] = DEFAULT_WEEKEND  # weekend_days global, PHP weekday numbers
    frees_slot: frozenset[str] = CANCELLED_STATUSES
    slot_seconds: int = 15 * 60  # calendar_interval global
    clinic_wide_blocks: bool = True


@dataclass(frozen=True, slots=True)
class ProviderSchedule:
    """One provider's time over local days [first_day, last_day]: sorted, disjoint aware UTC
    intervals, clipped to [start, end) (first_day's midnight to the midnight after last_day)."""

    first_day: date
    last_day: date
    start: datetime
    end: datetime
    working: tuple[Interval, ...]
    busy: tuple[Interval, ...]


@dataclass(frozen=True, slots=True)
class Schedules:
    by_provider: Mapping[str, ProviderSchedule]
    # pc_eid of rows left out: an unreadable recurrence, or no start time. They block nothing
    # and open nothing (as in OpenEMR); the caller counts them, a patient never sees an error.
    skipped: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SlotInputs:
    """The arguments `provider_slots` takes for one provider, besides type and window."""

    hours: tuple[HoursBlock, ...]
    busy: list[tuple[int, int]]  # epoch minutes, merged
    first_day: date
    last_day: date


def _as_date(value: object) -> date | None:
    """A DATE as drivers return it: a date, None, or a string ('0000-00-00' from PyMySQL)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if value is None or value in ("", "0000-00-00"):
        return None
    return date.fromisoformat(str(value))


def _as_time(value: object) -> timedelta | None:
    """A TIME as drivers return it: a timedelta (PyMySQL), a time, or 'HH:MM:SS'."""
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, time):
        return timedelta(hours=value.hour, minutes=value.minute, seconds=value.second)
    hours, minutes, seconds = (int(part) for part in str(value).split(":"))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _as_int(value: object) -> int:
    return 0 if value is None or value == "" else int(str(value))


def event_from_row(row: Mapping[str, object]) -> CalendarEvent:
    """A row keyed by column name (a DictCursor row) as a CalendarEvent. Raises ValueError on
    a value no column of that type holds (e.g. a zero `pc_eventDate`): skip and count it."""
    event_date = _as_date(row["pc_eventDate"])
    if event_date is None:
        raise ValueError("calendar row without a date")
    spec = row.get("pc_recurrspec")
    return CalendarEvent(
        eid=_as_int(row["pc_eid"]),
        provider=str(row.get("pc_aid") or ""),
        patient=str(row.get("pc_pid") or ""),
        category=_as_int(row.get("pc_catid")),
        event_date=event_date,
        end_date=_as_date(row.get("pc_endDate")),
        start_time=_as_time(row.get("pc_startTime")),
        duration=_as_int(row.get("pc_duration")),
        recurrence_type=_as_int(row.get("pc_recurrtype")),
        recurrence_spec=spec if spec is None or isinstance(spec, str | bytes) else str(spec),
        status=str(row.get("pc_apptstatus") or ""),
        preferred_category=_as_int(row.get("pc_prefcatid")),
        all_day=bool(_as_int(row.get("pc_alldayevent"))),
    )


def wall_clock_to_utc(day: date, seconds: int, zone: ZoneInfo) -> datetime:
    """A local wall time (seconds after midnight, 86400 = next midnight) as an aware UTC
    instant, at fold=0 (see the module docstring)."""
    naive = datetime.combine(day, time()) + timedelta(seconds=seconds)
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def _days(first_day: date, last_day: date) -> list[date]:
    return [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]


def provider_schedules(
    events: Iterable[CalendarEvent],
    *,
    providers: Collection[str],
    category: int,
    first_day: date,
    last_day: date,
    rules: CalendarRules,
) -> Schedules:
    """Working and busy intervals of each of `providers` for a visit of `category` (its
    `pc_catid`, for `pc_prefcatid`), over local days [first_day, last_day]."""
    zone = rules.zone
    start = wall_clock_to_utc(first_day, 0, zone)
    end = wall_clock_to_utc(last_day + timedelta(days=1), 0, zone)
    # Occurrences from the day before, so a row running past midnight blocks the first day.
    since = first_day - timedelta(days=1)
    markers: dict[str, dict[date, list[tuple[datetime, bool]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    busy: dict[str, list[Interval]] = defaultdict(list)
    skipped: list[int] = []
    for event in events:
        owner = event.provider
        if owner == CLINIC_WIDE:
            if not rules.clinic_wide_blocks or event.category in (IN_OFFICE, OUT_OF_OFFICE):
                continue
        elif owner not in providers:
            continue
        if event.start_time is None:
            skipped.append(event.eid)
            continue
        try:
            rule = recurrence_rule(event.recurrence_type, event.recurrence_spec)
            dates = occurrences(
                rule, event.event_date, event.end_date, since, last_day, rules.weekend
            )
        except (ValueError, OverflowError):
            # MalformedRecurrence is a ValueError; a huge interval overflows the date range.
            skipped.append(event.eid)
            continue
        seconds = int(event.start_time.total_seconds())
        if event.category in (IN_OFFICE, OUT_OF_OFFICE):
            closes = event.category == OUT_OF_OFFICE or event.preferred_category not in (
                0,
                category,
            )
            for day in dates:
                at = wall_clock_to_utc(day, seconds, zone)
                markers[owner][at.astimezone(zone).date()].append((at, closes))
            continue
        if event.status in rules.frees_slot:
            continue
        length = event.duration if event.duration > 0 else rules.slot_seconds
        for day in dates:
            if event.all_day:
                block = (
                    wall_clock_to_utc(day, 0, zone),
                    wall_clock_to_utc(day + timedelta(days=1), 0, zone),
                )
            else:
                at = wall_clock_to_utc(day, seconds, zone)
                block = (at, at + timedelta(seconds=length))
            if block[1] > start and block[0] < end:
                busy[owner].append((max(block[0], start), min(block[1], end)))
    by_provider = {
        provider: ProviderSchedule(
            first_day=first_day,
            last_day=last_day,
            start=start,
            end=end,
            working=_working(markers[provider], first_day, last_day, zone),
            busy=_merge(busy[provider] + busy[CLINIC_WIDE]),
        )
        for provider in providers
    }
    return Schedules(by_provider, tuple(skipped))


def _working(
    markers: Mapping[date, list[tuple[datetime, bool]]],
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
) -> tuple[Interval, ...]:
    """The sweep of find_appt_popup.php, per local day: In opens, Out closes, closed again at
    midnight. At one instant an In sorts before an Out, so the Out wins."""
    working: list[Interval] = []
    for day in _days(first_day, last_day):
        midnight = wall_clock_to_utc(day + timedelta(days=1), 0, zone)
        opened: datetime | None = None
        for at, closes in sorted(markers.get(day, ())):
            if closes:
                if opened is not None and opened < at:
                    working.append((opened, at))
                opened = None
            elif opened is None:
                opened = at
        if opened is not None and opened < midnight:
            working.append((opened, midnight))
    return _merge(working)


def _epoch_minute(moment: datetime, *, up: bool) -> int:
    minutes = moment.timestamp() / 60
    return math.ceil(minutes) if up else math.floor(minutes)


def slot_inputs(schedule: ProviderSchedule) -> SlotInputs:
    """`provider_slots` arguments for this schedule: every local day is one open block, and
    busy time is the provider's busy intervals plus every moment outside working time. Busy
    minutes round outwards and working minutes inwards, so a seconds-level row never frees
    a minute it touches."""
    closed: list[tuple[int, int]] = []
    cursor = _epoch_minute(schedule.start, up=False)
    for work_start, work_end in schedule.working:
        closed.append((cursor, _epoch_minute(work_start, up=True)))
        cursor = _epoch_minute(work_end, up=False)
    closed.append((cursor, _epoch_minute(schedule.end, up=True)))
    busy = [
        (_epoch_minute(busy_start, up=False), _epoch_minute(busy_end, up=True))
        for busy_start, busy_end in schedule.busy
    ]
    return SlotInputs(
        hours=ALL_DAY_HOURS,
        busy=merge_intervals(closed + busy),
        first_day=schedule.first_day,
        last_day=schedule.last_day,
    )
