"""OpenEMR's repeating calendar rows: `pc_recurrspec` read, occurrence dates expanded (pure).

What OpenEMR does is copied from `fetchEvents()` and `__increment()` (library/appointments.inc.php,
library/encounter_events.inc.php), including its quirks, because a provider's schedule must come
out the same in Portico as in OpenEMR's own calendar: the first occurrence is always
`pc_eventDate` itself; a month step that overflows rolls forward (Jan 31 -> Mar 3) and the
series continues from the rolled date; a workday step skips the weekend days of the
`weekend_days` global with OpenEMR's "+2 if the first listed, +1 if the second" rule; a
repeating row without an end date has no occurrence at all; `exdate` tokens match only as
`YYYYMMDD`, exactly.

What is not copied: PHP's `unserialize`. The spec is read with `phpserialize` under a length
bound, objects refused, and only a flat array of strings, integers and nulls accepted; anything
else raises MalformedRecurrence, which the calendar turns into "row skipped and counted" (a
malformed row yields nothing in OpenEMR too, `appointments.inc.php:219-222`). Values on which
PHP would loop forever (a `freq_type` outside 0-4 and 6, a non-numeric interval, an unknown
weekday) are malformed here rather than a hung request.

Dates only: wall times and zones are the calendar's business (agent/openemr/calendar.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum
from typing import NoReturn

import phpserialize

# Real specs are ~250 bytes; an `exdate` list grows 9 bytes per deleted occurrence, so a daily
# series with a year of deletions stays under 4 KiB. Anything longer is not a spec OpenEMR wrote.
MAX_SPEC_BYTES = 16 * 1024

# `weekend_days` global default (library/globals.inc.php): PHP `date('w')` numbers, 0 = Sunday.
DEFAULT_WEEKEND = (6, 0)


class MalformedRecurrence(ValueError):
    """A `pc_recurrspec` (or `pc_recurrtype`) that yields no occurrences: unreadable,
    hostile, or missing what its type needs."""


class Unit(IntEnum):
    """`event_repeat_freq_type` (library/encounter_events.inc.php:25-30)."""

    DAY = 0
    WEEK = 1
    MONTH = 2
    YEAR = 3
    WORKDAY = 4
    DAYS_OF_WEEK = 6


@dataclass(frozen=True, slots=True)
class EveryInterval:
    """`pc_recurrtype` 1 and 3: every `interval` units, or (DAYS_OF_WEEK) on `weekdays`
    every week. Which of the two is decided by the unit, as in PHP's `__increment`."""

    unit: Unit
    interval: int
    weekdays: frozenset[int]  # Python weekday numbers (Monday = 0); DAYS_OF_WEEK only
    exdates: frozenset[str]


@dataclass(frozen=True, slots=True)
class NthWeekday:
    """`pc_recurrtype` 2: the `nth` (5 = last) `weekday` of every `months` months."""

    nth: int
    weekday: int  # Python weekday number (Monday = 0)
    months: int
    first_of_month: bool  # `rt2_pf_flag`: step months from day 1, so none is skipped
    exdates: frozenset[str]


Rule = EveryInterval | NthWeekday | None  # None: a single event (`pc_recurrtype` 0)


def _refuse_object(name: object, members: object) -> NoReturn:
    raise MalformedRecurrence("a PHP object in a recurrence spec")


def parse_recurrspec(spec: str | bytes | None) -> dict[str, str | None]:
    """The spec as a flat mapping of string keys to string (or null) values.

    Integers are turned into their decimal strings, since PHP treats `"1"` and `1` alike in
    every test OpenEMR applies. Raises MalformedRecurrence for anything else.
    """
    if spec is None:
        raise MalformedRecurrence("no recurrence spec")
    raw = spec.encode("utf-8") if isinstance(spec, str) else spec
    if len(raw) > MAX_SPEC_BYTES:
        raise MalformedRecurrence("recurrence spec too long")
    try:
        value = phpserialize.loads(
            raw, errors="strict", decode_strings=True, object_hook=_refuse_object
        )
    except MalformedRecurrence:
        raise
    except (ValueError, TypeError, RecursionError) as exc:
        # ValueError covers truncation, bad opcodes and undecodable bytes (UnicodeDecodeError);
        # TypeError an array used as a key; RecursionError a deeply nested array.
        raise MalformedRecurrence("unreadable recurrence spec") from exc
    if not isinstance(value, dict):
        raise MalformedRecurrence("a recurrence spec is an array")
    out: dict[str, str | None] = {}
    for key, item in value.items():
        if isinstance(key, bool) or not isinstance(key, str | int):
            raise MalformedRecurrence("a recurrence spec key is a string")
        if item is None or isinstance(item, str):
            out[str(key)] = item
        elif isinstance(item, int) and not isinstance(item, bool):
            out[str(key)] = str(item)
        else:
            raise MalformedRecurrence("a recurrence spec value is a string or null")
    return out


