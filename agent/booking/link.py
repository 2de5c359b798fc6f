"""The link methods of agent.booking: `booking.*` and `appointments.list` (docs/protocol.md).

The BookingService is built by agent/wiring.py and passed in, not built here: a reload
replaces its rules in place (`Agent.apply_live_settings`, agent/daemon.py), so the Agent keeps
a hold of it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from agent.booking.service import BookingService
from agent.rpc import BigId, Day, DomainContext, MethodTable, NoParams, Params, SmallId
from protocol.aio import Request


def _instant(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("must be a date and time like 2026-11-23T14:00:00Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date and time like 2026-11-23T14:00:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError("must include a time zone (Z or an offset)")
    if parsed.second or parsed.microsecond:
        raise ValueError("must be on a whole minute")
    return parsed.astimezone(UTC)


# Parsed before pydantic's strict type check, so a JSON string becomes a datetime value.
Instant = Annotated[datetime, BeforeValidator(_instant)]


class ProvidersParams(Params):
    appointment_type_id: SmallId | None = None


class AvailabilityParams(Params):
    appointment_type_id: SmallId
    provider_id: SmallId | None = None
    from_date: Day | None = None
    days: Annotated[int, Field(ge=1, le=31)] = 7
    rescheduling_appointment_id: BigId | None = None


class BookParams(Params):
    appointment_type_id: SmallId
    provider_id: SmallId | None = None  # None: "No preference"
    start: Instant


class CancelParams(Params):
    appointment_id: BigId


class CalendarFileParams(Params):
    appointment_id: BigId


class RescheduleParams(Params):
    appointment_id: BigId
    provider_id: SmallId | None = None
    start: Instant


def link_methods(context: DomainContext, booking: BookingService) -> MethodTable:
    callers = context.callers

    async def appointment_types(request: Request, params: NoParams) -> Any:
        answer: dict[str, Any] = {"appointment_types": await booking.appointment_types()}
        if request.session is not None:
            # With a session, whether this patient may book another at all (the cap).
            caller = await callers.caller_for(request)
            answer["limit_reached"] = await booking.limit_reached(caller)
        return answer

    async def providers(request: Request, params: ProvidersParams) -> Any:
        return {"providers": await booking.providers(params.appointment_type_id)}

    async def availability(request: Request, params: AvailabilityParams) -> Any:
        return await booking.availability(
            await callers.caller_for(request),
            params.appointment_type_id,
            params.provider_id,
            params.from_date,
            params.days,
            params.rescheduling_appointment_id,
        )

    async def book(request: Request, params: BookParams) -> Any:
        return await booking.book(
            await callers.caller_for(request),
            params.appointment_type_id,
            params.provider_id,
            params.start,
            request.idempotency_key,
        )

    async def cancel(request: Request, params: CancelParams) -> Any:
        return await booking.cancel(
            await callers.caller_for(request), params.appointment_id, request.idempotency_key
        )

    async def reschedule(request: Request, params: RescheduleParams) -> Any:
        return await booking.reschedule(
            await callers.caller_for(request),
            params.appointment_id,
            params.provider_id,
            params.start,
            request.idempotency_key,
        )

    async def calendar_file(request: Request, params: CalendarFileParams) -> Any:
        return await booking.calendar_file(await callers.caller_for(request), params.appointment_id)

    async def appointments(request: Request, params: NoParams) -> Any:
        return await booking.list_appointments(await callers.caller_for(request))

    return {
        "booking.appointment_types": (NoParams, appointment_types),
        "booking.providers": (ProvidersParams, providers),
        "booking.availability": (AvailabilityParams, availability),
        "booking.book": (BookParams, book),
        "booking.cancel": (CancelParams, cancel),
        "booking.reschedule": (RescheduleParams, reschedule),
        "booking.calendar_file": (CalendarFileParams, calendar_file),
        "appointments.list": (NoParams, appointments),
    }
