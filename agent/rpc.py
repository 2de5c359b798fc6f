"""The agent's link dispatcher: find the method, validate its parameters, map errors.

Each domain package registers its own methods (`link_methods` in agent/booking/link.py,
agent/access/link.py, agent/messages/link.py, agent/forms/link.py, agent/records/link.py,
plus agent/practice.py); agent/wiring.py hands their tables to :class:`AgentMethods`. This
module holds what they share: the strict parameter base and common field types, how a method
learns who is calling (:class:`CallerResolver`; agent/access/link.py answers it), and the one
place where a domain refusal becomes the link's error answer. It imports no domain package.

Every method's parameters are a strict pydantic model (no coercion, no unknown keys), so bad
input is answered `invalid_params` with a message naming the field — and never reaches SQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Protocol
from zoneinfo import ZoneInfo

import structlog
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from agent.caller import Caller
from agent.db import DatabaseUnavailable
from agent.errors import Refused
from protocol.aio import LinkError, Request
from protocol.errors import ErrorCode

if TYPE_CHECKING:
    from agent.clock import Clock
    from agent.config import AgentConfig
    from agent.db import Database
    from agent.mail.emails import MailTemplates
    from agent.store.base import PracticeStore

log = structlog.get_logger("portico.agent")

SmallId = Annotated[int, Field(ge=1, le=2**31 - 1)]
BigId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _day(value: object) -> date:
    if not isinstance(value, str) or len(value) > 10:
        raise ValueError("must be a date like 2026-11-23")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date like 2026-11-23") from None


# Parsed before pydantic's strict type check, so a JSON string becomes a date value.
Day = Annotated[date, BeforeValidator(_day)]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NoParams(Params):
    pass


class CallerResolver(Protocol):
    async def caller_for(self, request: Request) -> Caller:
        """The signed-in patient of the request's session; refuses with unauthenticated."""
        ...


def client_ip(request: Request) -> str | None:
    """The patient's address as the proxy saw it (for the audit), bounded to an IPv6's length."""
    ip = (request.client or {}).get("ip")
    return ip[:45] if isinstance(ip, str) else None


Method = Callable[[Request, Any], Awaitable[Any]]
# Method name -> (its strict parameter model, its handler). Each domain package builds its
# own table with `link_methods(...)`; agent/wiring.py hands them all to AgentMethods.
MethodTable = Mapping[str, tuple[type["Params"], Method]]


@dataclass(frozen=True, slots=True)
class DomainContext:
    """What a domain package needs to build its service and its link methods."""

    config: AgentConfig
    # The agent's pool: Portico's own tables (messages and forms still read a few practice
    # tables through it: patient names, appointment types; issue 13 moves them to the store).
    db: Database
    store: PracticeStore  # the practice's data (agent/store/base.py)
    clock: Clock
    callers: CallerResolver
    mail: MailTemplates
    zone: ZoneInfo


class AgentMethods:
    """The link handler: `await methods(request)`."""

    def __init__(
        self,
        tables: Iterable[MethodTable],
        *,
        phone: str,
    ) -> None:
        self.phone = phone
        self._table: dict[str, tuple[type[Params], Method]] = {}
        for table in tables:
            for name, entry in table.items():
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
        except Refused as refused:
            raise LinkError(refused.code, refused.message, details=refused.details) from None
        except DatabaseUnavailable:
            log.warning("agent.database_unavailable", method=request.method)
            raise LinkError(
                ErrorCode.UNAVAILABLE,
                "The office's system cannot be reached right now. Please try again in a few "
                f"minutes, or call {self.phone}.",
            ) from None


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
