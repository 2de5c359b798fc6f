"""The read side of booking: what a patient may book, and their appointments as shown.

:class:`BookingReads` answers without changing anything (availability, the appointment list,
the view of one appointment); :mod:`agent.booking.service` adds the change transactions on top.
The rules themselves (which starts are offered) are the pure functions of slots.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agent import audit
from agent.booking.availability import SlotLabels, free_days
from agent.booking.confirmations import AppointmentCalendar
from agent.booking.slots import booking_window, from_minute, to_minute
from agent.caller import Caller
from agent.clock import Clock
from agent.errors import Refused
from agent.store.base import (
    Appointment,
    AppointmentType,
    HoursBlock,
    Interval,
    PracticeStore,
    Provider,
    Tx,
)
from protocol.errors import ErrorCode

DAY_MINUTES = 24 * 60
_SlotLabels = SlotLabels  # its name before it moved to availability.py (and in its test)


@dataclass(frozen=True, slots=True)
class BookingRules:
    enabled: bool = True
    horizon_days: int = 60
    min_notice_hours: int = 24
    cancel_cutoff_hours: int = 24
    allow_cancel_reschedule: bool = True
    round_to_minutes: int = 15
    allow_no_preference: bool = True
    late_cancel_fee_hours: int | None = None
    max_upcoming_per_patient: int | None = None


class BookingReads:
    """Everything booking answers without changing a row; BookingService adds the changes."""

    def __init__(
        self,
        store: PracticeStore,
        rules: BookingRules,
        tz: ZoneInfo,
        clock: Clock,
        phone: str = "",
        calendar: AppointmentCalendar | None = None,
    ) -> None:
        """``calendar``: the appointment emails and calendar files (None: no emails, and no
        calendar download; a test of the rules alone)."""
        self.store = store
        self.rules = rules
        self.tz = tz
        self.clock = clock
        self.phone = phone
        self.calendar = calendar

    # -- reads -------------------------------------------------------------------------------

    async def appointment_types(self) -> list[dict[str, Any]]:
        types = await self.store.transaction(self.store.appointment_types)
        return [{"id": t.id, "name": t.name, "duration_minutes": t.duration_minutes} for t in types]

    async def limit_reached(self, caller: Caller) -> bool:
        """The patient already has the most upcoming appointments the office allows online:
        said at the first booking step, not only by the refusal at the last one."""
        if self.rules.max_upcoming_per_patient is None:
            return False  # no cap: step 1 need not count anything in the database
        now = to_minute(self.clock.now())
        return bool(await self.store.transaction(self._at_cap, caller.patient_id, now))

    def _at_cap(self, tx: Tx, patient_id: int, now: int) -> bool:
        cap = self.rules.max_upcoming_per_patient
        return cap is not None and self.store.upcoming_count(tx, patient_id, now) >= cap

    async def providers(self, type_id: int | None) -> list[dict[str, Any]]:
        found = await self.store.transaction(self.store.providers, type_id)
        return [{"id": p.id, "name": p.name} for p in found]

    async def availability(
        self,
        caller: Caller,
        type_id: int,
        provider_id: int | None,
        first_day: date | None,
        days: int,
        moving: int | None = None,
    ) -> dict[str, Any]:
        """Free starts for this patient: the providers' free times minus the times the patient
        is already booked (`moving`: the appointment being rescheduled does not count)."""
        self._require_booking()
        if provider_id is None and not self.rules.allow_no_preference:
            raise Refused(ErrorCode.INVALID_PARAMS, "provider_id: please choose a provider")
        window = booking_window(
            self.clock.now(), self.rules.min_notice_hours, self.rules.horizon_days
        )
        today = from_minute(window.earliest).astimezone(self.tz).date()
        horizon_day = from_minute(window.latest).astimezone(self.tz).date()
        first_day = max(first_day or today, today)
        last_day = first_day + timedelta(days=days - 1)
        # The next page starts the day after this one, whatever this one held: a client
        # paging by the first day that had free times (and its own clock) skipped days.
        next_from = last_day + timedelta(days=1)
        start = to_minute(datetime.combine(first_day, datetime.min.time(), self.tz)) - DAY_MINUTES
        end = start + (days + 2) * DAY_MINUTES
        atype, providers, hours, busy, own = await self.store.transaction(
            self._availability_rows,
            caller.patient_id,
            moving,
            type_id,
            provider_id,
            (first_day, last_day),
            (start, end),
        )
        if atype is None:
            raise Refused(ErrorCode.NOT_FOUND, "That appointment type cannot be booked online.")
        if provider_id is not None and not providers:
            raise Refused(
                ErrorCode.NOT_FOUND, "That provider does not offer this appointment online."
            )
        days_free = free_days(
            providers=[p.id for p in providers],
            hours=hours,
            busy=busy,
            own=own,
            tz=self.tz,
            duration=atype.duration_minutes,
            step=self.rules.round_to_minutes,
            window=window,
            first_day=first_day,
            last_day=last_day,
            provider_id=provider_id,
        )
        return {
            "appointment_type_id": type_id,
            "provider_id": provider_id,
            "timezone": self.tz.key,
            "first_day": first_day.isoformat(),
            "last_day": last_day.isoformat(),
            "next_from": next_from.isoformat() if next_from <= horizon_day else None,
            "days": days_free,
        }

    async def list_appointments(self, caller: Caller) -> dict[str, Any]:
        now_moment = self.clock.now()

        def read(tx: Tx) -> list[Appointment]:
            # A PHI read: audited like every change.
            audit.by_patient(tx, caller, now=now_moment, action="appointments.read", outcome="ok")
            return self.store.patient_appointments(tx, caller.patient_id)

        rows = await self.store.transaction(read)
        now = to_minute(self.clock.now())
        upcoming = [r for r in rows if r.status == "booked" and r.start >= now]
        past = [r for r in rows if r.start < now]
        return {
            "upcoming": [self._view(r, now) for r in reversed(upcoming)],
            "past": [self._view(r, now) for r in past],
        }

    async def calendar_file(self, caller: Caller, appointment_id: int) -> dict[str, str]:
        """One of the patient's upcoming appointments as an .ics download. Someone else's
        appointment, a missing one and one no longer upcoming (past, cancelled, or replaced by a
        reschedule: its file would carry the live event's UID with an older state) get the same
        answer; either way the attempt is audited as a read."""
        now = self.clock.now()
        calendar = self.calendar

        def read(tx: Tx) -> dict[str, str] | None:
            row = self.store.appointment(tx, appointment_id, caller.patient_id)
            if row is not None and not (row.status == "booked" and row.start >= to_minute(now)):
                row = None  # only what the appointments page offers it for
            found = row is not None and calendar is not None
            audit.by_patient(
                tx,
                caller,
                now=now,
                action="appointments.calendar_file",
                outcome="ok" if found else ErrorCode.NOT_FOUND,
                detail=f"appointment:{appointment_id}",
            )
            if row is None or calendar is None:
                return None
            return calendar.download(tx, row, now)

        answer = await self.store.transaction(read)
        if answer is None:
            raise Refused(ErrorCode.NOT_FOUND, "That appointment was not found.")
        return answer

    # -- helpers -------------------------------------------------------------------------------

    def _require_booking(self) -> None:
        if not self.rules.enabled:
            raise Refused(
                ErrorCode.BOOKING_DISABLED,
                f"This office does not take bookings online. Please call{self._phone_suffix()}.",
            )

    def _inside_fee_window(self, start: int, now: int) -> bool:
        """A patient cancel now would be a late cancellation (seed 002's card-capture fee)."""
        fee_hours = self.rules.late_cancel_fee_hours
        return fee_hours is not None and start - now < fee_hours * 60

    def _phone_suffix(self) -> str:
        return f" {self.phone}" if self.phone else ""

    def _view(self, row: Appointment | None, now: int) -> dict[str, Any]:
        assert row is not None
        start = row.start
        can_change = (
            self.rules.allow_cancel_reschedule
            and row.status == "booked"
            and start - now >= self.rules.cancel_cutoff_hours * 60
        )
        return {
            "id": row.id,
            "start": _iso_utc(start),
            "end": _iso_utc(row.end),
            "local_start": from_minute(start).astimezone(self.tz).isoformat(),
            "status": row.status,
            "late_cancel": row.late_cancel,
            "provider": {"id": row.provider_id, "name": row.provider_name},
            "appointment_type": {
                "id": row.type_id,
                "name": row.type_name,
                "duration_minutes": row.duration_minutes,
            },
            "can_change": can_change,
            # Said before the patient confirms a cancel, not only after it.
            "cancel_fee_applies": can_change and self._inside_fee_window(start, now),
        }

    def _availability_rows(
        self,
        tx: Tx,
        patient_id: int,
        moving: int | None,
        type_id: int,
        provider_id: int | None,
        days: tuple[date, date],
        span: tuple[int, int],
    ) -> tuple[
        AppointmentType | None,
        list[Provider],
        dict[int, list[HoursBlock]],
        dict[int, list[Interval]],
        list[Interval],
    ]:
        """Everything availability needs, read in one transaction (one consistent view); the
        busy times are merged after it (free_days), not while the transaction is open."""
        store = self.store
        start, end = span
        atype = store.appointment_type(tx, type_id)
        providers = store.providers(tx, type_id, provider_id)
        ids = [p.id for p in providers]
        busy = store.busy_intervals(tx, ids, start, end)
        own = store.patient_busy(tx, patient_id, start, end, except_id=moving)
        return atype, providers, store.working_hours(tx, ids, *days, type_id), busy, own


def _iso_utc(minute: int) -> str:
    return from_minute(minute).strftime("%Y-%m-%dT%H:%M:%SZ")
