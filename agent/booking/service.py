"""Booking, cancelling and rescheduling with the office's rules, one transaction each.

The rules themselves (which starts are offered) are the pure functions of slots.py; this
module owns the transactions around them. A booking locks the patient row, then the candidate
providers' rows in id order, and re-checks the slot under those locks, so concurrent requests
for one slot (or overlapping ones) yield exactly one appointment.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agent import audit, idempotency
from agent.booking import queries as q
from agent.booking.slots import (
    booking_window,
    choose_provider,
    from_minute,
    merge_intervals,
    provider_slots,
    to_minute,
)
from agent.clock import Clock
from agent.db import Database
from protocol.aio import LinkError
from protocol.errors import ErrorCode

DAY_MINUTES = 24 * 60


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


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: the patient the session belongs to, and from where (for the audit)."""

    patient_id: int
    client_ip: str | None = None
    account_id: int | None = None

    @property
    def actor(self) -> str:
        return f"patient:{self.patient_id}"


class BookingService:
    def __init__(
        self, db: Database, rules: BookingRules, tz: ZoneInfo, clock: Clock, phone: str = ""
    ) -> None:
        self.db = db
        self.rules = rules
        self.tz = tz
        self.clock = clock
        self.phone = phone

    # -- reads -------------------------------------------------------------------------------

    async def appointment_types(self) -> list[dict[str, Any]]:
        return await self.db.transaction(q.appointment_types)

    async def limit_reached(self, caller: Caller) -> bool:
        """The patient already has the most upcoming appointments the office allows online:
        said at the first booking step, not only by the refusal at the last one."""
        now = to_minute(self.clock.now())
        return bool(await self.db.transaction(self._at_cap, caller.patient_id, now))

    def _at_cap(self, cursor: Any, patient_id: int, now: int) -> bool:
        cap = self.rules.max_upcoming_per_patient
        return cap is not None and q.upcoming_count(cursor, patient_id, now) >= cap

    async def providers(self, type_id: int | None) -> list[dict[str, Any]]:
        rows = await self.db.transaction(q.providers, type_id)
        return [{"id": r["id"], "name": r["display_name"]} for r in rows]

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
            raise LinkError(ErrorCode.INVALID_PARAMS, "provider_id: please choose a provider")
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
        atype, providers, hours, busy = await self.db.transaction(
            _availability_rows, caller.patient_id, moving, type_id, provider_id, start, end
        )
        if atype is None:
            raise LinkError(ErrorCode.NOT_FOUND, "That appointment type cannot be booked online.")
        if provider_id is not None and not providers:
            raise LinkError(
                ErrorCode.NOT_FOUND, "That provider does not offer this appointment online."
            )
        free: dict[int, list[int]] = {}
        for provider in providers:
            for minute in provider_slots(
                hours=hours.get(provider["id"], []),
                busy=busy.get(provider["id"], []),
                tz=self.tz,
                duration=atype["duration_minutes"],
                step=self.rules.round_to_minutes,
                window=window,
                first_day=first_day,
                last_day=last_day,
            ):
                free.setdefault(minute, []).append(provider["id"])
        by_day: dict[str, list[dict[str, Any]]] = {}
        label = _SlotLabels(self.tz)
        for minute in sorted(free):
            local_day, local_time = label.local(minute)
            slot: dict[str, Any] = {"start": label.utc(minute), "local_time": local_time}
            if provider_id is not None:
                slot["provider_id"] = provider_id
            by_day.setdefault(local_day, []).append(slot)
        return {
            "appointment_type_id": type_id,
            "provider_id": provider_id,
            "timezone": self.tz.key,
            "first_day": first_day.isoformat(),
            "last_day": last_day.isoformat(),
            "next_from": next_from.isoformat() if next_from <= horizon_day else None,
            "days": [{"date": d, "slots": s} for d, s in by_day.items()],
        }

    async def list_appointments(self, caller: Caller) -> dict[str, Any]:
        now_moment = self.clock.now()

        def read(cursor: Any) -> list[dict[str, Any]]:
            # A PHI read: audited like every change.
            audit.by_patient(
                cursor, caller, now=now_moment, action="appointments.read", outcome="ok"
            )
            return q.patient_appointments(cursor, caller.patient_id)

        rows = await self.db.transaction(read)
        now = to_minute(self.clock.now())
        upcoming = [
            r for r in rows if r["status"] == "booked" and q.db_minute(r["starts_at"]) >= now
        ]
        past = [r for r in rows if q.db_minute(r["starts_at"]) < now]
        return {
            "upcoming": [self._view(r, now) for r in reversed(upcoming)],
            "past": [self._view(r, now) for r in past],
        }

    # -- changes -----------------------------------------------------------------------------

    async def book(
        self,
        caller: Caller,
        type_id: int,
        provider_id: int | None,
        start: datetime,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        self._require_booking()
        if provider_id is None and not self.rules.allow_no_preference:
            raise LinkError(ErrorCode.INVALID_PARAMS, "provider_id: please choose a provider")
        request = {"type": type_id, "provider": provider_id, "start": start.isoformat()}
        return await self._change(
            caller,
            "booking.book",
            request,
            idempotency_key,
            self._book_tx,
            type_id,
            provider_id,
            to_minute(start),
        )

    async def cancel(
        self, caller: Caller, appointment_id: int, idempotency_key: str | None
    ) -> dict[str, Any]:
        self._require_changes()
        return await self._change(
            caller,
            "booking.cancel",
            {"appointment": appointment_id},
            idempotency_key,
            self._cancel_tx,
            appointment_id,
        )

    async def reschedule(
        self,
        caller: Caller,
        appointment_id: int,
        provider_id: int | None,
        start: datetime,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        self._require_booking()
        self._require_changes()
        if provider_id is None and not self.rules.allow_no_preference:
            raise LinkError(ErrorCode.INVALID_PARAMS, "provider_id: please choose a provider")
        request = {
            "appointment": appointment_id,
            "provider": provider_id,
            "start": start.isoformat(),
        }
        return await self._change(
            caller,
            "booking.reschedule",
            request,
            idempotency_key,
            self._reschedule_tx,
            appointment_id,
            provider_id,
            to_minute(start),
        )

    async def _change(
        self,
        caller: Caller,
        action: str,
        request: dict[str, Any],
        key: str | None,
        fn: Any,
        *args: Any,
    ) -> dict[str, Any]:
        """Run one change transaction with idempotency and an audit row either way."""
        digest = hashlib.sha256(json.dumps([action, request], sort_keys=True).encode()).hexdigest()
        now = self.clock.now()
        try:
            result: dict[str, Any] = await self.db.transaction(
                self._idempotent_tx, caller, action, key, digest, now, fn, *args
            )
            return result
        except idempotency.Replay:
            return await self.db.transaction(
                idempotency.stored_reply, caller.patient_id, key, action, digest
            )
        except LinkError as exc:
            await self.db.transaction(_audit_refusal, now, caller, action, exc.code)
            raise

    def _idempotent_tx(
        self,
        cursor: Any,
        caller: Caller,
        action: str,
        key: str | None,
        digest: str,
        now: datetime,
        fn: Any,
        *args: Any,
    ) -> dict[str, Any]:
        if key is not None:
            idempotency.claim(cursor, caller.patient_id, key, action, digest)
        result, detail = fn(cursor, caller, to_minute(now), *args)
        if key is not None:
            idempotency.store_reply(cursor, caller.patient_id, key, result)
        audit.by_patient(cursor, caller, now=now, action=action, outcome="ok", detail=detail)
        return dict(result)

    def _book_tx(
        self,
        cursor: Any,
        caller: Caller,
        now: int,
        type_id: int,
        provider_id: int | None,
        start: int,
    ) -> tuple[dict[str, Any], str]:
        if not q.lock_patient(cursor, caller.patient_id):
            raise LinkError(ErrorCode.NOT_FOUND, "Your patient record was not found.")
        if self._at_cap(cursor, caller.patient_id, now):
            raise LinkError(
                ErrorCode.LIMIT_REACHED,
                f"You already have {self.rules.max_upcoming_per_patient} upcoming "
                "appointment(s), the most this office allows "
                "online. Please call the office to book another.",
            )
        appointment_id = self._take_slot(cursor, caller, now, type_id, provider_id, start)
        view = self._view(q.appointment(cursor, appointment_id, caller.patient_id), now)
        return view, f"appointment:{appointment_id}"

    def _cancel_tx(
        self, cursor: Any, caller: Caller, now: int, appointment_id: int
    ) -> tuple[dict[str, Any], str]:
        q.lock_patient(cursor, caller.patient_id)
        row = self._changeable(cursor, caller, now, appointment_id)
        late = self._inside_fee_window(q.db_minute(row["starts_at"]), now)
        q.cancel_appointment(cursor, appointment_id, now, late=late)
        view = self._view(q.appointment(cursor, appointment_id, caller.patient_id), now)
        return view, f"appointment:{appointment_id}" + (" late_cancel" if late else "")

    def _reschedule_tx(
        self,
        cursor: Any,
        caller: Caller,
        now: int,
        appointment_id: int,
        provider_id: int | None,
        start: int,
    ) -> tuple[dict[str, Any], str]:
        q.lock_patient(cursor, caller.patient_id)
        old = self._changeable(cursor, caller, now, appointment_id)
        # Release the old slot first (visible to this transaction only), so moving by a few
        # minutes with the same provider does not collide with the appointment being moved.
        q.cancel_appointment(cursor, appointment_id, now, late=False)
        new_id = self._take_slot(
            cursor, caller, now, old["appointment_type_id"], provider_id, start
        )
        view = self._view(q.appointment(cursor, new_id, caller.patient_id), now)
        return {"appointment": view, "replaced_appointment_id": appointment_id}, (
            f"appointment:{appointment_id}->appointment:{new_id}"
        )

    def _changeable(
        self, cursor: Any, caller: Caller, now: int, appointment_id: int
    ) -> dict[str, Any]:
        row = q.appointment(cursor, appointment_id, caller.patient_id, lock=True)
        if row is None or row["status"] != "booked":
            raise LinkError(ErrorCode.NOT_FOUND, "That appointment was not found.")
        if q.db_minute(row["starts_at"]) - now < self.rules.cancel_cutoff_hours * 60:
            raise LinkError(
                ErrorCode.CANCEL_WINDOW_CLOSED,
                "This appointment is too soon to change online. "
                f"Please call the office{self._phone_suffix()}.",
            )
        return row

    def _take_slot(
        self,
        cursor: Any,
        caller: Caller,
        now: int,
        type_id: int,
        provider_id: int | None,
        start: int,
    ) -> int:
        atype = q.appointment_type(cursor, type_id)
        if atype is None:
            raise LinkError(ErrorCode.NOT_FOUND, "That appointment type cannot be booked online.")
        window = booking_window(
            from_minute(now), self.rules.min_notice_hours, self.rules.horizon_days
        )
        if not window.earliest <= start <= window.latest:
            raise LinkError(
                ErrorCode.OUTSIDE_BOOKING_WINDOW,
                "That time is outside the period this office takes online bookings for.",
            )
        # The patient row is locked (every change transaction starts there), so no other
        # booking of this patient can slip in between this check and the insert.
        duration = atype["duration_minutes"]
        if q.patient_busy(cursor, caller.patient_id, start, start + duration):
            raise LinkError(
                ErrorCode.OVERLAPS_OWN_APPOINTMENT,
                "You already have an appointment at that time. Please choose another time.",
            )
        candidates = [p["id"] for p in q.providers(cursor, type_id, provider_id, lock=True)]
        if not candidates:
            raise LinkError(
                ErrorCode.NOT_FOUND, "That provider does not offer this appointment online."
            )
        day = from_minute(start).astimezone(self.tz).date()
        hours = q.working_hours(cursor, candidates)
        busy = q.busy_intervals(cursor, candidates, start - DAY_MINUTES, start + 2 * DAY_MINUTES)
        free = [
            pid
            for pid in candidates
            if start
            in provider_slots(
                hours=hours.get(pid, []),
                busy=busy.get(pid, []),
                tz=self.tz,
                duration=duration,
                step=self.rules.round_to_minutes,
                window=window,
                first_day=day,
                last_day=day,
            )
        ]
        if not free:
            raise LinkError(
                ErrorCode.SLOT_UNAVAILABLE,
                "That time is no longer available. Please choose another time.",
            )
        chosen = free[0]
        if len(free) > 1:
            day_start = to_minute(datetime.combine(day, datetime.min.time(), self.tz))
            counts = q.appointments_per_provider(cursor, free, day_start, day_start + DAY_MINUTES)
            chosen = choose_provider([(pid, counts.get(pid, 0)) for pid in free])
        return q.insert_appointment(cursor, caller.patient_id, chosen, type_id, start, duration)

    # -- helpers -----------------------------------------------------------------------------

    def _require_booking(self) -> None:
        if not self.rules.enabled:
            raise LinkError(
                ErrorCode.BOOKING_DISABLED,
                f"This office does not take bookings online. Please call{self._phone_suffix()}.",
            )

    def _require_changes(self) -> None:
        if not self.rules.allow_cancel_reschedule:
            raise LinkError(
                ErrorCode.BOOKING_DISABLED,
                "This office does not allow cancelling or rescheduling online. "
                f"Please call{self._phone_suffix()}.",
            )

    def _inside_fee_window(self, start: int, now: int) -> bool:
        """A patient cancel now would be a late cancellation (seed 002's card-capture fee)."""
        fee_hours = self.rules.late_cancel_fee_hours
        return fee_hours is not None and start - now < fee_hours * 60

    def _phone_suffix(self) -> str:
        return f" {self.phone}" if self.phone else ""

    def _view(self, row: dict[str, Any] | None, now: int) -> dict[str, Any]:
        assert row is not None
        start = q.db_minute(row["starts_at"])
        can_change = (
            self.rules.allow_cancel_reschedule
            and row["status"] == "booked"
            and start - now >= self.rules.cancel_cutoff_hours * 60
        )
        return {
            "id": row["id"],
            "start": _iso_utc(start),
            "end": _iso_utc(q.db_minute(row["ends_at"])),
            "local_start": from_minute(start).astimezone(self.tz).isoformat(),
            "status": row["status"],
            "late_cancel": bool(row["late_cancel"]),
            "provider": {"id": row["provider_id"], "name": row["provider_name"]},
            "appointment_type": {
                "id": row["appointment_type_id"],
                "name": row["type_name"],
                "duration_minutes": row["duration_minutes"],
            },
            "can_change": can_change,
            # Said before the patient confirms a cancel, not only after it.
            "cancel_fee_applies": can_change and self._inside_fee_window(start, now),
        }


def _availability_rows(
    cursor: Any,
    patient_id: int,
    moving: int | None,
    type_id: int,
    provider_id: int | None,
    start: int,
    end: int,
) -> tuple[Any, list[dict[str, Any]], Any, dict[int, list[tuple[int, int]]]]:
    atype = q.appointment_type(cursor, type_id)
    providers = q.providers(cursor, type_id, provider_id)
    ids = [p["id"] for p in providers]
    busy = q.busy_intervals(cursor, ids, start, end)
    own = q.patient_busy(cursor, patient_id, start, end, except_id=moving)
    if own:
        busy = {pid: merge_intervals([*busy.get(pid, []), *own]) for pid in ids}
    return atype, providers, q.working_hours(cursor, ids), busy


def _audit_refusal(cursor: Any, now: datetime, caller: Caller, action: str, code: str) -> None:
    audit.by_patient(cursor, caller, now=now, action=action, outcome=code)


class _SlotLabels:
    """Formats many slot times fast: the UTC offset is looked up once per quarter hour and date
    strings once per day, the rest is integer arithmetic (a page of availability holds
    hundreds of slots; datetime + strftime per slot was a large share of answering it)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._offsets: dict[int, int] = {}
        self._days: dict[int, str] = {}

    def _day(self, day_number: int) -> str:
        text = self._days.get(day_number)
        if text is None:
            text = self._days[day_number] = (
                date(1970, 1, 1) + timedelta(days=day_number)
            ).isoformat()
        return text

    def local(self, minute: int) -> tuple[str, str]:
        # Offsets change only at quarter hours of UTC (every zone's transitions do), so a
        # quarter-hour bucket is exact.
        quarter = minute // 15
        offset = self._offsets.get(quarter)
        if offset is None:
            shift = from_minute(quarter * 15).astimezone(self.tz).utcoffset()
            offset = self._offsets[quarter] = int(shift.total_seconds()) // 60 if shift else 0
        local = minute + offset
        within = local % DAY_MINUTES
        return self._day(local // DAY_MINUTES), f"{within // 60:02d}:{within % 60:02d}"

    def utc(self, minute: int) -> str:
        within = minute % DAY_MINUTES
        return f"{self._day(minute // DAY_MINUTES)}T{within // 60:02d}:{within % 60:02d}:00Z"


def _iso_utc(minute: int) -> str:
    return from_minute(minute).strftime("%Y-%m-%dT%H:%M:%SZ")
