"""Booking reads of the OpenEMR store: categories, providers, hours, busy time, a patient's
appointments.

Hours and busy time come from the pure calendar core (agent/openemr/calendar.py) over the rows
`calendar_events` reads, and go to the one slot function (agent/booking/slots.py) as every
store's do: `working_hours` gives each In..Out stretch as a dated block in wall-clock minutes
of its local day (rounded inwards), `busy_intervals` what blocks a provider in epoch minutes
(rounded outwards). A wall-clock block is what `provider_slots` turns into UTC per date, so a
day across a daylight-saving change is walked on its own wall grid there.

A patient's appointments are their single (`pc_recurrtype = 0`) rows whose `pc_pid` is exactly
`str(pid)`; `pc_eid` is the appointment id. What OpenEMR's status codes mean to a patient is
:func:`appointment_status`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from agent.booking.slots import from_minute, to_minute
from agent.openemr import people, queries
from agent.openemr.calendar import CalendarRules, Schedules, provider_schedules, wall_clock_to_utc
from agent.store.base import Appointment, AppointmentType, HoursBlock, Interval, Provider, Tx

if TYPE_CHECKING:
    from agent.clock import Clock
    from agent.openemr.store.settings import OpenEMRSettings
    from agent.openemr.store.tables import Tables

log = structlog.get_logger("portico.agent.openemr")

# Statuses of list `apptstat` (README 2.5) as a patient reads them. Cancelled: Canceled,
# Canceled < 24h (late) and Left w/o visit, as OpenEMR's FHIR mapping says (README 4).
CANCELLED_CODES = frozenset({"x", "%", "!"})
LATE_CANCEL_CODE = "%"
NO_SHOW_CODE = "?"
# Arrived, Arrived late, In exam room, Chart pulled, Checked out, Coding done: the visit
# happened (or is happening); the patient can no longer change it.
SEEN_CODES = frozenset({"@", "~", "<", "+", ">", "$"})


def appointment_status(code: str, settings: OpenEMRSettings) -> tuple[str, bool]:
    """(status, late_cancel) of a `pc_apptstatus`: cancelled (late for the late-cancel
    status), no_show, completed, or booked for every other code ('-', '^', '*', '#', the
    confirmations, a practice's own codes: the appointment still stands)."""
    if code in (settings.late_cancel_status, LATE_CANCEL_CODE):
        return "cancelled", True
    if code == settings.cancel_status or code in CANCELLED_CODES:
        return "cancelled", False
    if code == NO_SHOW_CODE:
        return "no_show", False
    if code in settings.frees_slot:  # a practice's own code that frees the slot: cancelled
        return "cancelled", False
    if code in SEEN_CODES:
        return "completed", False
    return "booked", False


def _local_minutes(local: datetime, day: date, *, up: bool) -> int:
    """Minutes of `day`'s wall clock at `local` (1440 for the midnight that ends it)."""
    if local.date() > day:
        return 24 * 60
    partial = up and (local.second or local.microsecond)
    return local.hour * 60 + local.minute + (1 if partial else 0)


class OpenEMRSchedule:
    """The booking reads of :class:`agent.openemr.store.OpenEMRStore`."""

    tables: Tables
    settings: OpenEMRSettings
    clock: Clock

    # -- types and providers

    def appointment_types(self, tx: Tx) -> list[AppointmentType]:
        types = [
            AppointmentType(c.id, c.name, c.minutes)
            for c in queries.appointment_categories(tx, tables=self.tables)
        ]
        return sorted(types, key=lambda t: (t.name, t.id))

    def appointment_type(self, tx: Tx, type_id: int) -> AppointmentType | None:
        # The bookable categories are few (a practice's visit kinds): no query of its own.
        return next((t for t in self.appointment_types(tx) if t.id == type_id), None)

    def providers(
        self, tx: Tx, type_id: int | None = None, provider_id: int | None = None
    ) -> list[Provider]:
        """Every working provider offers every bookable category: OpenEMR has no table saying
        who sees which (an In Office row reserved for another category closes its hours,
        which working_hours applies)."""
        if type_id is not None and self.appointment_type(tx, type_id) is None:
            return []
        today = self.clock.now().astimezone(self.settings.zone).date()
        found = queries.providers(tx, scheduled_from=today, tables=self.tables)
        return sorted(
            (Provider(p.id, p.name) for p in found if provider_id in (None, p.id)),
            key=lambda p: p.id,
        )

    # -- time

    def _rules(self, tx: Tx) -> CalendarRules:
        calendar = queries.practice_calendar_settings(tx, tables=self.tables)
        s = self.settings
        return CalendarRules(
            zone=s.zone,
            weekend=calendar.weekend,
            frees_slot=s.frees_slot,
            slot_seconds=calendar.slot_minutes * 60,
            clinic_wide_blocks=s.clinic_wide_blocks,
        )

    def _schedules(
        self, tx: Tx, provider_ids: Sequence[int], first_day: date, last_day: date, category: int
    ) -> Schedules:
        keys = [str(p) for p in provider_ids]
        rows = queries.calendar_events(tx, keys, first_day, last_day, tables=self.tables)
        schedules = provider_schedules(
            rows.events,
            providers=keys,
            category=category,
            first_day=first_day,
            last_day=last_day,
            rules=self._rules(tx),
        )
        skipped = len(rows.unreadable) + len(schedules.skipped)
        if skipped:
            # Counted, never shown to a patient: such a row opens and blocks nothing.
            log.warning("openemr_calendar_rows_skipped", count=skipped)
        return schedules

    def working_hours(
        self,
        tx: Tx,
        provider_ids: Sequence[int],
        first_day: date,
        last_day: date,
        type_id: int | None = None,
    ) -> dict[int, list[HoursBlock]]:
        """Dated blocks, one per In..Out stretch of a local day. Without `type_id`, an In
        Office row reserved for a category opens nothing (no category is 0)."""
        hours: dict[int, list[HoursBlock]] = defaultdict(list)
        if not provider_ids or last_day < first_day:
            return hours
        zone = self.settings.zone
        schedules = self._schedules(tx, provider_ids, first_day, last_day, type_id or 0)
        for provider in provider_ids:
            for start, end in schedules.by_provider[str(provider)].working:
                # calendar.py merges stretches that meet at midnight: cut them per day again.
                day = start.astimezone(zone).date()
                while start < end:
                    midnight = wall_clock_to_utc(day + timedelta(days=1), 0, zone)
                    stop = min(end, midnight)
                    block = HoursBlock(
                        day.weekday(),
                        _local_minutes(start.astimezone(zone), day, up=True),
                        _local_minutes(stop.astimezone(zone), day, up=False),
                        on=day,
                    )
                    if block.start < block.end:
                        hours[provider].append(block)
                    start, day = stop, day + timedelta(days=1)
        return hours

    def busy_intervals(
        self, tx: Tx, provider_ids: Sequence[int], start: int, end: int
    ) -> dict[int, list[Interval]]:
        busy: dict[int, list[Interval]] = defaultdict(list)
        if not provider_ids or end <= start:
            return busy
        zone = self.settings.zone
        first_day = from_minute(start).astimezone(zone).date()
        last_day = from_minute(end - 1).astimezone(zone).date()
        # Busy time does not depend on the category (only In Office rows do).
        schedules = self._schedules(tx, provider_ids, first_day, last_day, 0)
        for provider in provider_ids:
            for busy_start, busy_end in schedules.by_provider[str(provider)].busy:
                # Outwards: a row ending 09:14:30 keeps 09:14 busy.
                low = math.floor(busy_start.timestamp() / 60)
                high = math.ceil(busy_end.timestamp() / 60)
                if low < end and high > start:
                    busy[provider].append((low, high))
        return busy

    # -- a patient's appointments

    def _appointment(self, pid: int, row: people.PatientAppointment) -> Appointment:
        begins = wall_clock_to_utc(row.day, int(row.start.total_seconds()), self.settings.zone)
        status, late = appointment_status(row.status, self.settings)
        start = to_minute(begins)
        aid = people.exact_id(row.provider_id)  # users.id as OpenEMR writes it, or None
        return Appointment(
            id=row.id,
            patient_id=pid,
            provider_id=aid or 0,
            provider_name=row.provider_name or "",
            type_id=row.category_id,
            type_name=row.category_name,
            # The row's own length: staff may have changed the category's default since.
            duration_minutes=row.minutes,
            start=start,
            end=start + row.minutes,
            status=status,
            late_cancel=late,
        )

    def _booked_between(self, tx: Tx, pid: int, start: int, end: int | None) -> list[Appointment]:
        """The patient's booked appointments that may overlap [start, end) (end None: open)."""
        zone = self.settings.zone
        since = from_minute(start).astimezone(zone).date() - timedelta(days=1)
        until = None if end is None else from_minute(end).astimezone(zone).date()
        rows = people.patient_appointments(tx, pid, since, tables=self.tables, until=until)
        found = [self._appointment(pid, row) for row in rows]
        return [a for a in found if a.status == "booked"]

    def patient_busy(
        self, tx: Tx, patient_id: int, start: int, end: int, except_id: int | None = None
    ) -> list[Interval]:
        return [
            (a.start, a.end)
            for a in self._booked_between(tx, patient_id, start, end)
            if a.id != except_id and a.start < end and a.end > start
        ]

    def upcoming_count(self, tx: Tx, patient_id: int, now: int) -> int:
        return sum(1 for a in self._booked_between(tx, patient_id, now, None) if a.start >= now)

    def appointments_per_provider(
        self, tx: Tx, provider_ids: Sequence[int], start: int, end: int
    ) -> dict[int, int]:
        """Booked single patient rows (as a patient's appointments are) starting in
        [start, end), per provider."""
        counts: dict[int, int] = {}
        if not provider_ids or end <= start:
            return counts
        zone = self.settings.zone
        keys = {str(p): p for p in provider_ids}
        tx.execute(
            "SELECT pc_aid, pc_pid, pc_eventDate, pc_startTime, pc_apptstatus"
            f" FROM {self.tables.events}"
            # The date bounds the scan (index pc_eventDate); pc_aid has no index of its own.
            f" WHERE pc_aid IN ({', '.join(['%s'] * len(keys))})"
            " AND pc_eventDate BETWEEN %s AND %s AND pc_recurrtype = 0"
            " AND pc_startTime IS NOT NULL AND pc_pid <> ''",
            [
                *keys,
                from_minute(start).astimezone(zone).date(),
                from_minute(end - 1).astimezone(zone).date(),
            ],
        )
        for row in tx.fetchall():
            provider, day, at = keys.get(row["pc_aid"]), row["pc_eventDate"], row["pc_startTime"]
            # Exact text (the collation matches '7 ' to '7'); a zero-in-date day is no row.
            if provider is None or not isinstance(day, date):
                continue
            if people.exact_id(row["pc_pid"]) is None:
                continue
            if appointment_status(row["pc_apptstatus"] or "", self.settings)[0] != "booked":
                continue
            begins = to_minute(wall_clock_to_utc(day, int(at.total_seconds()), zone))
            if start <= begins < end:
                counts[provider] = counts.get(provider, 0) + 1
        return counts

    def patient_appointments(self, tx: Tx, patient_id: int) -> list[Appointment]:
        rows = people.patient_appointments(
            tx, patient_id, None, tables=self.tables, newest_first=True
        )
        return [self._appointment(patient_id, row) for row in rows]

    def appointment(self, tx: Tx, appointment_id: int, patient_id: int) -> Appointment | None:
        row = people.patient_appointment(tx, patient_id, appointment_id, tables=self.tables)
        return None if row is None else self._appointment(patient_id, row)
