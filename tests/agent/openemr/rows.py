"""Calendar rows for the calendar tests, built the way OpenEMR's staff dialog saves them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from agent.openemr.calendar import CalendarEvent
from tests.agent.openemr.specs import NO_REPEAT

# Default categories (README 2.4).
IN_OFFICE, OUT_OF_OFFICE, VACATION, OFFICE_VISIT, CLOSED, LUNCH = 2, 3, 4, 5, 7, 8
NEW_PATIENT, RESERVED = 10, 11


def row(
    eid: int,
    provider: str,
    category: int,
    day: str,
    start: str | None,
    duration: int = 0,
    *,
    status: str = "-",
    recurrence_type: int = 0,
    spec: str | None = NO_REPEAT,
    end: str | None = None,
    prefcat: int = 0,
    all_day: bool = False,
    patient: str = "",
) -> CalendarEvent:
    start_time = None
    if start is not None:
        hours, minutes, *seconds = (int(part) for part in start.split(":"))
        start_time = timedelta(hours=hours, minutes=minutes, seconds=sum(seconds))
    return CalendarEvent(
        eid=eid,
        provider=provider,
        patient=patient,
        category=category,
        event_date=date.fromisoformat(day),
        end_date=None if end is None else date.fromisoformat(end),
        start_time=start_time,
        duration=duration,
        recurrence_type=recurrence_type,
        recurrence_spec=spec,
        status=status,
        preferred_category=prefcat,
        all_day=all_day,
    )


def utc(text: str) -> datetime:
    """'2026-10-26 12:00' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def span(day: str, start: str, end: str) -> tuple[datetime, datetime]:
    """A UTC interval within one UTC day, or ending on the next one when `end` is earlier."""
    first, second = utc(f"{day} {start}"), utc(f"{day} {end}")
    return first, second if second > first else second + timedelta(days=1)
