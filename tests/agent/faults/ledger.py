""" "Nothing lost", read straight from the database after a fault.

One booking made through the portal writes, in one transaction (agent/booking/service.py): the
`appointments` row (source 'portal'), the `portal_idempotency` row whose stored response names
that appointment (when the request carried a key, as the proxy's always do), and a
`portal_audit` row `booking.book` / `ok` with detail `appointment:<id>`. A crash may lose a
whole booking whose answer never reached the patient, never part of one.
"""

from __future__ import annotations

import json
from typing import Any

from agent.db.pool import DatabaseSettings
from tests.support.database import query


def portal_appointments(settings: DatabaseSettings) -> dict[int, dict[str, Any]]:
    """Every appointment booked through the portal, by id."""
    rows = query(
        settings,
        "SELECT id, patient_id, provider_id, starts_at, status FROM appointments"
        " WHERE source = 'portal'",
    )
    return {row["id"]: row for row in rows}


def half_written(settings: DatabaseSettings) -> list[str]:
    """Each booking missing one of the rows its transaction writes, described (empty: none)."""
    appointments = portal_appointments(settings)
    problems = []
    replies: dict[int, int] = {}
    for row in query(
        settings,
        "SELECT patient_id, idempotency_key, response FROM portal_idempotency"
        " WHERE method = 'booking.book'",
    ):
        if not row["response"]:
            problems.append(f"idempotency key {row['idempotency_key']} without its reply")
            continue
        booked = json.loads(row["response"])["id"]
        replies[booked] = row["patient_id"]
        if appointments.get(booked, {}).get("patient_id") != row["patient_id"]:
            problems.append(f"idempotency reply names appointment {booked}, not on file")
    audited = {
        int(row["detail"].removeprefix("appointment:"))
        for row in query(
            settings,
            "SELECT detail FROM portal_audit WHERE action = 'booking.book' AND outcome = 'ok'",
        )
    }
    for appointment in appointments:
        if appointment not in replies:
            problems.append(f"appointment {appointment} without its idempotency reply")
        if appointment not in audited:
            problems.append(f"appointment {appointment} without its audit row")
    problems += [
        f"audit row for appointment {a}, not on file" for a in audited - appointments.keys()
    ]
    return problems


def double_booked(settings: DatabaseSettings) -> list[tuple[int, int]]:
    """Pairs of booked appointments of one provider whose times overlap (empty: none)."""
    rows = query(
        settings,
        "SELECT a.id AS first, b.id AS second FROM appointments a JOIN appointments b"
        " ON a.provider_id = b.provider_id AND a.id < b.id"
        " AND a.status = 'booked' AND b.status = 'booked'"
        " AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at",
    )
    return [(row["first"], row["second"]) for row in rows]
