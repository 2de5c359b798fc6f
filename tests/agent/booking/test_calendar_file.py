"""The .ics of an appointment, on both sides of the US and EU DST changes of 2026: parsed back
with `icalendar`, it is at the right wall-clock time in the practice's zone, and the file's
own VTIMEZONE (not only the TZID name) puts it at the right instant. Expected times are
written out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from agent.booking.calendar_file import (
    CalendarEntry,
    EventWords,
    Organizer,
    calendar_file,
    calendar_uid,
    file_name,
)

STAMP = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
WORDS = EventWords("Appointment at Example, Family; Clinic", "Line one\nline two", "Example")

# (zone, the appointment's instant in UTC, its wall clock in the zone, as hand-written).
CASES = [
    # US spring forward, Sunday 2026-03-08 02:00 EST -> 03:00 EDT.
    ("America/New_York", datetime(2026, 3, 6, 15, 0), (2026, 3, 6, 10, 0), "EST"),
    ("America/New_York", datetime(2026, 3, 8, 6, 30), (2026, 3, 8, 1, 30), "EST"),
    ("America/New_York", datetime(2026, 3, 8, 13, 0), (2026, 3, 8, 9, 0), "EDT"),
    ("America/New_York", datetime(2026, 3, 9, 14, 0), (2026, 3, 9, 10, 0), "EDT"),
    # US fall back, Sunday 2026-11-01 02:00 EDT -> 01:00 EST.
    ("America/New_York", datetime(2026, 10, 30, 14, 0), (2026, 10, 30, 10, 0), "EDT"),
    ("America/New_York", datetime(2026, 11, 1, 4, 30), (2026, 11, 1, 0, 30), "EDT"),
    ("America/New_York", datetime(2026, 11, 1, 14, 0), (2026, 11, 1, 9, 0), "EST"),
    ("America/New_York", datetime(2026, 11, 2, 15, 0), (2026, 11, 2, 10, 0), "EST"),
    # EU spring forward, Sunday 2026-03-29 02:00 CET -> 03:00 CEST.
    ("Europe/Berlin", datetime(2026, 3, 27, 9, 0), (2026, 3, 27, 10, 0), "CET"),
    ("Europe/Berlin", datetime(2026, 3, 29, 0, 30), (2026, 3, 29, 1, 30), "CET"),
    ("Europe/Berlin", datetime(2026, 3, 29, 7, 0), (2026, 3, 29, 9, 0), "CEST"),
    ("Europe/Berlin", datetime(2026, 3, 30, 8, 0), (2026, 3, 30, 10, 0), "CEST"),
    # EU fall back, Sunday 2026-10-25 03:00 CEST -> 02:00 CET.
    ("Europe/Berlin", datetime(2026, 10, 23, 8, 0), (2026, 10, 23, 10, 0), "CEST"),
    ("Europe/Berlin", datetime(2026, 10, 24, 23, 30), (2026, 10, 25, 1, 30), "CEST"),
    ("Europe/Berlin", datetime(2026, 10, 25, 8, 0), (2026, 10, 25, 9, 0), "CET"),
    ("Europe/Berlin", datetime(2026, 10, 26, 9, 0), (2026, 10, 26, 10, 0), "CET"),
]


def _entry(start: datetime, *, cancelled: bool = False, sequence: int = 0) -> CalendarEntry:
    return CalendarEntry(
        uid=calendar_uid(41, "example-clinic"),
        sequence=sequence,
        start=start,
        end=start + timedelta(minutes=30),
        cancelled=cancelled,
        words=WORDS,
    )


@pytest.mark.parametrize(("zone_name", "utc", "wall", "abbreviation"), CASES)
def test_the_file_puts_the_appointment_at_the_practice_wall_clock(
    zone_name: str, utc: datetime, wall: tuple[int, int, int, int, int], abbreviation: str
) -> None:
    zone = ZoneInfo(zone_name)
    text = calendar_file(_entry(utc.replace(tzinfo=UTC)), zone=zone, stamp=STAMP)
    calendar = Calendar.from_ical(text)
    (event,) = calendar.events
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    # Written as the practice's wall clock with its zone's name, not in UTC.
    assert event["DTSTART"].params["TZID"] == zone_name
    assert f"DTSTART;TZID={zone_name}:{datetime(*wall):%Y%m%dT%H%M%S}" in text
    assert start.replace(tzinfo=None) == datetime(*wall)
    # Thirty real minutes, also across the change (01:30 CET + 30 min is 03:00 CEST).
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(minutes=30)
    # The file's own VTIMEZONE, not the reader's zone database, gives the right instant.
    (vtimezone,) = calendar.timezones
    assert vtimezone["TZID"] == zone_name
    own_rules = vtimezone.to_tz(lookup_tzid=False)
    placed = datetime(*wall, tzinfo=own_rules)
    assert placed.astimezone(UTC) == utc.replace(tzinfo=UTC)
    assert placed.tzname() == abbreviation
    # The zone comes before the event that uses it (Outlook reads in one pass).
    assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VEVENT")


def test_booked_is_a_request_and_cancelled_a_cancel_of_the_same_uid() -> None:
    zone = ZoneInfo("America/New_York")
    start = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    organizer = Organizer("Example, Family Clinic", "portal@example-clinic.com")
    booked = Calendar.from_ical(
        calendar_file(
            _entry(start), zone=zone, stamp=STAMP, organizer=organizer, attendee="a@x.org"
        )
    )
    cancelled = Calendar.from_ical(
        calendar_file(
            _entry(start, cancelled=True, sequence=2),
            zone=zone,
            stamp=STAMP,
            organizer=organizer,
            attendee="a@x.org",
        )
    )
    assert booked["METHOD"] == "REQUEST" and cancelled["METHOD"] == "CANCEL"
    (first,), (last,) = booked.events, cancelled.events
    assert first["UID"] == last["UID"] == "41@example-clinic.portico"
    assert (first["SEQUENCE"], last["SEQUENCE"]) == (0, 2)
    assert first["STATUS"] == "CONFIRMED" and last["STATUS"] == "CANCELLED"
    assert first.decoded("DTSTAMP") == STAMP
    assert str(first["ORGANIZER"]) == "mailto:portal@example-clinic.com"
    assert first["ORGANIZER"].params["CN"] == "Example, Family Clinic"
    assert str(first["ATTENDEE"]) == "mailto:a@x.org"
    # Already accepted, no reply asked: a "decline" in the patient's calendar would go to an
    # address nobody reads and cancel nothing.
    assert first["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert first["ATTENDEE"].params["RSVP"] == "FALSE"
    # Commas, semicolons and line breaks survive the escaping.
    assert str(first["SUMMARY"]) == WORDS.summary
    assert str(first["DESCRIPTION"]) == WORDS.description


def test_a_download_is_a_published_copy_inviting_no_one() -> None:
    """ "Add to calendar" (RFC 5546 PUBLISH): no ORGANIZER or ATTENDEE, so no client offers to
    reply, and never a CANCEL (only upcoming, booked appointments are downloaded)."""
    zone = ZoneInfo("America/New_York")
    start = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    published = Calendar.from_ical(calendar_file(_entry(start), zone=zone, stamp=STAMP))
    (event,) = published.events
    assert published["METHOD"] == "PUBLISH"
    assert "ORGANIZER" not in event and "ATTENDEE" not in event
    assert event["STATUS"] == "CONFIRMED"


def test_the_file_name_is_the_local_day_only() -> None:
    zone = ZoneInfo("America/New_York")
    # 01:30 UTC on the 26th is still the 25th in New York.
    assert (
        file_name(datetime(2026, 11, 26, 1, 30, tzinfo=UTC), zone) == "appointment-2026-11-25.ics"
    )
