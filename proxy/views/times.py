"""Dates and times the way a patient reads them: "Tuesday, November 24, 2026 at 9:00 AM".

Always in the practice's time zone (the agent sends `local_start` with the practice's offset,
and the zone's name for converting a chosen UTC start), never the server's or the browser's.
Spelled out by hand rather than with strftime's %p/%-I so the result does not depend on the
host's locale or C library.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def clock_time(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def long_date(day: date) -> str:
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def calendar_date(value: object) -> str:
    """ "2026-11-23" -> "November 23, 2026" (a date on file or asked on a form: no weekday,
    which belongs to a day someone comes in); empty when there is no date."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day:%B} {day.day}, {day.year}"


def when(moment: datetime) -> str:
    return f"{long_date(moment)} at {clock_time(moment)}"


def parse_instant(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def in_zone(moment: datetime, zone: str | None) -> datetime:
    if zone:
        try:
            return moment.astimezone(ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return moment


def local_when(value: str, zone: str | None = None) -> str:
    """`local_start` (already in the practice's offset), or a UTC `start` plus the zone name."""
    moment = parse_instant(value)
    if moment is None:
        return value
    return when(in_zone(moment, zone))


def slot_time(local_hhmm: str) -> str:
    """The agent's `local_time` ("14:30") as "2:30 PM"."""
    try:
        return clock_time(datetime.strptime(local_hhmm, "%H:%M"))
    except ValueError:
        return local_hhmm


def day_label(iso_day: str) -> str:
    try:
        return long_date(date.fromisoformat(iso_day))
    except ValueError:
        return iso_day


def zone_label(zone: str | None) -> str:
    """ "America/New_York" -> "New York"; shown as "All times are New York time." """
    if not zone:
        return "the office's local"
    return zone.rsplit("/", 1)[-1].replace("_", " ")
