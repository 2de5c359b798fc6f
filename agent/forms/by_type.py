"""`forms assign --appointment-type`: which appointment type staff mean, and who is booked for
it. The practice's data, read through the practice store's Lookups."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from agent.store.base import AppointmentType, Lookups


class UnknownAppointmentType(Exception):
    """No type, or several, answer to what staff typed; the message lists the types."""


def booked_patients(
    lookups: Lookups, cursor: Any, reference: str, now: datetime, days: int
) -> list[int]:
    """The patients with an appointment of the type `reference` (its id or its name) that
    starts in the next `days` days, in id order. Raises UnknownAppointmentType."""
    type_id = _appointment_type_id(lookups.all_appointment_types(cursor), reference)
    first = math.ceil(now.timestamp() / 60)  # appointments start on whole minutes
    return lookups.patients_with_appointment_type(cursor, type_id, first, first + days * 24 * 60)


def _appointment_type_id(types: list[AppointmentType], reference: str) -> int:
    """The id of the type named or numbered ``reference`` (names compared case-blind)."""
    wanted = reference.strip()
    if wanted.isdigit():
        matches = [t for t in types if t.id == int(wanted)]
    else:
        matches = [t for t in types if t.name.casefold() == wanted.casefold()]
    if len(matches) == 1:
        return matches[0].id
    known = ", ".join(f'{t.id} "{t.name}"' for t in types) or "none"
    if matches:
        problem = f'several appointment types are named "{wanted}"; give the id instead'
    else:
        problem = f'no appointment type "{wanted}"'
    raise UnknownAppointmentType(f"{problem} (types: {known})")