def _empty(value: str | None) -> bool:
    """PHP's `empty()` on what a spec holds: null, "" and "0" are empty."""
    return value is None or value in ("", "0")


def _positive(value: str | None, what: str) -> int:
    if value is None or not value.isascii() or not value.isdigit() or int(value) < 1:
        raise MalformedRecurrence(f"{what} is not a positive whole number")
    return int(value)


def _exdates(values: dict[str, str | None]) -> frozenset[str]:
    text = values.get("exdate")
    # Exact tokens, no trimming: only `YYYYMMDD` ever matches an occurrence (README 6.6).
    return frozenset(text.split(",")) if text else frozenset()


def recurrence_rule(recurrence_type: int, spec: str | bytes | None) -> Rule:
    """The rule of one row. Type 0 does not read the spec at all (neither does OpenEMR, which
    stores specs of every shape on single rows)."""
    if recurrence_type == 0:
        return None
    if recurrence_type in (1, 3):
        return _every_interval(parse_recurrspec(spec))
    if recurrence_type == 2:
        return _nth_weekday(parse_recurrspec(spec))
    raise MalformedRecurrence("unknown pc_recurrtype")


def _every_interval(values: dict[str, str | None]) -> EveryInterval:
    freq, freq_type = values.get("event_repeat_freq"), values.get("event_repeat_freq_type")
    if _empty(freq) or freq_type is None:  # checkEvent(), appointments.inc.php:83-104
        raise MalformedRecurrence("repeat interval or unit missing")
    try:
        unit = Unit(int(freq_type)) if freq_type.isascii() and freq_type.isdigit() else None
    except ValueError:
        unit = None
    if unit is None:
        raise MalformedRecurrence("unknown repeat unit")
    if unit is Unit.DAYS_OF_WEEK:
        assert freq is not None
        weekdays = set()
        for token in freq.split(","):
            number = token.strip()
            if number not in ("1", "2", "3", "4", "5", "6", "7"):
                raise MalformedRecurrence("unknown weekday in a days-of-week list")
            weekdays.add((int(number) - 2) % 7)  # OpenEMR: 1 = Sunday ... 7 = Saturday
        return EveryInterval(unit, 0, frozenset(weekdays), _exdates(values))
    return EveryInterval(unit, _positive(freq, "repeat interval"), frozenset(), _exdates(values))


def _nth_weekday(values: dict[str, str | None]) -> NthWeekday:
    months, nth = values.get("event_repeat_on_freq"), values.get("event_repeat_on_num")
    weekday = values.get("event_repeat_on_day")
    if _empty(months) or _empty(nth) or weekday is None:
        raise MalformedRecurrence("month interval, week number or weekday missing")
    if weekday not in ("0", "1", "2", "3", "4", "5", "6"):
        raise MalformedRecurrence("unknown weekday")
    return NthWeekday(
        # PHP tries n, n-1, ... until the month has one: any n >= 5 is "the last".
        nth=min(_positive(nth, "week number"), 5),
        weekday=(int(weekday) - 1) % 7,  # OpenEMR: 0 = Sunday
        months=_positive(months, "month interval"),
        first_of_month=not _empty(values.get("rt2_pf_flag")),
        exdates=_exdates(values),
    )


def parse_weekend_days(text: str | None) -> tuple[int, ...]:
    """The `weekend_days` global ("6,0"): PHP weekday numbers in their listed order (the order
    matters to the workday step). A missing row means the default."""
    if text is None:
        return DEFAULT_WEEKEND
    days = []
    for token in text.split(","):
        token = token.strip()
        if token in ("0", "1", "2", "3", "4", "5", "6"):
            days.append(int(token))
    return tuple(days)


