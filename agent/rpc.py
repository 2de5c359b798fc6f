"""The agent's link methods: validate parameters, find the caller, call a service.

Every method's parameters are a strict pydantic model (no coercion, no unknown keys), so bad
input is answered `invalid_params` with a message naming the field — and never reaches SQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Protocol
from zoneinfo import ZoneInfo

import structlog
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from agent.access.service import AccessService
from agent.booking.service import BookingService
from agent.caller import Caller
from agent.db import DatabaseUnavailable
from protocol.aio import LinkError, Request
from protocol.errors import ErrorCode

if TYPE_CHECKING:
    from agent.clock import Clock
    from agent.config import AgentConfig
    from agent.db import Database
    from agent.mail.messages import MailTemplates

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
    rescheduling_appointment_id: BigId | None = None


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


Token = Annotated[str, Field(min_length=1, max_length=128)]
Secret = Annotated[str, Field(max_length=100_000)]  # policy, not the parser, judges length
ShortText = Annotated[str, Field(min_length=1, max_length=100)]
Zip = Annotated[str, Field(min_length=1, max_length=16)]
Login = Annotated[str, Field(min_length=1, max_length=320)]


class ActivateParams(Params):
    token: Token
    date_of_birth: Day
    zip: Zip
    password: Secret
    username: Annotated[str, Field(max_length=64)] | None = None


class RegisterParams(Params):
    first_name: ShortText
    last_name: ShortText
    date_of_birth: Day
    zip: Zip
    email: Login
    password: Secret
    username: Annotated[str, Field(max_length=64)] | None = None


class TokenParams(Params):
    token: Token


class SignInParams(Params):
    login: Login
    password: Secret


class ForgotParams(Params):
    login: Login


class ResetParams(Params):
    token: Token
    password: Secret


class ChangePasswordParams(Params):
    current_password: Secret
    new_password: Secret


class ChangeEmailParams(Params):
    password: Secret
    new_email: Login


class CallerResolver(Protocol):
    async def caller_for(self, request: Request) -> Caller:
        """The signed-in patient of the request's session; raises LinkError(unauthenticated)."""
        ...


class SessionCallers:
    """Sessions are the only way to act as a patient: the proxy carries the opaque token."""

    def __init__(self, access: AccessService) -> None:
        self.access = access

    async def caller_for(self, request: Request) -> Caller:
        return await self.access.resolve_session(request.session, _client_ip(request))


def _client_ip(request: Request) -> str | None:
    ip = (request.client or {}).get("ip")
    return ip[:45] if isinstance(ip, str) else None


@dataclass(frozen=True, slots=True)
class PracticeInfo:
    name: str
    phone: str
    timezone: str


Method = Callable[[Request, Any], Awaitable[Any]]
# Method name -> (its strict parameter model, its handler). Each domain package (messages,
# forms, records) builds its own table with `link_methods(context)`; daemon.py merges them.
MethodTable = Mapping[str, tuple[type["Params"], Method]]


@dataclass(frozen=True, slots=True)
class DomainContext:
    """What a domain package needs to build its service and its link methods."""

    config: AgentConfig
    db: Database
    clock: Clock
    callers: CallerResolver
    mail: MailTemplates
    zone: ZoneInfo


