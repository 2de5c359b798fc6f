"""The agent's link methods: validate parameters, find the caller, call a service.

Every method's parameters are a strict pydantic model (no coercion, no unknown keys), so bad
input is answered `invalid_params` with a message naming the field — and never reaches SQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Protocol

import structlog
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from agent.booking.service import BookingService, Caller
from agent.db import DatabaseUnavailable
from protocol.aio import LinkError, Request
from protocol.errors import ErrorCode

log = structlog.get_logger("portico.agent")

SmallId = Annotated[int, Field(ge=1, le=2**31 - 1)]
BigId = Annotated[int, Field(ge=1, le=2**63 - 1)]


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


def _day(value: object) -> date:
    if not isinstance(value, str) or len(value) > 10:
        raise ValueError("must be a date like 2026-11-23")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date like 2026-11-23") from None


# Parsed before pydantic's strict type check, so JSON strings become datetime/date values.
Instant = Annotated[datetime, BeforeValidator(_instant)]
Day = Annotated[date, BeforeValidator(_day)]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NoParams(Params):
    pass


class ProvidersParams(Params):
    appointment_type_id: SmallId | None = None


class AvailabilityParams(Params):
    appointment_type_id: SmallId
    provider_id: SmallId | None = None
    from_date: Day | None = None
    days: Annotated[int, Field(ge=1, le=31)] = 7


class BookParams(Params):
    appointment_type_id: SmallId
    provider_id: SmallId | None = None  # None: "No preference"
    start: Instant


class CancelParams(Params):
    appointment_id: BigId


class RescheduleParams(Params):
    appointment_id: BigId
    provider_id: SmallId | None = None
    start: Instant


class PatientResolver(Protocol):
    async def patient_for(self, request: Request) -> int:
        """The patient the request's session belongs to; raises LinkError(unauthenticated)."""
        ...


class DevPatientSessions:
    """DEVELOPMENT ONLY: the session string `dev-patient:<id>` names the patient outright.

    Until portal accounts exist (the access issue), this lets the demo and tests act as a
    patient. The daemon enables it only with --dev-patient-sessions, which it refuses unless
    the agent listens on loopback and accepts proxies from loopback only.
    """

    async def patient_for(self, request: Request) -> int:
        session = request.session or ""
        prefix, _, number = session.partition(":")
        if prefix == "dev-patient" and number.isdigit() and 0 < int(number) < 2**63:
            return int(number)
        raise LinkError(ErrorCode.UNAUTHENTICATED, "Please sign in.")


class NoPatientSessions:
    """Production until sign-in exists: no request can act as a patient."""

    async def patient_for(self, request: Request) -> int:
        raise LinkError(ErrorCode.UNAUTHENTICATED, "Please sign in.")


@dataclass(frozen=True, slots=True)
class PracticeInfo:
    name: str
    phone: str
    timezone: str


Method = Callable[[Request, Any], Awaitable[Any]]


class AgentMethods:
    """The link handler: `await methods(request)`."""

    def __init__(
        self, practice: PracticeInfo, booking: BookingService, patients: PatientResolver
    ) -> None:
        self.practice = practice
        self.booking = booking
        self.patients = patients
        self._table: dict[str, tuple[type[Params], Method]] = {
            "practice.info": (NoParams, self._practice_info),
            "booking.appointment_types": (NoParams, self._appointment_types),
            "booking.providers": (ProvidersParams, self._providers),
            "booking.availability": (AvailabilityParams, self._availability),
            "booking.book": (BookParams, self._book),
            "booking.cancel": (CancelParams, self._cancel),
            "booking.reschedule": (RescheduleParams, self._reschedule),
            "appointments.list": (NoParams, self._appointments),
        }

    @property
    def method_names(self) -> list[str]:
        return sorted(self._table)

    async def __call__(self, request: Request) -> Any:
        entry = self._table.get(request.method)
        if entry is None:
            raise LinkError(ErrorCode.NOT_FOUND, "unknown method")
        model, method = entry
        try:
            params = model.model_validate(request.params)
        except ValidationError as exc:
            raise LinkError(ErrorCode.INVALID_PARAMS, _describe(exc)) from None
        try:
            return await method(request, params)
        except DatabaseUnavailable:
            log.warning("agent.database_unavailable", method=request.method)
            raise LinkError(
                ErrorCode.UNAVAILABLE,
                "The office's system cannot be reached right now. Please try again in a few "
                f"minutes, or call {self.practice.phone}.",
            ) from None

    async def _caller(self, request: Request) -> Caller:
        patient_id = await self.patients.patient_for(request)
        ip = (request.client or {}).get("ip")
        return Caller(patient_id, ip if isinstance(ip, str) else None)

    async def _practice_info(self, request: Request, params: NoParams) -> Any:
        rules = self.booking.rules
        return {
            "name": self.practice.name,
            "phone": self.practice.phone,
            "timezone": self.practice.timezone,
            "booking": {
                "enabled": rules.enabled,
                "allow_no_preference": rules.allow_no_preference,
                "allow_cancel_reschedule": rules.allow_cancel_reschedule,
                "horizon_days": rules.horizon_days,
                "min_notice_hours": rules.min_notice_hours,
                "cancel_cutoff_hours": rules.cancel_cutoff_hours,
            },
        }

    async def _appointment_types(self, request: Request, params: NoParams) -> Any:
        return {"appointment_types": await self.booking.appointment_types()}

    async def _providers(self, request: Request, params: ProvidersParams) -> Any:
        return {"providers": await self.booking.providers(params.appointment_type_id)}

    async def _availability(self, request: Request, params: AvailabilityParams) -> Any:
        await self._caller(request)
        return await self.booking.availability(
            params.appointment_type_id,
            params.provider_id,
            params.from_date,
            params.days,
        )

    async def _book(self, request: Request, params: BookParams) -> Any:
        return await self.booking.book(
            await self._caller(request),
            params.appointment_type_id,
            params.provider_id,
            params.start,
            request.idempotency_key,
        )

    async def _cancel(self, request: Request, params: CancelParams) -> Any:
        return await self.booking.cancel(
            await self._caller(request), params.appointment_id, request.idempotency_key
        )

    async def _reschedule(self, request: Request, params: RescheduleParams) -> Any:
        return await self.booking.reschedule(
            await self._caller(request),
            params.appointment_id,
            params.provider_id,
            params.start,
            request.idempotency_key,
        )

    async def _appointments(self, request: Request, params: NoParams) -> Any:
        return await self.booking.list_appointments(await self._caller(request))


def _describe(exc: ValidationError) -> str:
    """Name every bad field without echoing the values sent."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or "params"
        if error["type"] == "extra_forbidden":
            problems.append(f"{field}: unknown parameter")
        elif error["type"] == "missing":
            problems.append(f"{field}: required")
        else:
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{field}: {message}")
    return "; ".join(problems)