def _php_weekday(day: date) -> int:
    return day.isoweekday() % 7  # PHP date('w'): 0 = Sunday


def _mktime(year: int, month: int, day: int) -> date:
    """PHP's `mktime(0, 0, 0, month, day, year)` date: months and days past the end roll over."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 1) + timedelta(days=day - 1)


def _next_workday(day: date, interval: int, weekend: Sequence[int]) -> date:
    """`__increment` for REPEAT_EVERY_WORK_DAY, with its exact (not general) weekend rule."""
    step = interval
    for offset in range(1, interval + 1):
        if _php_weekday(day + timedelta(days=offset)) in weekend:
            step += 1
    landing = _php_weekday(day + timedelta(days=step))
    if len(weekend) == 2:
        if landing == weekend[0]:
            step += 2
        elif landing == weekend[1]:
            step += 1
    elif len(weekend) == 1 and landing == weekend[0]:
        step += 1
    return day + timedelta(days=step)


def _next(day: date, rule: EveryInterval, weekend: Sequence[int]) -> date:
    unit, interval = rule.unit, rule.interval
    if unit is Unit.DAYS_OF_WEEK:
        # The earliest listed weekday strictly after `day` ("next monday" in PHP).
        return day + timedelta(days=min((w - day.weekday() - 1) % 7 + 1 for w in rule.weekdays))
    if unit is Unit.DAY:
        return day + timedelta(days=interval)
    if unit is Unit.WEEK:
        return day + timedelta(days=7 * interval)
    if unit is Unit.MONTH:
        return _mktime(day.year, day.month + interval, day.day)
    if unit is Unit.YEAR:
        return _mktime(day.year + interval, day.month, day.day)
    return _next_workday(day, interval, weekend)


def _skip_to(day: date, first: date, rule: EveryInterval) -> date:
    """Jump a fixed-step series close to `first` at once, so an old daily row costs nothing."""
    step = {Unit.DAY: rule.interval, Unit.WEEK: 7 * rule.interval}.get(rule.unit)
    if step is None or day >= first:
        return day
    return day + timedelta(days=((first - day).days // step) * step)


def _nth_weekday_of_month(year: int, month: int, weekday: int, nth: int) -> date:
    first = date(year, month, 1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    while day.month != month:  # no 5th one this month: the 4th is the last
        day -= timedelta(days=7)
    return day


def occurrences(
    rule: Rule,
    event_date: date,
    end_date: date | None,
    first: date,
    last: date,
    weekend: Sequence[int] = DEFAULT_WEEKEND,
) -> list[date]:
    """Dates of a row's occurrences in [first, last] (both inclusive), ascending.

    `end_date` is `pc_endDate`, None for NULL or `0000-00-00`: a repeating row without one has
    none (there is no open-ended recurrence in OpenEMR). `weekend` is the `weekend_days` global.
    """
    if rule is None:
        return [event_date] if first <= event_date <= last else []
    if end_date is None:
        return []
    stop = min(end_date, last)
    if isinstance(rule, NthWeekday):
        return _nth_weekday_occurrences(rule, event_date, first, stop)
    out: list[date] = []
    day = _skip_to(event_date, first, rule)
    while day < first:
        day = _next(day, rule, weekend)
    while day <= stop:
        if day.strftime("%Y%m%d") not in rule.exdates:
            out.append(day)
        day = _next(day, rule, weekend)
    return out


def _nth_weekday_occurrences(
    rule: NthWeekday, event_date: date, first: date, stop: date
) -> list[date]:
    # The cursor walks months with PHP's mktime from day `nd`: without the flag a 29th-31st
    # overflows and skips a month (Jan 29 + 1 month -> Mar 1), as OpenEMR's older rows do.
    year, month = event_date.year, event_date.month
    nd = 1 if rule.first_of_month else event_date.day
    out: list[date] = []
    while (year, month) < (first.year, first.month):
        cursor = _mktime(year, month + rule.months, nd)
        year, month, nd = cursor.year, cursor.month, cursor.day
    while (year, month) <= (stop.year, stop.month):
        day = _nth_weekday_of_month(year, month, rule.weekday, rule.nth)
        if first <= day <= stop and day.strftime("%Y%m%d") not in rule.exdates:
            out.append(day)
        cursor = _mktime(year, month + rule.months, nd)
        year, month, nd = cursor.year, cursor.month, cursor.day
    return out
