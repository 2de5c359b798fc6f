"""The audit trail: one append-only row per login, PHI read or write, booking or access change.

Rows carry ids, action names and outcome codes — never names, emails, dates of birth or free
text a patient typed — so the trail itself is safe to show an auditor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent.caller import Caller


def record(
    cursor: Any,
    *,
    now: datetime,
    actor: str,
    patient_id: int | None,
    action: str,
    outcome: str,
    client_ip: str | None = None,
    detail: str | None = None,
) -> None:
    """Insert one audit row with the caller's cursor, i.e. inside the caller's transaction."""
    cursor.execute(
        "INSERT INTO portal_audit"
        " (occurred_at, actor, patient_id, action, outcome, client_ip, detail)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            now.replace(tzinfo=None),
            actor[:64],
            patient_id,
            action[:64],
            outcome[:32],
            client_ip[:45] if client_ip else None,
            detail[:255] if detail else None,
        ),
    )


def by_patient(
    cursor: Any,
    caller: Caller,
    *,
    now: datetime,
    action: str,
    outcome: str,
    detail: str | None = None,
) -> None:
    """One row for what a signed-in patient did or read: actor, patient and address from the
    session's caller."""
    record(
        cursor,
        now=now,
        actor=caller.actor,
        patient_id=caller.patient_id,
        action=action,
        outcome=outcome,
        client_ip=caller.client_ip,
        detail=detail,
    )


def by_staff(
    cursor: Any,
    now: datetime,
    actor: str,
    patient_id: int | None,
    action: str,
    outcome: str,
    detail: str | None = None,
) -> None:
    """One row for what a staff command did (actor ``staff:<os user>``); no client address."""
    record(
        cursor,
        now=now,
        actor=actor,
        patient_id=patient_id,
        action=action,
        outcome=outcome,
        detail=detail,
    )
