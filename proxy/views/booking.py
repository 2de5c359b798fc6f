"""Booking a new appointment and moving an existing one: the steps, the confirm page, the POST.

The confirm page carries a random idempotency key in a hidden field; the agent answers a
repeated key with the first booking, so pressing the button twice (or reloading the POST)
books once.
"""

from __future__ import annotations

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
from proxy.views.base import call, office, render, see_other
from proxy.views.booking_steps import (
    PLEASE_CHOOSE,
    Choice,
    Flow,
    catalogue,
    choose_time,
    next_step,
    read_choice,
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


async def _practice(request: web.Request) -> dict[str, Any]:
    # Signed-in page: proxy/views/header.py had the agent check the session already.
    practice: dict[str, Any] = await call(request, "practice.info", as_patient=False)
    return practice


async def _moving(request: web.Request) -> tuple[Flow, dict[str, Any]] | web.Response:
    """The flow for moving the appointment in the URL, or the page saying why it cannot be."""
    wanted = appointment_id(request)
    appointment = await find_upcoming(request, wanted)
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


# -- GET: the steps and the confirm page -----------------------------------------------------


async def book(request: web.Request) -> web.Response:
    practice = await _practice(request)
    if not practice["booking"]["enabled"]:
        return _closed(request)
    return await _step(request, BOOKING, read_choice(request.query), practice)


async def reschedule(request: web.Request) -> web.Response:
    practice = await _practice(request)
    moving = await _moving(request)
    if isinstance(moving, web.Response):
        return moving
    flow, appointment = moving
    if not practice["booking"]["enabled"]:
        return _closed(request)
    if not appointment["can_change"]:
        reason = change_blocked_reason(appointment, practice, office(request))
        context = {"title": "Please call the office", "message": reason, "back": "/appointments"}
        return render(request, "message.html", context, 409)
    return await _step(request, flow, read_choice(request.query, flow.fixed_type), practice)


async def _step(
    request: web.Request, flow: Flow, choice: Choice, practice: dict[str, Any]
) -> web.Response:
    try:
        return await next_step(request, flow, choice, practice)
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
    practice = await _practice(request)
    return await _confirm_page(request, BOOKING, practice)


async def reschedule_confirm_page(request: web.Request) -> web.Response:
    practice = await _practice(request)
    moving = await _moving(request)
    if isinstance(moving, web.Response):
        return moving
    return await _confirm_page(request, moving[0], practice)


async def _confirm_page(request: web.Request, flow: Flow, practice: dict[str, Any]) -> web.Response:
    choice = read_choice(request.query, flow.fixed_type)
    if choice.start is None and None not in (choice.type_id, choice.provider, choice.day):
        # "Next" on the time step without a time chosen.
        return await choose_time(request, flow, choice, practice, error=PLEASE_CHOOSE, status=422)
    if choice.type_id is None or choice.provider is None or choice.start is None:
        return see_other(flow.url(choice))  # back to the first step still missing a choice
    names = await catalogue(request, flow, choice.type_id)
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
            return await _pick_another(request, flow, choice, exc)
        return change_refused(request, exc)
    return see_other(f"/appointments/{moved['appointment']['id']}/booked?moved=1")


async def _pick_another(
    request: web.Request, flow: Flow, choice: Choice, exc: RemoteError
) -> web.Response:
    """Back to the times of the same day, with the reason at the top."""
    practice = await call(request, "practice.info", as_patient=False)
    message = friendly(exc.code, office(request))
    return await choose_time(request, flow, choice, practice, error=message, status=409)
