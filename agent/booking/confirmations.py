"""Appointment emails and calendar files: what a booking change queues, and the download.

Each booking, reschedule and cancellation a patient makes in the portal queues an email with
the appointment's .ics (agent/booking/calendar_file.py) through the outbox, with the cursor of
the change's own transaction: the change and its email commit together or not at all, and an
idempotent replay (which runs no transaction) sends nothing twice.

The calendar identity is durable, in ``portal_appointment_calendar``: a reschedule books a new
row in the practice system (service.py), and the patient's calendar must still update the one
event, so the new id inherits the old one's UID with SEQUENCE + 1; a cancellation raises the
SEQUENCE again. An appointment with no row (booked by staff, or before this table) has the
UID of its own id and SEQUENCE 0.

What the email and the event say is ``email.appointment_details``: ``date_time`` (the time,
and "Appointment at <practice>") or ``with_provider`` (adds the provider's and the type's
names). The appointment is read through the store (:class:`Appointment`), which has no reason
or note field; nothing else about the visit is read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from agent.booking.calendar_file import (
    CalendarEntry,
    EventWords,
    Organizer,
    calendar_file,
    calendar_uid,
    file_name,
    method_of,
)
from agent.booking.slots import from_minute
from agent.mail.emails import AppointmentWords, Attachment, MailTemplates
from agent.mail.outbox import enqueue
from agent.mail.recipients import patient_recipient
from agent.store.base import Appointment, Lookups, Tx

Details = Literal["date_time", "with_provider"]
Change = Literal["booked", "moved", "cancelled"]


@dataclass(frozen=True, slots=True)
class CalendarSettings:
    """The office's side of every calendar file and appointment email."""

    practice_name: str
    practice_phone: str
    subdomain: str
    zone: ZoneInfo
    from_address: str
    portal_url: str
    details: Details = "date_time"


def when_words(start: datetime, zone: ZoneInfo) -> str:
    """'Wednesday, November 25, 2026 at 10:00 AM EST': the practice's wall clock, with the
    zone's abbreviation of that day, so a patient elsewhere knows whose time it is."""
    local = start.astimezone(zone)
    hour = local.hour % 12 or 12
    half = "AM" if local.hour < 12 else "PM"
    return (
        f"{local:%A}, {local:%B} {local.day}, {local.year} at {hour}:{local.minute:02d} {half}"
        f" {local.tzname()}"
    )


class AppointmentCalendar:
    """Calendar files and appointment emails for one office (built by agent/wiring.py)."""

    def __init__(
        self, settings: CalendarSettings, templates: MailTemplates, lookups: Lookups
    ) -> None:
        self.settings = settings
        self._templates = templates
        self._lookups = lookups

    # -- durable identity ------------------------------------------------------------------

    def identity(self, tx: Tx, appointment_id: int) -> tuple[str, int]:
        """(UID, SEQUENCE) of the appointment's calendar event as last sent."""
        tx.execute(
            "SELECT uid, sequence FROM portal_appointment_calendar WHERE appointment_id = %s",
            (appointment_id,),
        )
        row = tx.fetchone()
        if row is None:
            return calendar_uid(appointment_id, self.settings.subdomain), 0
        return str(row["uid"]), int(row["sequence"])

    def _record(self, tx: Tx, appointment_id: int, uid: str, sequence: int, now: datetime) -> None:
        tx.execute(
            "INSERT INTO portal_appointment_calendar (appointment_id, uid, sequence, updated_at)"
            " VALUES (%s, %s, %s, %s)"
            " ON DUPLICATE KEY UPDATE uid = VALUES(uid), sequence = VALUES(sequence),"
            " updated_at = VALUES(updated_at)",
            (appointment_id, uid, sequence, now.astimezone(UTC).replace(tzinfo=None)),
        )

    # -- the change emails -------------------------------------------------------------------

    def changed(
        self,
        tx: Tx,
        change: Change,
        appointment: Appointment,
        now: datetime,
        *,
        replaced_id: int | None = None,
    ) -> bool:
        """Record the calendar identity of a change the patient just made (in its
        transaction) and queue the email; False when the patient has no address to send it
        to (no active account with portal access)."""
        if change == "booked":
            uid, sequence = self.identity(tx, appointment.id)
        else:
            uid, sequence = self.identity(tx, replaced_id or appointment.id)
            sequence += 1
        self._record(tx, appointment.id, uid, sequence, now)
        recipient = patient_recipient(tx, self._lookups, appointment.patient_id)
        if recipient is None:  # no active, enabled account: nobody to write to
            return False
        to, first_name = recipient.email, recipient.first_name
        method = method_of(appointment.status == "cancelled", invitation=True)
        attachment = Attachment(
            filename="appointment.ics",
            content_type=f"text/calendar; method={method}",
            text=self._file(appointment, uid, sequence, now, attendee=to),
        )
        render = {
            "booked": self._templates.appointment_booked,
            "moved": self._templates.appointment_moved,
            "cancelled": self._templates.appointment_cancelled,
        }[change]
        mail = render(
            to=to, first_name=first_name, appointment=self.words(appointment), calendar=attachment
        )
        enqueue(tx, mail, now=now)
        return True

    # -- the download ------------------------------------------------------------------------

    def download(self, tx: Tx, appointment: Appointment, now: datetime) -> dict[str, str]:
        """The .ics of one of the patient's appointments, with the UID and SEQUENCE last
        mailed (a download never raises the sequence: it changes nothing)."""
        uid, sequence = self.identity(tx, appointment.id)
        return {
            "filename": file_name(from_minute(appointment.start), self.settings.zone),
            "content_type": "text/calendar; charset=utf-8",
            "calendar": self._file(appointment, uid, sequence, now),
        }

    # -- what the file and the email say ------------------------------------------------------

    def words(self, appointment: Appointment) -> AppointmentWords:
        when = when_words(from_minute(appointment.start), self.settings.zone)
        if self.settings.details == "with_provider":
            return AppointmentWords(when, appointment.provider_name, appointment.type_name)
        return AppointmentWords(when)

    def event_words(self, appointment: Appointment) -> EventWords:
        s = self.settings
        contact = (
            f"To change or cancel it, sign in to the patient portal ({s.portal_url}) "
            f"or call {s.practice_phone}."
        )
        if s.details == "with_provider":
            summary = f"{appointment.type_name} with {appointment.provider_name}"
            description = (
                f"{appointment.type_name} with {appointment.provider_name} at "
                f"{s.practice_name}.\n{contact}"
            )
        else:
            summary = f"Appointment at {s.practice_name}"
            description = f"Your appointment at {s.practice_name}.\n{contact}"
        return EventWords(summary=summary, description=description, location=s.practice_name)

    def _file(
        self,
        appointment: Appointment,
        uid: str,
        sequence: int,
        now: datetime,
        attendee: str | None = None,
    ) -> str:
        entry = CalendarEntry(
            uid=uid,
            sequence=sequence,
            start=from_minute(appointment.start),
            end=from_minute(appointment.end),
            cancelled=appointment.status == "cancelled",
            words=self.event_words(appointment),
        )
        organizer = None
        if attendee is not None:  # mailed: an invitation from the office (else a download)
            organizer = Organizer(self.settings.practice_name, self.settings.from_address)
        return calendar_file(
            entry, zone=self.settings.zone, stamp=now, organizer=organizer, attendee=attendee
        )
