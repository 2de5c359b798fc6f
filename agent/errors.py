"""The one exception domain code raises to refuse a request: :class:`Refused`.

Services (booking, access, messages, forms, records) know nothing of the link; they refuse
with a stable code from :class:`protocol.errors.ErrorCode` — the vocabulary of answers both
programs share — and a message for the patient. agent/rpc.py turns a Refused into the link's
error answer, with the same code, message and details, so the wire does not know the
difference.
"""

from __future__ import annotations

from typing import Any

from protocol.errors import ErrorCode


class Refused(Exception):
    """A request this patient (or this office's rules) does not allow, or cannot be done.

    The message is shown to patients: plain language, no internal detail, nothing about
    another patient. ``details`` carries the same as a mapping where a requester wants one
    (the fields of a form to fix).
    """

    def __init__(
        self, code: ErrorCode, message: str, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details
