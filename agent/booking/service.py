"""Booking, cancelling and rescheduling with the office's rules, one transaction each.

The rules themselves (which starts are offered) are the pure functions of slots.py and the read
side is reads.py; this module owns the change transactions, over the practice store
(agent/store/base.py). A booking holds the patient, then the candidate providers (how is the
store's: row locks for Portico's schema) and re-checks the slot while holding them, so
concurrent requests for one slot (or overlapping ones) yield exactly one appointment.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from agent import audit, idempotency
from agent.booking.confirmations import Change
from agent.booking.in_flight import BookingsInFlight, Claims, WaitFor
from agent.booking.reads import DAY_MINUTES, BookingReads
from agent.booking.slots import (
    Window,
    booking_window,
    choose_provider,
    from_minute,
    merge_intervals,
    provider_slots,
    to_minute,
)
from agent.caller import Caller
from agent.errors import Refused
from agent.store.base import Appointment, SlotTaken, Tx
from protocol.errors import ErrorCode

_SLOT_GONE = "That time is no longer available. Please choose another time."


class BookingService(BookingReads):
    """Booking reads (from BookingReads) plus the changes: book, cancel, reschedule."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_flight = BookingsInFlight()

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
            raise Refused(ErrorCode.INVALID_PARAMS, "provider_id: please choose a provider")
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
            raise Refused(ErrorCode.INVALID_PARAMS, "provider_id: please choose a provider")
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
        """Run one change transaction with idempotency and an audit row either way: a
        refusal is audited in the attempt's own transaction (rolled back to before the
        attempt), so it costs no second trip through the pool's queue."""
        digest = hashlib.sha256(json.dumps([action, request], sort_keys=True).encode()).hexdigest()
        now = self.clock.now()
        claims = Claims()
        try:
            while True:
                try:
                    result: dict[str, Any] | Refused = await self.store.transaction(
                        self._idempotent_tx, caller, action, key, digest, now, fn, claims, *args
                    )
                    break
                except WaitFor as waiting:
                    # An overlapping booking is under way: start again once it has ended
                    # (holding nothing meanwhile, so nobody ever waits for a request that waits).
                    self.in_flight.release(claims)
                    await self.in_flight.wait(claims, waiting)
                except idempotency.Replay:
                    return await self.store.transaction(
                        idempotency.stored_reply, caller.patient_id, key, action, digest
                    )
                finally:
                    # After the COMMIT (or rollback): whoever waits for this booking reads it.
                    self.in_flight.release(claims)
        finally:
            # The request is over, also when its task was cancelled while the worker thread
            # still runs its transaction: a hold that thread takes from now on would never be
            # released, so it takes none (the provider lock still serialises it).
            self.in_flight.close(claims)
        if isinstance(result, Refused):
            raise result
        return result

    def _idempotent_tx(
        self,
        cursor: Tx,
        caller: Caller,
        action: str,
        key: str | None,
        digest: str,
        now: datetime,
        fn: Any,
        claims: Claims,
        *args: Any,
    ) -> dict[str, Any] | Refused:
        cursor.execute("SAVEPOINT portico_change")
        try:
            if key is not None:
                idempotency.claim(cursor, caller.patient_id, key, action, digest)
            result, detail = fn(cursor, caller, to_minute(now), claims, *args)
        except Refused as exc:
            # Undo the attempt (and the key's claim, so a retry may act), keep the audit row.
            cursor.execute("ROLLBACK TO SAVEPOINT portico_change")
            audit.by_patient(cursor, caller, now=now, action=action, outcome=exc.code)
            return exc
        if key is not None:
            idempotency.store_reply(cursor, caller.patient_id, key, result)
        audit.by_patient(cursor, caller, now=now, action=action, outcome="ok", detail=detail)
        return dict(result)

    def _book_tx(
        self,
        cursor: Tx,
        caller: Caller,
        now: int,
        claims: Claims,
        type_id: int,
        provider_id: int | None,
        start: int,
    ) -> tuple[dict[str, Any], str]:
        if not self.store.lock_patient(cursor, caller.patient_id):
            raise Refused(ErrorCode.NOT_FOUND, "Your patient record was not found.")
        if self._at_cap(cursor, caller.patient_id, now):
            raise Refused(
                ErrorCode.LIMIT_REACHED,
                f"You already have {self.rules.max_upcoming_per_patient} upcoming "
                "appointment(s), the most this office allows "
                "online. Please call the office to book another.",
            )
        appointment_id = self._take_slot(cursor, caller, now, claims, type_id, provider_id, start)
        view = self._told(cursor, caller, now, "booked", appointment_id)
        return view, f"appointment:{appointment_id}"

    def _cancel_tx(
        self, cursor: Tx, caller: Caller, now: int, claims: Claims, appointment_id: int
    ) -> tuple[dict[str, Any], str]:
        self.store.lock_patient(cursor, caller.patient_id)
        row = self._changeable(cursor, caller, now, appointment_id)
        late = self._inside_fee_window(row.start, now)
        self.store.cancel_appointment(cursor, appointment_id, now, late=late)
        view = self._told(cursor, caller, now, "cancelled", appointment_id)
        return view, f"appointment:{appointment_id}" + (" late_cancel" if late else "")

    def _reschedule_tx(
        self,
        cursor: Tx,
        caller: Caller,
        now: int,
        claims: Claims,
        appointment_id: int,
        provider_id: int | None,
        start: int,
    ) -> tuple[dict[str, Any], str]:
        self.store.lock_patient(cursor, caller.patient_id)
        old = self._changeable(cursor, caller, now, appointment_id)
        # Release the old slot first (visible to this transaction only), so moving by a few
        # minutes with the same provider does not collide with the appointment being moved.
        self.store.cancel_appointment(cursor, appointment_id, now, late=False)
        new_id = self._take_slot(cursor, caller, now, claims, old.type_id, provider_id, start)
        view = self._told(cursor, caller, now, "moved", new_id, replaced=appointment_id)
        return {"appointment": view, "replaced_appointment_id": appointment_id}, (
            f"appointment:{appointment_id}->appointment:{new_id}"
        )

    def _told(
        self,
        cursor: Tx,
        caller: Caller,
        now: int,
        change: Change,
        appointment_id: int,
        replaced: int | None = None,
    ) -> dict[str, Any]:
        """The changed appointment as answered, its email queued in this same transaction."""
        row = self.store.appointment(cursor, appointment_id, caller.patient_id)
        if self.calendar is not None and row is not None:
            self.calendar.changed(cursor, change, row, from_minute(now), replaced_id=replaced)
        return self._view(row, now)

    def _changeable(self, cursor: Tx, caller: Caller, now: int, appointment_id: int) -> Appointment:
        row = self.store.lock_appointment(cursor, appointment_id, caller.patient_id)
        if row is None or row.status != "booked":
            raise Refused(ErrorCode.NOT_FOUND, "That appointment was not found.")
        if row.start - now < self.rules.cancel_cutoff_hours * 60:
            raise Refused(
                ErrorCode.CANCEL_WINDOW_CLOSED,
                "This appointment is too soon to change online. "
                f"Please call the office{self._phone_suffix()}.",
            )
        return row

    def _take_slot(
        self,
        cursor: Tx,
        caller: Caller,
        now: int,
        claims: Claims,
        type_id: int,
        provider_id: int | None,
        start: int,
    ) -> int:
        store = self.store
        atype = store.appointment_type(cursor, type_id)
        if atype is None:
            raise Refused(ErrorCode.NOT_FOUND, "That appointment type cannot be booked online.")
        window = booking_window(
            from_minute(now), self.rules.min_notice_hours, self.rules.horizon_days
        )
        if not window.earliest <= start <= window.latest:
            raise Refused(
                ErrorCode.OUTSIDE_BOOKING_WINDOW,
                "That time is outside the period this office takes online bookings for.",
            )
        # The patient row is locked (every change transaction starts there), so no other
        # booking of this patient can slip in between this check and the insert.
        duration = atype.duration_minutes
        if merge_intervals(store.patient_busy(cursor, caller.patient_id, start, start + duration)):
            raise Refused(
                ErrorCode.OVERLAPS_OWN_APPOINTMENT,
                "You already have an appointment at that time. Please choose another time.",
            )
        day = from_minute(start).astimezone(self.tz).date()
        # First from what is committed, without waiting for anyone's lock: when every
        # candidate's time is already taken (the losers of a race that has been decided),
        # refuse at once; a committed row overlapping the interval is enough, since no slot
        # is offered over one (slots.py). Otherwise hold the interval in this agent, giving
        # way (WaitFor) rather than queueing on the lock behind an overlapping booking under
        # way (in_flight.py says why that is safe); then lock, check again, and only that
        # check books.
        end = start + duration
        unlocked = [p.id for p in store.providers(cursor, type_id, provider_id)]
        if unlocked:
            taken = store.busy_intervals(cursor, unlocked, start, end)
            untaken = [
                pid
                for pid in unlocked
                if not any(b < end and start < e for b, e in taken.get(pid, ()))
            ]
            if not untaken:
                raise Refused(ErrorCode.SLOT_UNAVAILABLE, _SLOT_GONE)
            self.in_flight.hold(claims, untaken, start, end)
        candidates = [p.id for p in store.lock_providers(cursor, type_id, provider_id)]
        if not candidates:
            raise Refused(
                ErrorCode.NOT_FOUND, "That provider does not offer this appointment online."
            )
        free = self._free(cursor, candidates, type_id, start, duration, window, day)
        if not free:
            raise Refused(ErrorCode.SLOT_UNAVAILABLE, _SLOT_GONE)
        chosen = free[0]
        if len(free) > 1:
            day_start = to_minute(datetime.combine(day, datetime.min.time(), self.tz))
            counts = store.appointments_per_provider(
                cursor, free, day_start, day_start + DAY_MINUTES
            )
            chosen = choose_provider([(pid, counts.get(pid, 0)) for pid in free])
        try:
            return store.insert_appointment(
                cursor, caller.patient_id, chosen, type_id, start, duration
            )
        except SlotTaken:
            raise Refused(ErrorCode.SLOT_UNAVAILABLE, _SLOT_GONE) from None

    def _free(
        self,
        cursor: Tx,
        candidates: list[int],
        type_id: int,
        start: int,
        duration: int,
        window: Window,
        day: date,
    ) -> list[int]:
        """The candidates for whom `start` is an offered slot, as the rules and the rows
        this statement sees have it (slots.py: the same function the offer used)."""
        hours = self.store.working_hours(cursor, candidates, day, day, type_id)
        busy = self.store.busy_intervals(
            cursor, candidates, start - DAY_MINUTES, start + 2 * DAY_MINUTES
        )
        return [
            pid
            for pid in candidates
            if start
            in provider_slots(
                hours=hours.get(pid, []),
                busy=merge_intervals(busy.get(pid, [])),
                tz=self.tz,
                duration=duration,
                step=self.rules.round_to_minutes,
                window=window,
                first_day=day,
                last_day=day,
            )
        ]

    def _require_changes(self) -> None:
        if not self.rules.allow_cancel_reschedule:
            raise Refused(
                ErrorCode.BOOKING_DISABLED,
                "This office does not allow cancelling or rescheduling online. "
                f"Please call{self._phone_suffix()}.",
            )
