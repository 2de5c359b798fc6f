"""The steps of choosing a time: type -> provider (or No preference) -> day -> time.

Every choice travels in the query string of a plain GET form or link, so the proxy keeps no
state between steps, the Back button works, and any step can be bookmarked or reloaded. The
same steps serve booking a new appointment and moving one (where the type is fixed).

A step's requests are started together (`start_step`), with the practice's rules and (when
moving) the appointment, so that a step costs one link round trip: which step the choices
lead to is known from them alone, except that "No preference" may not be offered, and that
step (the provider list) needs a subset of what the next one does.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from proxy.views.base import render, start
from proxy.views.times import day_label, parse_instant, slot_time, zone_label

DAYS_PER_PAGE = 14
NO_PREFERENCE = "any"
PLEASE_CHOOSE = "Please choose one of the options, then press Next."
_ID = re.compile(r"[1-9][0-9]{0,9}")


def small_id(value: object) -> int | None:
    if isinstance(value, str) and _ID.fullmatch(value):
        number = int(value)
        return number if number <= 2**31 - 1 else None
    return None


def iso_day(value: object) -> str | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def instant(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    moment = parse_instant(value)
    if moment is None or moment.second or moment.microsecond:
        return None
    return value


@dataclass(frozen=True, slots=True)
class Choice:
    type_id: int | None = None
    provider: str | None = None  # a provider id as text, NO_PREFERENCE, or None: not chosen yet
    day: str | None = None
    start: str | None = None
    from_day: str | None = None

    @property
    def provider_id(self) -> int | None:
        return None if self.provider in (None, NO_PREFERENCE) else int(self.provider)


def read_choice(values: Mapping[str, Any], fixed_type: int | None = None) -> Choice:
    provider = values.get("provider")
    if provider != NO_PREFERENCE:
        number = small_id(provider)
        provider = None if number is None else str(number)
    return Choice(
        type_id=fixed_type if fixed_type is not None else small_id(values.get("type")),
        provider=provider,
        day=iso_day(values.get("day")),
        start=instant(values.get("start")),
        from_day=iso_day(values.get("from")),
    )


@dataclass(frozen=True, slots=True)
class Flow:
    """Booking (`/book`) or moving one appointment (`/appointments/<id>/reschedule`)."""

    path: str
    title: str
    button: str
    fixed_type: int | None = None
    appointment: dict[str, Any] | None = None

    @property
    def confirm_path(self) -> str:
        return f"{self.path}/confirm"

    def url(self, choice: Choice, *, path: str | None = None, **changes: Any) -> str:
        """A link to a step: the choices so far plus `changes`. The start time is never in a
        link: only the time step's form sends it, to the confirm page. When moving, the type
        is fixed by the appointment; it is in the link all the same, as a guess that lets the
        next page ask for the times together with the appointment (booking.py checks it)."""
        choice = replace(choice, **changes)
        query = {
            "type": choice.type_id,
            "provider": choice.provider,
            "day": choice.day,
            "from": choice.from_day,
        }
        pairs = {k: v for k, v in query.items() if v is not None}
        base = path or self.path
        return f"{base}?{urlencode(pairs)}" if pairs else base

    def hidden(self, choice: Choice) -> dict[str, str]:
        """The choices as hidden form fields (for the GET forms of the next step)."""
        fields = {
            "type": choice.type_id,
            "provider": choice.provider,
            "day": choice.day,
        }
        return {k: str(v) for k, v in fields.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Names for the summary: the appointment type and the providers offering it."""

    type: dict[str, Any] | None
    providers: list[dict[str, Any]]

    def provider_name(self, choice: Choice) -> str:
        if choice.provider == NO_PREFERENCE:
            return "No preference (the first one free at that time)"
        for provider in self.providers:
            if provider["id"] == choice.provider_id:
                return str(provider["name"])
        return "The provider you chose"


@dataclass(frozen=True, slots=True)
class StepCalls:
    """The requests of one step, started (and so sent) together by `start_step`."""

    types: asyncio.Task[Any] | None = None  # the type step's list, asked as the patient
    catalogue: tuple[asyncio.Task[Any], asyncio.Task[Any]] | None = None  # types, providers
    free: asyncio.Task[Any] | None = None  # availability

    async def names(self, flow: Flow, type_id: int) -> Catalogue:
        assert self.catalogue is not None
        types, providers = await asyncio.gather(*self.catalogue)
        found = next((t for t in types["appointment_types"] if t["id"] == type_id), None)
        if found is None and flow.appointment is not None:
            # Moving a visit whose type is not bookable online: name it from the visit itself
            # (flow.appointment is appointments.describe()'s view: "type" and "minutes").
            moving = flow.appointment
            found = {"id": type_id, "name": moving["type"], "duration_minutes": moving["minutes"]}
        return Catalogue(found, providers["providers"])

    async def settled(self) -> None:
        """Wait for requests this page will not use (their answers are dropped)."""
        tasks = [self.types, self.free, *(self.catalogue or ())]
        await asyncio.gather(*(t for t in tasks if t is not None), return_exceptions=True)


def start_catalogue(
    request: web.Request, type_id: int
) -> tuple[asyncio.Task[Any], asyncio.Task[Any]]:
    return (
        start(request, "booking.appointment_types", as_patient=False),
        start(request, "booking.providers", {"appointment_type_id": type_id}, as_patient=False),
    )


