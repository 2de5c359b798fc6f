"""Locks and the rows the OpenEMR store writes: a calendar row per booking, a status per
cancellation, and optionally a note to the provider (README of issue 13, section 3).

What Portico writes in OpenEMR is deliberately small: `openemr_postcalendar_events` rows for
bookings, every column as OpenEMR's own calendar writes a patient appointment (so it shows in
OpenEMR's calendar and finders like a staff-made one), `pc_apptstatus` updates for cancels
(never a DELETE: the row is the practice's record of the request), and `pnotes` rows when
`openemr.notify_provider` is on.

Race-freedom (item 5): Portico's bookings serialise on named locks (locks.py) taken in the
Protocol's order. OpenEMR's own screens take no lock at all, so after the INSERT the provider's
rows are read again (READ COMMITTED: the statement sees what others committed meanwhile) and
the slot recomputed without the new row; if something now overlaps, :class:`SlotTaken` makes
the booking service roll back and answer "no longer available".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import structlog

from agent.clock import Clock
from agent.openemr.calendar import (
    IN_OFFICE,
    CalendarEvent,
    CalendarRules,
    provider_schedules,
    slot_inputs,
    wall_clock_to_utc,
)
from agent.openemr.queries import calendar_events, practice_calendar_settings
from agent.openemr.recurrence import occurrences, recurrence_rule
from agent.openemr.store import locks
from agent.openemr.store.settings import OpenEMRSettings
from agent.openemr.tables import Tables
from agent.store.base import SlotTaken, Tx

if TYPE_CHECKING:
    from agent.store.base import Appointment, Provider

log = structlog.get_logger("portico.openemr")

# The staff dialog's "no repeat" spec, 6 keys (README 6.2; add_edit_event.php:449-456).
NO_REPEAT_SPEC = (
    'a:6:{s:17:"event_repeat_freq";s:1:"0";s:22:"event_repeat_freq_type";s:1:"0";'
    's:19:"event_repeat_on_num";s:1:"1";s:19:"event_repeat_on_day";s:1:"0";'
    's:20:"event_repeat_on_freq";s:1:"0";s:6:"exdate";s:0:"";}'
)
# The empty address both of OpenEMR's dialogs serialize into pc_location.
EMPTY_LOCATION = (
    'a:6:{s:14:"event_location";s:0:"";s:13:"event_street1";s:0:"";'
    's:13:"event_street2";s:0:"";s:10:"event_city";s:0:"";s:11:"event_state";s:0:"";'
    's:12:"event_postal";s:0:"";}'
)
# What OpenEMR's portal puts in pnotes (portal/add_edit_event_user.php, library/pnotes.inc.php):
# the portal session's user, the title, the status of a new message.
NOTE_USER = "portal-user"
NOTE_TITLE = "Patient Reminders"
NOTE_STATUS = "New"


def practice_database(tables: Tables) -> str:
    """The practice database's name, from a qualified table name (`db`.`table`: the table
    part holds no dot, so the last dot separates them)."""
    quoted = tables.events.rsplit(".", 1)[0]
    return quoted[1:-1].replace("``", "`")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def _wall_clock(moment: datetime, zone: ZoneInfo) -> datetime:
    """An aware instant as naive local wall clock in `zone`, to the second."""
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _seconds(value: timedelta) -> int:
    return int(value.total_seconds())


class OpenEMRChanges:
    """The booking changes of :class:`agent.openemr.store.OpenEMRStore`."""

    settings: OpenEMRSettings
    tables: Tables
    clock: Clock
    # Test hook: called between the service's availability check and the INSERT, with the
    # transaction's cursor (a test commits a conflicting row there, as OpenEMR's UI could).
    before_insert: Callable[[Tx], None] | None = None
    # Seconds a change waits for another booking's lock before refusing as busy.
    lock_wait_seconds: int = locks.WAIT_SECONDS

    if TYPE_CHECKING:  # the booking reads, from schedule.py

        def providers(
            self, tx: Tx, type_id: int | None = None, provider_id: int | None = None
        ) -> list[Provider]: ...

        def appointment(
            self, tx: Tx, appointment_id: int, patient_id: int
        ) -> Appointment | None: ...

    # -- locks

    def _lock(self, tx: Tx, kind: str, key: int) -> None:
        name = locks.lock_name(practice_database(self.tables), kind, str(key))
        locks.take(tx, name, self.lock_wait_seconds)

    def lock_patient(self, tx: Tx, patient_id: int) -> bool:
        self._lock(tx, "patient", patient_id)
        tx.execute(f"SELECT pid FROM {self.tables.patient_data} WHERE pid = %s", (patient_id,))
        return tx.fetchone() is not None

    def lock_appointment(self, tx: Tx, appointment_id: int, patient_id: int) -> Appointment | None:
        # Whose it is first: someone else's appointment answers at once, as a missing one
        # does, never after waiting for its owner's lock. Then held, and read again.
        if self.appointment(tx, appointment_id, patient_id) is None:
            return None
        self._lock(tx, "appointment", appointment_id)
        return self.appointment(tx, appointment_id, patient_id)

    def lock_providers(self, tx: Tx, type_id: int, provider_id: int | None) -> list[Provider]:
        providers = self.providers(tx, type_id, provider_id)
        for provider in sorted(providers, key=lambda p: p.id):
            self._lock(tx, "provider", provider.id)
        return providers

    # -- the booking row

    def insert_appointment(
        self, tx: Tx, patient_id: int, provider_id: int, type_id: int, start: int, duration: int
    ) -> int:
        zone = self.settings.zone
        begins = datetime.fromtimestamp(start * 60, UTC)
        ends = begins + timedelta(minutes=duration)
        local_start, local_end = _wall_clock(begins, zone), _wall_clock(ends, zone)
        day = local_start.date()
        if wall_clock_to_utc(day, _seconds(local_start - _midnight(day)), zone) != begins:
            # The second 01:30 of a fall-back night: OpenEMR's naive times cannot say which,
            # and every reader (Portico's included) takes the first.
            raise SlotTaken
        if self.before_insert is not None:
            self.before_insert(tx)
        t = self.tables
        tx.execute(f"SELECT pc_catname FROM {t.categories} WHERE pc_catid = %s", (type_id,))
        category = tx.fetchone()
        facility = self._facility(tx, provider_id, day, local_start)
        tx.execute(
            f"INSERT INTO {t.events} (pc_catid, pc_multiple, pc_aid, pc_pid, pc_gid, pc_title,"
            " pc_time, pc_hometext, pc_informant, pc_eventDate, pc_endDate, pc_duration,"
            " pc_recurrtype, pc_recurrspec, pc_recurrfreq, pc_startTime, pc_endTime,"
            " pc_alldayevent, pc_location, pc_eventstatus, pc_sharing, pc_apptstatus,"
            " pc_prefcatid, pc_facility, pc_billing_location, pc_room, uuid)"
            " VALUES (%s, 0, %s, %s, 0, %s, %s, '', NULL, %s, NULL, %s, 0, %s, 0, %s, %s,"
            " 0, %s, 1, 1, %s, 0, %s, %s, '', %s)",
            (
                type_id,
                str(provider_id),
                str(patient_id),
                (category or {}).get("pc_catname") or "",
                _wall_clock(self.clock.now(), zone),
                day,
                duration * 60,
                NO_REPEAT_SPEC,
                local_start.time(),
                local_end.time(),
                EMPTY_LOCATION,
                self.settings.booking_status,
                facility,
                facility,
                uuid.uuid4().bytes,
            ),
        )
        eid = int(tx.lastrowid)
        if not self._still_free(tx, eid, provider_id, type_id, start, start + duration):
            log.info("openemr.booking_recheck_conflict")
            raise SlotTaken
        if self.settings.notify_provider:
            self._note(tx, "A New Appointment", patient_id, provider_id, local_start, "Booked")
        return eid

    def _facility(self, tx: Tx, provider_id: int, day: date, at: datetime) -> int:
        """The facility of the provider's In Office row that day (the latest one opening at or
        before `at`, else the first), else the provider's own `users.facility_id`: a row with
        facility 0 is hidden from calendar views filtered by facility (README 3)."""
        rows = calendar_events(tx, [str(provider_id)], day, day, tables=self.tables)
        settings = practice_calendar_settings(tx, tables=self.tables)
        opening: list[tuple[timedelta, int]] = []
        for event in rows.events:
            if event.category != IN_OFFICE or event.provider != str(provider_id):
                continue
            if event.start_time is not None and _occurs(event, day, settings.weekend):
                opening.append((event.start_time, event.eid))
        if opening:
            opening.sort()
            since_midnight = at - _midnight(day)
            earlier = [eid for starts, eid in opening if starts <= since_midnight]
            eid = earlier[-1] if earlier else opening[0][1]
            tx.execute(f"SELECT pc_facility FROM {self.tables.events} WHERE pc_eid = %s", (eid,))
            row = tx.fetchone()
            if row and row["pc_facility"]:
                return int(row["pc_facility"])
        tx.execute(f"SELECT facility_id FROM {self.tables.users} WHERE id = %s", (provider_id,))
        user = tx.fetchone()
        return int(user["facility_id"]) if user and user["facility_id"] else 0

    def _still_free(
        self, tx: Tx, eid: int, provider_id: int, type_id: int, start: int, end: int
    ) -> bool:
        """Whether [start, end) is still free for the provider, from the rows committed now
        (and this transaction's own), the new row `eid` left out: the same rules the slot
        offer used (calendar.py, then provider_slots' view of busy minutes)."""
        zone = self.settings.zone
        first_day = datetime.fromtimestamp(start * 60, UTC).astimezone(zone).date()
        last_day = datetime.fromtimestamp((end - 1) * 60, UTC).astimezone(zone).date()
        globals_ = practice_calendar_settings(tx, tables=self.tables)
        rows = calendar_events(tx, [str(provider_id)], first_day, last_day, tables=self.tables)
        schedules = provider_schedules(
            (event for event in rows.events if event.eid != eid),
            providers=[str(provider_id)],
            category=type_id,
            first_day=first_day,
            last_day=last_day,
            rules=CalendarRules(
                zone=zone,
                weekend=globals_.weekend,
                frees_slot=self.settings.frees_slot,
                slot_seconds=globals_.slot_minutes * 60,
                clinic_wide_blocks=self.settings.clinic_wide_blocks,
            ),
        )
        busy = slot_inputs(schedules.by_provider[str(provider_id)]).busy
        return not any(b_start < end and start < b_end for b_start, b_end in busy)

    # -- cancel

    def cancel_appointment(self, tx: Tx, appointment_id: int, now: int, *, late: bool) -> None:
        # An UPDATE of the status, as OpenEMR's portal cancels; the row stays.
        status = self.settings.late_cancel_status if late else self.settings.cancel_status
        t = self.tables
        tx.execute(
            f"UPDATE {t.events} SET pc_apptstatus = %s WHERE pc_eid = %s",
            (status, appointment_id),
        )
        if not self.settings.notify_provider:
            return
        tx.execute(
            f"SELECT pc_aid, pc_pid, pc_eventDate, pc_startTime FROM {t.events} WHERE pc_eid = %s",
            (appointment_id,),
        )
        row = tx.fetchone()
        if row and str(row["pc_aid"]).isdigit() and str(row["pc_pid"]).isdigit():
            when = _midnight(row["pc_eventDate"]) + row["pc_startTime"]
            self._note(
                tx,
                "An Updated Appointment",
                int(row["pc_pid"]),
                int(row["pc_aid"]),
                when,
                "Cancelled",
            )

    # -- the note to the provider

    def _note(
        self, tx: Tx, kind: str, patient_id: int, provider_id: int, when: datetime, what: str
    ) -> None:
        """A `pnotes` message to the provider, as OpenEMR's portal leaves one for each
        appointment request (addPnote): the same title, status, sender and wording, naming
        the patient as OpenEMR's note does. It stays in the practice's own database; nothing
        of it is logged."""
        t = self.tables
        tx.execute(f"SELECT username FROM {t.users} WHERE id = %s", (provider_id,))
        user = tx.fetchone()
        tx.execute(f"SELECT fname, lname FROM {t.patient_data} WHERE pid = %s", (patient_id,))
        patient = tx.fetchone() or {}
        username = (user or {}).get("username") or ""
        now = _wall_clock(self.clock.now(), self.settings.zone)
        name = " ".join(p for p in (patient.get("fname"), patient.get("lname")) if p)
        header = f"{now:%Y-%m-%d %H:%M} ({NOTE_USER}" + (f" to {username}" if username else "")
        body = (
            f"{header}) {kind} request was received from portal patient {name}"
            f" regarding appointment dated {when:%Y-%m-%d %H:%M:%S}."
            f" {what} online through Portico."
        )
        tx.execute(
            f"INSERT INTO {t.pnotes} (date, body, pid, user, groupname, authorized, activity,"
            " title, assigned_to, deleted, message_status, portal_relation, is_msg_encrypted,"
            " update_by, update_date)"
            " VALUES (%s, %s, %s, %s, NULL, 1, 1, %s, %s, 0, %s, NULL, 0, NULL, %s)",
            (now, body, patient_id, NOTE_USER, NOTE_TITLE, username, NOTE_STATUS, now),
        )


def _occurs(event: CalendarEvent, day: date, weekend: tuple[int, ...]) -> bool:
    """Whether the row has an occurrence on `day` (an unreadable recurrence has none)."""
    try:
        rule = recurrence_rule(event.recurrence_type, event.recurrence_spec)
        return day in occurrences(rule, event.event_date, event.end_date, day, day, weekend)
    except (ValueError, OverflowError):
        return False
