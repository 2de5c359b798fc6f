"""Every agent error code as words a patient can act on (docs/protocol.md section 10).

The agent's own messages are safe to show, but they are written for any client; here each code
gets one sentence in the portal's voice, with the office's phone number where the answer is
"call us". `invalid_params` is the exception: its per-field messages (password rules, a taken
username) are shown next to the fields they name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from protocol.aio import RemoteError
from protocol.errors import ErrorCode

if TYPE_CHECKING:
    from proxy.views.base import Office

# Codes meaning "the office's system cannot answer right now": the 503 page, not a form error.
UNREACHABLE_CODES: frozenset[str] = frozenset(
    {ErrorCode.UNAVAILABLE, ErrorCode.BUSY, ErrorCode.DEADLINE_EXCEEDED, ErrorCode.SHUTDOWN}
)


def unreachable(office: Office) -> str:
    return f"We can't reach {office.name} right now. Please call {office.phone}."


def friendly(code: str, office: Office) -> str:
    phone = office.phone
    messages: dict[str, str] = {
        ErrorCode.SLOT_UNAVAILABLE: "That time was just taken \u2014 please pick another.",
        ErrorCode.OVERLAPS_OWN_APPOINTMENT: (
            "You already have an appointment at that time \u2014 please pick another."
        ),
        ErrorCode.OUTSIDE_BOOKING_WINDOW: (
            "That time can no longer be booked online (it is too soon or too far ahead). "
            "Please pick another time."
        ),
        ErrorCode.CANCEL_WINDOW_CLOSED: (
            f"Too close to the appointment to change online \u2014 please call {phone}."
        ),
        ErrorCode.BOOKING_DISABLED: (
            f"This office does not take these changes online. Please call {phone}."
        ),
        ErrorCode.LIMIT_REACHED: (
            "You already have as many upcoming appointments as this office allows online. "
            f"Please call {phone} to book another."
        ),
        ErrorCode.NOT_FOUND: "We could not find that. It may have been changed or cancelled.",
        ErrorCode.RATE_LIMITED: "Too many attempts; wait a minute and try again.",
        ErrorCode.FORBIDDEN: f"This cannot be done online. Please call {phone}.",
        ErrorCode.INVALID_PARAMS: "Please check what you typed and try again.",
        ErrorCode.UNAUTHENTICATED: "Please sign in again.",
    }
    if code in UNREACHABLE_CODES:
        return unreachable(office)
    return messages.get(
        code, f"Something went wrong on our side. Please try again, or call {phone}."
    )


def field_errors(error: RemoteError, fields: dict[str, str]) -> dict[str, str]:
    """Split an `invalid_params` message ("password: Use at least 12 characters; zip: ...")
    into {form field: message}; `fields` maps the agent's parameter names to the form's."""
    found: dict[str, str] = {}
    for part in error.message.split("; "):
        name, sep, text = part.partition(": ")
        if sep and name in fields and text:
            found.setdefault(fields[name], text[0].upper() + text[1:])
    return found
