"""Booking a new appointment and moving an existing one: the steps, the confirm page, the POST.

The confirm page carries a random idempotency key in a hidden field; the agent answers a
repeated key with the first booking, so pressing the button twice (or reloading the POST)
books once.

Each page starts all its requests at once (one link round trip): the practice's rules, and
when moving, the patient's appointments, go with the step's own requests. The steps of a move
need the appointment's type, which its links carry as a guess (`type=`); when the appointment
says otherwise (or a bookmark has none), the step's requests are asked again with the right
type, a second trip, and what was asked on the guess is never shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aiohttp import web

from protocol.aio import RemoteError
from protocol.errors import ErrorCode
from proxy.views.appointments import (
    appointment_id,
    change_blocked_reason,
    change_refused,
    describe,
    find_upcoming,
)
from proxy.views.base import call, office, render, see_other, start
from proxy.views.booking_steps import (
    PLEASE_CHOOSE,
    Choice,
    Flow,
    StepCalls,
    choose_time,
    next_step,
    read_choice,
    start_catalogue,
    start_step,
)
from proxy.views.form_input import idempotency_key, new_idempotency_key, read_form
from proxy.views.times import local_when, zone_label
from proxy.views.wording import friendly

BOOKING = Flow(path="/book", title="Book an appointment", button="Book this appointment")
# Refusals best answered by choosing another time on the same day.
_PICK_ANOTHER: frozenset[str] = frozenset(
    {
        ErrorCode.SLOT_UNAVAILABLE,
        ErrorCode.OUTSIDE_BOOKING_WINDOW,
        ErrorCode.OVERLAPS_OWN_APPOINTMENT,
    }
)


def _closed(request: web.Request) -> web.Response:
    phone = office(request).phone
    context = {
        "title": "Please call to book",
        "message": f"This office does not take bookings online. Please call {phone}.",
        "back": "/appointments",
    }
    return render(request, "message.html", context, 409)


def _practice(request: web.Request) -> asyncio.Task[Any]:
    # Signed-in page: proxy/views/header.py has the agent check the session, in the same trip.
    return start(request, "practice.info", as_patient=False)


async def _moving(
    request: web.Request, listing: asyncio.Task[Any] | None = None
) -> tuple[Flow, dict[str, Any]] | web.Response:
    """The flow for moving the appointment in the URL, or the page saying why it cannot be."""
    wanted = appointment_id(request)
    appointment = await find_upcoming(request, wanted, listing)
    if appointment is None:
        message = "We could not find that appointment. It may have been changed or cancelled."
        context = {"title": "Appointment not found", "message": message, "back": "/appointments"}
        return render(request, "message.html", context, 404)
    flow = Flow(
        path=f"/appointments/{wanted}/reschedule",
        title="Move your appointment",
        button="Move my appointment",
        fixed_type=appointment["appointment_type"]["id"],
        appointment=describe(appointment),
    )
    return flow, appointment


def _confirm_calls(request: web.Request, choice: Choice, moving: int | None = None) -> StepCalls:
    """What _confirm_page will ask for `choice`."""
    if choice.type_id is None or choice.provider is None:
        return StepCalls()
    if choice.start is None:
        # Without a day: back to the steps; with one: its times again, saying "choose one".
        return StepCalls() if choice.day is None else start_step(request, choice, moving=moving)
    return StepCalls(catalogue=start_catalogue(request, choice.type_id))


# -- GET: the steps and the confirm page -----------------------------------------------------


async def book(request: web.Request) -> web.Response:
    choice = read_choice(request.query)
    started, calls = _practice(request), start_step(request, choice)
    try:
        practice = await started
    except BaseException:
        await calls.settled()  # nothing started for this page outlives it
        raise
    if not practice["booking"]["enabled"]:
        await calls.settled()
        return _closed(request)
    return await _step(request, BOOKING, choice, practice, calls)


async def reschedule(request: web.Request) -> web.Response:
    wanted = appointment_id(request)
    moving = await _move(request, lambda choice: start_step(request, choice, moving=wanted))
    if isinstance(moving, web.Response):
        return moving
    flow, appointment, choice, practice, calls = moving
    if not practice["booking"]["enabled"]:
        await _settled(calls)
        return _closed(request)
    if not appointment["can_change"]:
        await _settled(calls)
        reason = change_blocked_reason(appointment, practice, office(request))
        context = {"title": "Please call the office", "message": reason, "back": "/appointments"}
        return render(request, "message.html", context, 409)
    calls = calls or start_step(request, choice, moving=wanted)
    return await _step(request, flow, choice, practice, calls)


_Moving = tuple[Flow, dict[str, Any], Choice, dict[str, Any], StepCalls | None]


async def _move(
    request: web.Request, calls_for: Callable[[Choice], StepCalls]
) -> _Moving | web.Response:
    """The appointment being moved (its flow and the choice so far), the practice's rules, and
    `calls_for(choice)` started with them on the link's guess of the appointment's type. The
    calls are None when the guess was missing or wrong (what was asked on it is dropped): the
    caller starts them again for the choice. Or the page saying the appointment is not found."""
    guess = read_choice(request.query)
    practice, listing = _practice(request), start(request, "appointments.list")
    calls = None if guess.type_id is None else calls_for(guess)
    try:
        moving = await _moving(request, listing)
    except BaseException:
        await _settled(calls, practice)  # nothing started for this page outlives it
        raise
    if isinstance(moving, web.Response):
        await _settled(calls, practice)
        return moving
    flow, appointment = moving
    if calls is not None and guess.type_id != flow.fixed_type:
        await _settled(calls)
        calls = None
    return flow, appointment, read_choice(request.query, flow.fixed_type), await practice, calls


async def _settled(calls: StepCalls | None, *tasks: asyncio.Task[Any]) -> None:
    """Wait for requests this page will not use (their answers and errors are dropped)."""
    if calls is not None:
        await calls.settled()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _step(
    request: web.Request, flow: Flow, choice: Choice, practice: dict[str, Any], calls: StepCalls
) -> web.Response:
    try:
        return await next_step(request, flow, choice, practice, calls)
    except RemoteError as exc:
        if exc.code == ErrorCode.NOT_FOUND and flow.appointment is not None:
            # Its type (or provider) is not bookable online: only the office can move it.
            message = (
                f"This appointment cannot be moved online. Please call {office(request).phone}."
            )
            context = {
                "title": "Please call the office",
                "message": message,
                "back": "/appointments",
            }
            return render(request, "message.html", context, 409)
        if exc.code in (
            ErrorCode.NOT_FOUND,
            ErrorCode.BOOKING_DISABLED,
            ErrorCode.FORBIDDEN,
            ErrorCode.INVALID_PARAMS,
        ):
            return change_refused(request, exc)
        raise


async def book_confirm_page(request: web.Request) -> web.Response:
    choice = read_choice(request.query)
    started, calls = _practice(request), _confirm_calls(request, choice)
    return await _confirm_page(request, BOOKING, choice, await started, calls)


async def reschedule_confirm_page(request: web.Request) -> web.Response:
    wanted = appointment_id(request)
    moving = await _move(request, lambda choice: _confirm_calls(request, choice, wanted))
    if isinstance(moving, web.Response):
        return moving
    flow, _, choice, practice, calls = moving
    calls = calls or _confirm_calls(request, choice, wanted)
    return await _confirm_page(request, flow, choice, practice, calls)


async def _confirm_page(
    request: web.Request, flow: Flow, choice: Choice, practice: dict[str, Any], calls: StepCalls
) -> web.Response:
    if choice.start is None and None not in (choice.type_id, choice.provider, choice.day):
        # "Next" on the time step without a time chosen.
        return await choose_time(
            request, flow, choice, practice, calls, error=PLEASE_CHOOSE, status=422
        )
    if choice.type_id is None or choice.provider is None or choice.start is None:
        return see_other(flow.url(choice))  # back to the first step still missing a choice
    names = await calls.names(flow, choice.type_id)
    context = {
        "flow": flow,
        "choice": choice,
        "title": flow.title,
        "names": names,
        "when": local_when(choice.start, practice.get("timezone")),
        "zone": zone_label(practice.get("timezone")),
        "idem": new_idempotency_key(),
        "change_time_url": flow.url(choice),
    }
    return render(request, "book_confirm.html", context)


# -- POST: book or move ----------------------------------------------------------------------


def _slot_params(choice: Choice) -> dict[str, Any]:
    assert choice.start is not None
    params: dict[str, Any] = {"start": choice.start}
    if choice.provider_id is not None:
        params["provider_id"] = choice.provider_id  # absent: "No preference"
    return params


async def book_confirm(request: web.Request) -> web.Response:
    form = await read_form(request)
    choice = read_choice(form)
    if choice.type_id is None or choice.provider is None or choice.start is None:
        return see_other(BOOKING.url(choice))
    params = {"appointment_type_id": choice.type_id, **_slot_params(choice)}
    key = idempotency_key(form) or new_idempotency_key()
    try:
        booked = await call(request, "booking.book", params, idempotency_key=key)
    except RemoteError as exc:
        if exc.code in _PICK_ANOTHER and choice.day is not None:
            return await _pick_another(request, BOOKING, choice, exc)
        return change_refused(request, exc)
    return see_other(f"/appointments/{booked['id']}/booked")


async def reschedule_confirm(request: web.Request) -> web.Response:
    wanted = appointment_id(request)
    form = await read_form(request)
    choice = read_choice(form)
    if choice.provider is None or choice.start is None:
        return see_other(f"/appointments/{wanted}/reschedule")
    params = {"appointment_id": wanted, **_slot_params(choice)}
    key = idempotency_key(form) or new_idempotency_key()
    try:
        moved = await call(request, "booking.reschedule", params, idempotency_key=key)
    except RemoteError as exc:
        if exc.code in _PICK_ANOTHER and choice.day is not None:
            moving = await _moving(request)
            if isinstance(moving, web.Response):
                return moving
            flow = moving[0]
            choice = replace(choice, type_id=flow.fixed_type)
            return await _pick_another(request, flow, choice, exc, wanted)
        return change_refused(request, exc)
    return see_other(f"/appointments/{moved['appointment']['id']}/booked?moved=1")


async def _pick_another(
    request: web.Request, flow: Flow, choice: Choice, exc: RemoteError, moving: int | None = None
) -> web.Response:
    """Back to the times of the same day, with the reason at the top."""
    started, calls = _practice(request), start_step(request, choice, moving=moving)
    message = friendly(exc.code, office(request))
    return await choose_time(request, flow, choice, await started, calls, error=message, status=409)
