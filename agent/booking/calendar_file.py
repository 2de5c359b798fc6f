"""An appointment as an iCalendar file (RFC 5545), made with the `icalendar` library.

Pure: values in, the file's text out; who the appointment is and which UID and SEQUENCE it has
come from agent/booking/confirmations.py. Written with a library, not by hand, because the
details hand-written files get wrong are its job: line folding at 75 octets, escaping of
commas and semicolons in names, CRLF, and above all the time zone. The start and end carry
``TZID=<practice zone>`` with the zone's own VTIMEZONE (its DST rules from zoneinfo) in the
file, so a calendar on a phone set to another zone, or one whose own zone data is old, still
puts a 10:00 appointment on the day after a DST change at 10:00 in the practice.

What the event says is :class:`EventWords` (agent/booking/confirmations.py picks them by
``email.appointment_details``): there is no field for a reason, diagnosis or note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText

PRODID = "-//Portico//Patient portal//EN"
# REQUEST: booked (a new event, or a new time for the same UID); CANCEL: remove it (RFC 5546).
Method = Literal["REQUEST", "CANCEL", "PUBLISH"]
# The VTIMEZONE covers this much around the appointment: enough for any calendar to place it,
# without the zone's whole history (which would make the file long for nothing).
_ZONE_MARGIN = timedelta(days=400)


@dataclass(frozen=True, slots=True)
class EventWords:
    """What the calendar event says: its title, description and location."""

    summary: str
    description: str
    location: str


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One appointment as its calendar event: the UID it keeps for life, the SEQUENCE that
    goes up with every change, and its time (aware datetimes)."""

    uid: str
    sequence: int
    start: datetime
    end: datetime
    cancelled: bool
    words: EventWords


@dataclass(frozen=True, slots=True)
class Organizer:
    """Who sends the invitation (RFC 5546 wants an ORGANIZER on REQUEST and CANCEL): the
    practice, by name and the portal's sender address."""

    name: str
    address: str


def calendar_uid(appointment_id: int, subdomain: str) -> str:
    """The UID of an appointment first booked with id ``appointment_id``: unique across
    offices (the subdomain) and saying nothing about the patient."""
    return f"{appointment_id}@{subdomain}.portico"


def method_of(cancelled: bool, *, invitation: bool) -> Method:
    """The iTIP METHOD of a file; a mail's Content-Type names the same one."""
    return "PUBLISH" if not invitation else "CANCEL" if cancelled else "REQUEST"


def calendar_file(
    entry: CalendarEntry,
    *,
    zone: ZoneInfo,
    stamp: datetime,
    organizer: Organizer | None = None,
    attendee: str | None = None,
) -> str:
    """The .ics text for ``entry``, times in ``zone`` with its VTIMEZONE; ``stamp`` is DTSTAMP
    (when this file was made).

    Mailed to the patient (``organizer`` and ``attendee`` given): METHOD:REQUEST while booked,
    METHOD:CANCEL with STATUS:CANCELLED once cancelled, the patient as an attendee who has
    already accepted and is asked for no reply (declining in a calendar cancels nothing: the
    office never reads such replies). Downloaded ("Add to calendar": neither given):
    METHOD:PUBLISH, a copy of the event with no one invited (RFC 5546)."""
    invitation = organizer is not None and attendee is not None
    method = method_of(entry.cancelled, invitation=invitation)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    start, end = entry.start.astimezone(zone), entry.end.astimezone(zone)
    # Before the event, so a reader that resolves TZIDs in one pass (Outlook) knows the zone.
    calendar.add_component(_zone(zone, start.date(), end.date()))
    event = Event()
    event.add("uid", entry.uid)
    event.add("sequence", entry.sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", entry.words.summary)
    event.add("description", entry.words.description)
    event.add("location", entry.words.location)
    event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if organizer is not None and attendee is not None:
        who = vCalAddress(f"mailto:{organizer.address}")
        who.params["cn"] = vText(organizer.name)
        event.add("organizer", who)
        guest = vCalAddress(f"mailto:{attendee}")
        guest.params["role"] = vText("REQ-PARTICIPANT")
        guest.params["partstat"] = vText("ACCEPTED")
        guest.params["rsvp"] = vText("FALSE")
        event.add("attendee", guest)
    calendar.add_component(event)
    return str(calendar.to_ical().decode("utf-8"))


def _zone(zone: ZoneInfo, first: date, last: date) -> Timezone:
    component = Timezone.from_tzinfo(
        zone, tzid=zone.key, first_date=first - _ZONE_MARGIN, last_date=last + _ZONE_MARGIN
    )
    return component


def file_name(start: datetime, zone: ZoneInfo) -> str:
    """``appointment-2026-11-25.ics``: the local day, nothing about the patient."""
    return f"appointment-{start.astimezone(zone).date().isoformat()}.ics"
