"""Whom the portal may write to about a patient's own business (a new message, an appointment
change): only a patient with an active account whose access the office has enabled (the others
could not sign in to see what the mail is about), at that account's address, greeted by the
first name the practice registered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.store.base import Lookups

__all__ = ["Recipient", "patient_recipient"]


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str
    first_name: str


def patient_recipient(cursor: Any, lookups: Lookups, patient_id: int) -> Recipient | None:
    """The patient's portal address and first name, or None when nobody should be written to."""
    cursor.execute(
        "SELECT email FROM portal_accounts"
        " WHERE patient_id = %s AND status = 'active' AND access_enabled = 1"
        " AND email IS NOT NULL AND email <> ''",
        (patient_id,),
    )
    row = cursor.fetchone()
    name = lookups.patient_names(cursor, [patient_id]).get(patient_id) if row else None
    if row is None or name is None:
        return None
    return Recipient(str(row["email"]), name.first_name)