def start_step(request: web.Request, choice: Choice, *, moving: int | None = None) -> StepCalls:
    """Start the requests of the step `choice` leads to, as if "No preference" is offered
    (next_step then uses what it needs). `moving`: the appointment being moved, by id."""
    if choice.type_id is None:
        # As the patient: the agent then says whether the patient is at the office's cap.
        return StepCalls(types=start(request, "booking.appointment_types"))
    types, providers = start_catalogue(request, choice.type_id)
    free = None
    if choice.provider is not None:
        if choice.day is None:  # the day step: a page of days
            params = _availability_params(choice, choice.from_day, DAYS_PER_PAGE, moving)
        else:  # the time step: that day
            params = _availability_params(choice, choice.day, 1, moving)
        free = start(request, "booking.availability", params)
    return StepCalls(catalogue=(types, providers), free=free)


def _context(flow: Flow, choice: Choice, **extra: Any) -> dict[str, Any]:
    return {"flow": flow, "choice": choice, "title": flow.title, **extra}


async def choose_type(
    request: web.Request, flow: Flow, choice: Choice, calls: StepCalls, error: str | None = None
) -> web.Response:
    assert calls.types is not None
    types = await calls.types
    context = _context(
        flow,
        choice,
        types=types["appointment_types"],
        limit_reached=bool(types.get("limit_reached")),
        error=error,
    )
    return render(request, "book_type.html", context, 422 if error else 200)


async def choose_provider(
    request: web.Request,
    flow: Flow,
    choice: Choice,
    calls: StepCalls,
    allow_any: bool,
    error: str | None = None,
) -> web.Response:
    assert choice.type_id is not None
    names = await calls.names(flow, choice.type_id)
    if names.type is None:
        return web.Response(status=303, headers={"Location": flow.path})
    context = _context(flow, choice, names=names, allow_any=allow_any, error=error)
    return render(request, "book_provider.html", context, 422 if error else 200)


def _availability_params(
    choice: Choice, first_day: str | None, days: int, moving: int | None
) -> dict[str, Any]:
    assert choice.type_id is not None
    params: dict[str, Any] = {"appointment_type_id": choice.type_id, "days": days}
    if moving is not None:
        # The visit being moved does not stand in its own way.
        params["rescheduling_appointment_id"] = moving
    if choice.provider_id is not None:
        params["provider_id"] = choice.provider_id
    if first_day is not None:
        params["from_date"] = first_day
    return params


async def choose_day(
    request: web.Request, flow: Flow, choice: Choice, practice: dict[str, Any], calls: StepCalls
) -> web.Response:
    assert choice.type_id is not None and calls.free is not None
    names, free = await asyncio.gather(calls.names(flow, choice.type_id), calls.free)
    days = [
        {
            "label": day_label(d["date"]),
            "count": len(d["slots"]),
            "url": flow.url(choice, day=d["date"]),
        }
        for d in free["days"]
        if d["slots"]
    ]
    zone = free.get("timezone") or practice.get("timezone")
    context = _context(
        flow,
        choice,
        names=names,
        days=days,
        zone=zone_label(zone),
        later_url=_later_url(flow, choice, free),
        first_url=flow.url(choice, from_day=None) if choice.from_day else None,
    )
    return render(request, "book_day.html", context)


def _later_url(flow: Flow, choice: Choice, free: dict[str, Any]) -> str | None:
    """The next page of days: where the agent says it starts, or none past the horizon. The
    agent alone knows the booking window (its clock, its rules), so nothing is computed here."""
    following = iso_day(free.get("next_from"))
    return None if following is None else flow.url(choice, from_day=following)


async def choose_time(
    request: web.Request,
    flow: Flow,
    choice: Choice,
    practice: dict[str, Any],
    calls: StepCalls,
    *,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    assert choice.type_id is not None and choice.day is not None and calls.free is not None
    names, free = await asyncio.gather(calls.names(flow, choice.type_id), calls.free)
    slots: list[dict[str, Any]] = next(
        (d["slots"] for d in free["days"] if d["date"] == choice.day), []
    )
    times = [{"start": s["start"], "label": slot_time(s["local_time"])} for s in slots]
    context = _context(
        flow,
        choice,
        names=names,
        times=times,
        day=day_label(choice.day),
        zone=zone_label(free.get("timezone") or practice.get("timezone")),
        error=error,
        days_url=flow.url(choice, day=None),
    )
    return render(request, "book_time.html", context, status)


async def next_step(
    request: web.Request, flow: Flow, choice: Choice, practice: dict[str, Any], calls: StepCalls
) -> web.Response:
    """The first step whose choice is still missing, from the requests `start_step` started
    for `choice`. `asked` names the step whose form was just sent: if its choice is still
    missing, the patient pressed Next without choosing."""
    allow_any = bool(practice["booking"]["allow_no_preference"])
    asked = request.query.get("asked")
    if choice.type_id is None:
        error = PLEASE_CHOOSE if asked == "type" else None
        return await choose_type(request, flow, choice, calls, error)
    if choice.provider is None or (choice.provider == NO_PREFERENCE and not allow_any):
        error = PLEASE_CHOOSE if asked == "provider" else None
        await calls.settled()  # the times of "No preference", asked for on a guess
        return await choose_provider(
            request, flow, replace(choice, provider=None), calls, allow_any, error
        )
    if choice.day is None:
        return await choose_day(request, flow, choice, practice, calls)
    return await choose_time(request, flow, choice, practice, calls)
