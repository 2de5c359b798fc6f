"""The demo's portal content on top of the demo practice: clinical records for every patient,
and for the ready demo login a welcome message and the new-patient intake form to fill in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pymysql.cursors

from agent.demo.forms import seed_demo_forms
from agent.demo.messages import seed_demo_messages
from agent.demo.records import seed_demo_records

# The shipped forms, when running from a source checkout (config/forms/ is not package data:
# offices write their own forms and load them with `portico-agent forms add FILE`).
SOURCE_FORMS = Path(__file__).resolve().parents[2] / "config" / "forms"


def seed_portal_demo(
    connection: Any, *, now: datetime, login: str, practice_name: str, forms_dir: Path | None
) -> list[str]:
    """Seed records, messages and forms; returns one line per thing seeded, for the terminal."""
    with connection.cursor(pymysql.cursors.Cursor) as cursor:
        cursor.execute("SELECT id FROM patients ORDER BY id")
        patient_ids = [int(row[0]) for row in cursor.fetchall()]
        cursor.execute("SELECT patient_id FROM portal_accounts WHERE login_email = %s", (login,))
        patient_id = int(cursor.fetchone()[0])
    records = seed_demo_records(connection, now=now, patient_ids=patient_ids)
    lines = [records.describe()]
    seed_demo_messages(connection, now=now, patient_id=patient_id, practice_name=practice_name)
    lines.append("a welcome message for the demo patient")
    if forms_dir is not None and forms_dir.is_dir():
        loaded = seed_demo_forms(connection, now=now, patient_id=patient_id, forms_dir=forms_dir)
        forms = sorted(key for key in loaded if key != "assignment_id")
        lines.append(
            f"forms loaded: {', '.join(forms)}; the intake form assigned to the demo patient"
        )
    else:
        lines.append("no forms folder found: load forms with `portico-agent forms add FILE`")
    return lines