class AgentMethods:
    """The link handler: `await methods(request)`."""

    def __init__(
        self,
        practice: PracticeInfo,
        booking: BookingService,
        access: AccessService,
        callers: CallerResolver,
        extra: MethodTable | None = None,
    ) -> None:
        self.practice = practice
        self.booking = booking
        self.access = access
        self.callers = callers
        self._table: dict[str, tuple[type[Params], Method]] = {
            "practice.info": (NoParams, self._practice_info),
            "booking.appointment_types": (NoParams, self._appointment_types),
            "booking.providers": (ProvidersParams, self._providers),
            "booking.availability": (AvailabilityParams, self._availability),
            "booking.book": (BookParams, self._book),
            "booking.cancel": (CancelParams, self._cancel),
            "booking.reschedule": (RescheduleParams, self._reschedule),
            "appointments.list": (NoParams, self._appointments),
            "access.activate": (ActivateParams, self._activate),
            "access.register": (RegisterParams, self._register),
            "access.verify_email": (TokenParams, self._verify_email),
            "access.sign_in": (SignInParams, self._sign_in),
            "access.sign_out": (NoParams, self._sign_out),
            "access.session": (NoParams, self._session),
            "access.account": (NoParams, self._account),
            "access.forgot_password": (ForgotParams, self._forgot_password),
            "access.reset_link": (TokenParams, self._reset_link),
            "access.reset_password": (ResetParams, self._reset_password),
            "access.change_password": (ChangePasswordParams, self._change_password),
            "access.change_email": (ChangeEmailParams, self._change_email),
            "access.confirm_email_change": (TokenParams, self._confirm_email_change),
        }
        for name, entry in (extra or {}).items():
            if name in self._table:
                raise ValueError(f"link method {name} is defined twice")
            self._table[name] = entry

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
        return await self.callers.caller_for(request)

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
            # What the sign-up and account pages must ask for; live, since a reload may
            # change them (agent/reload.py), unlike WELCOME's practice facts.
            "access": {
                "self_registration": self.access.rules.self_registration,
                "identity": self.access.rules.identity,
            },
        }

    async def _appointment_types(self, request: Request, params: NoParams) -> Any:
        answer: dict[str, Any] = {"appointment_types": await self.booking.appointment_types()}
        if request.session is not None:
            # With a session, whether this patient may book another at all (the cap).
            answer["limit_reached"] = await self.booking.limit_reached(await self._caller(request))
        return answer

    async def _providers(self, request: Request, params: ProvidersParams) -> Any:
        return {"providers": await self.booking.providers(params.appointment_type_id)}

    async def _availability(self, request: Request, params: AvailabilityParams) -> Any:
        return await self.booking.availability(
            await self._caller(request),
            params.appointment_type_id,
            params.provider_id,
            params.from_date,
            params.days,
            params.rescheduling_appointment_id,
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

    # -- access ------------------------------------------------------------------------------

    async def _activate(self, request: Request, params: ActivateParams) -> Any:
        return await self.access.activate(
            params.token,
            params.date_of_birth,
            params.zip,
            params.password,
            params.username,
            _client_ip(request),
        )

    async def _register(self, request: Request, params: RegisterParams) -> Any:
        return await self.access.registrations.register(
            first_name=params.first_name,
            last_name=params.last_name,
            date_of_birth=params.date_of_birth,
            zip_code=params.zip,
            email=params.email,
            password=params.password,
            username=params.username,
            client_ip=_client_ip(request),
        )

    async def _verify_email(self, request: Request, params: TokenParams) -> Any:
        return await self.access.registrations.verify_email(params.token, _client_ip(request))

    async def _sign_in(self, request: Request, params: SignInParams) -> Any:
        return await self.access.sign_in(params.login, params.password, _client_ip(request))

    async def _sign_out(self, request: Request, params: NoParams) -> Any:
        return await self.access.sign_out(request.session, _client_ip(request))

    async def _session(self, request: Request, params: NoParams) -> Any:
        # The proxy asks before every signed-in page, so a disabled or ended session shows
        # nothing even on a page whose own calls need no session (the booking steps).
        await self._caller(request)
        return {"signed_in": True}

    async def _account(self, request: Request, params: NoParams) -> Any:
        return await self.access.account_info(await self._caller(request))

    async def _forgot_password(self, request: Request, params: ForgotParams) -> Any:
        return await self.access.forgot_password(params.login, _client_ip(request))

    async def _reset_link(self, request: Request, params: TokenParams) -> Any:
        return await self.access.reset_link(params.token)

    async def _reset_password(self, request: Request, params: ResetParams) -> Any:
        return await self.access.reset_password(params.token, params.password, _client_ip(request))

    async def _change_password(self, request: Request, params: ChangePasswordParams) -> Any:
        return await self.access.change_password(
            await self._caller(request), params.current_password, params.new_password
        )

    async def _change_email(self, request: Request, params: ChangeEmailParams) -> Any:
        return await self.access.change_email(
            await self._caller(request), params.password, params.new_email
        )

    async def _confirm_email_change(self, request: Request, params: TokenParams) -> Any:
        return await self.access.confirm_email_change(params.token, _client_ip(request))


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
