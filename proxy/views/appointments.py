"""The patient's appointments: the list, the "you're booked" page, and cancelling one."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web

from protocol.aio import RemoteError
from protocol.errors import ErrorCode
from proxy.views.base import Office, call, office, render, see_other
from proxy.views.form_input import idempotency_key, new_idempotency_key, read_form
from proxy.views.times import local_when, zone_label
from proxy.views.wording import friendly

NOTICES = {
    "cancelled": "Your appointment is cancelled.",
    "cancelled_late": (
        "Your appointment is cancelled. Because it was close to the appointment time, the "
        "office may charge a late-cancellation fee."
    ),
}
_BIG_ID = re.compile(r"[1-9][0-9]{0,18}")
# What the agent names the file ("appointment-2026-11-25.ics"); anything else is replaced, so
# nothing from the agent lands in the header unchecked.
_SAFE_ICS_NAME = re.compile(r"appointment-[0-9]{4}-[0-9]{2}-[0-9]{2}\.ics")
CALENDAR_FALLBACK_NAME = "appointment.ics"
# Status words for past appointments; the agent's own values are not shown raw.
STATUS_WORDS = {"booked": "", "cancelled": "Cancelled", "completed": "", "no_show": "Missed"}


def appointment_id(request: web.Request) -> int:
    text = request.match_info.get("appointment_id", "")
    if _BIG_ID.fullmatch(text) and int(text) <= 2**63 - 1:
        return int(text)
    raise web.HTTPNotFound()


def change_blocked_reason(
    appointment: dict[str, Any], practice: dict[str, Any], here: Office
) -> str:
    """Why an upcoming appointment has no Cancel / Reschedule buttons."""
    if not practice.get("booking", {}).get("allow_cancel_reschedule", True):
        return f"This office does not take changes online \u2014 please call {here.phone}."
    return f"Too close to the appointment to change online \u2014 please call {here.phone}."


def describe(appointment: dict[str, Any]) -> dict[str, Any]:
    """What the templates show of one appointment."""
    status = appointment.get("status", "")
    return {
        "id": appointment["id"],
        # In the Reschedule link: the steps of a move ask for times of this type, and knowing
        # it before the appointment is fetched lets them ask in the same trip (booking.py).
        "type_id": appointment["appointment_type"]["id"],
        "when": local_when(appointment["local_start"]),
        "type": appointment["appointment_type"]["name"],
        "minutes": appointment["appointment_type"]["duration_minutes"],
        "provider": appointment["provider"]["name"],
        "can_change": bool(appointment.get("can_change")),
        "status": STATUS_WORDS.get(status, status.replace("_", " ").capitalize()),
        "late_cancel": bool(appointment.get("late_cancel")),
        "cancel_fee_applies": bool(appointment.get("cancel_fee_applies")),
    }


async def find_upcoming(
    request: web.Request, wanted: int, started: asyncio.Task[Any] | None = None
) -> dict[str, Any] | None:
    """The patient's upcoming appointment `wanted`, from the list `started` (else asked now)."""
    listing = await (started or call(request, "appointments.list"))
    return next((a for a in listing["upcoming"] if a["id"] == wanted), None)


async def appointments_page(request: web.Request) -> web.Response:
    listing, practice = await asyncio.gather(
        call(request, "appointments.list"),
        call(request, "practice.info", as_patient=False),
    )
    here = office(request)
    upcoming = []
    for appointment in listing["upcoming"]:
        item = describe(appointment)
        if not item["can_change"]:
            item["reason"] = change_blocked_reason(appointment, practice, here)
        upcoming.append(item)
    context = {
        "upcoming": upcoming,
        "past": [describe(a) for a in listing["past"]],
        "zone": zone_label(practice.get("timezone")),
        "booking_enabled": practice.get("booking", {}).get("enabled", False),
        "notice": NOTICES.get(request.query.get("notice", "")),
    }
    return render(request, "appointments.html", context)


def _not_found(request: web.Request) -> web.Response:
    message = "We could not find that appointment. It may have been changed or cancelled."
    context = {"title": "Appointment not found", "message": message, "back": "/appointments"}
    return render(request, "message.html", context, 404)


async def booked_page(request: web.Request) -> web.Response:
    appointment = await find_upcoming(request, appointment_id(request))
    if appointment is None:
        return _not_found(request)
    moved = request.query.get("moved") == "1"
    context = {
        "title": "Your appointment is moved" if moved else "You're booked",
        "appointment": describe(appointment),
    }
    return render(request, "booked.html", context)


async def cancel_page(request: web.Request) -> web.Response:
    wanted = appointment_id(request)
    appointment, practice = await asyncio.gather(
        find_upcoming(request, wanted), call(request, "practice.info", as_patient=False)
    )
    if appointment is None:
        return _not_found(request)
    item = describe(appointment)
    if not item["can_change"]:
        item["reason"] = change_blocked_reason(appointment, practice, office(request))
    context = {"appointment": item, "idem": new_idempotency_key()}
    return render(request, "cancel.html", context)


async def cancel(request: web.Request) -> web.Response:
    wanted = appointment_id(request)
    form = await read_form(request)
    try:
        result = await call(
            request,
            "booking.cancel",
            {"appointment_id": wanted},
            idempotency_key=idempotency_key(form) or new_idempotency_key(),
        )
    except RemoteError as exc:
        return change_refused(request, exc)
    notice = "cancelled_late" if result.get("late_cancel") else "cancelled"
    return see_other(f"/appointments?notice={notice}")


_REFUSAL_STATUS: dict[str, int] = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.CANCEL_WINDOW_CLOSED: 409,
    ErrorCode.BOOKING_DISABLED: 409,
    ErrorCode.LIMIT_REACHED: 409,
    ErrorCode.OUTSIDE_BOOKING_WINDOW: 409,
    ErrorCode.SLOT_UNAVAILABLE: 409,
    ErrorCode.OVERLAPS_OWN_APPOINTMENT: 409,
    ErrorCode.INVALID_PARAMS: 422,
}


async def calendar_file(request: web.Request) -> web.Response:
    """The appointment as an .ics file ("Add to calendar"): a read that changes nothing. The
    agent answers someone else's appointment as a missing one, so the page is the same."""
    try:
        found = await call(
            request, "booking.calendar_file", {"appointment_id": appointment_id(request)}
        )
    except RemoteError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            return _not_found(request)
        raise
    text = found.get("calendar")
    if not isinstance(text, str):
        raise web.HTTPInternalServerError()
    name = found.get("filename")
    if not isinstance(name, str) or not _SAFE_ICS_NAME.fullmatch(name):
        name = CALENDAR_FALLBACK_NAME
    return web.Response(
        body=text.encode("utf-8"),
        headers={
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


def change_refused(request: web.Request, exc: RemoteError) -> web.Response:
    """A booking change the agent refused, as a page saying why and what to do instead."""
    status = _REFUSAL_STATUS.get(exc.code)
    if status is None:
        raise exc  # unavailable, rate_limited, internal...: the error middleware's pages
    context = {
        "title": "That did not work",
        "message": friendly(exc.code, office(request)),
        "back": "/appointments",
    }
    return render(request, "message.html", context, status)
