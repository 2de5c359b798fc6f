"""SQL for forms, run inside a worker-thread transaction (see agent/db/pool.py).

Every function takes the transaction's dict cursor. DATETIME columns hold UTC as naive values;
:func:`db_time` turns an aware moment into one. add_form_version and insert_assignment are
also used by the demo seed (agent/demo/forms.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from agent.forms.definition import Answer, FormDefinition


def db_time(moment: datetime) -> datetime:
    """A UTC DATETIME value (naive, whole seconds)."""
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0)


# --- definitions ---------------------------------------------------------------------------------


def add_form_version(
    cursor: Any, definition: FormDefinition, now: datetime, actor: str
) -> tuple[int, bool]:
    """Store the definition as the next version of its key: ``(version, new)``. When it equals
    the latest version, nothing is stored and ``new`` is False. A concurrent add of the same
    key makes this raise the driver's duplicate-key error (1062)."""
    text = definition.to_json()
    digest = hashlib.sha256(text.encode()).hexdigest()
    cursor.execute(
        "SELECT version, definition_hash FROM portal_forms WHERE form_key = %s"
        " ORDER BY version DESC LIMIT 1 FOR UPDATE",
        (definition.key,),
    )
    latest = cursor.fetchone()
    if latest is not None and latest["definition_hash"] == digest:
        return int(latest["version"]), False
    version = 1 if latest is None else int(latest["version"]) + 1
    cursor.execute(
        "INSERT INTO portal_forms (form_key, version, title, definition, definition_hash,"
        " added_at, added_by) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (definition.key, version, definition.title, text, digest, db_time(now), actor[:64]),
    )
    return version, True


def latest_form(cursor: Any, form_key: str, *, lock: bool) -> dict[str, Any] | None:
    # Locking the latest version row makes concurrent assignments of one form take turns, so
    # two runs of `forms assign --appointment-type` cannot both give a patient the form.
    cursor.execute(
        "SELECT id, form_key, version, title FROM portal_forms WHERE form_key = %s"
        " ORDER BY version DESC LIMIT 1" + (" FOR UPDATE" if lock else ""),
        (form_key,),
    )
    row = cursor.fetchone()
    return None if row is None else dict(row)


def form_keys(cursor: Any) -> list[str]:
    cursor.execute("SELECT DISTINCT form_key FROM portal_forms ORDER BY form_key")
    return [row["form_key"] for row in cursor.fetchall()]


def form_versions(cursor: Any, form_key: str) -> list[dict[str, Any]]:
    """Every version of the key, newest first."""
    cursor.execute(
        "SELECT version, definition FROM portal_forms WHERE form_key = %s ORDER BY version DESC",
        (form_key,),
    )
    return list(cursor.fetchall())


def overview(cursor: Any) -> list[dict[str, Any]]:
    """Each form key's latest version and title, with assignment counts by status."""
    cursor.execute(
        "SELECT f.form_key, f.version, f.title FROM portal_forms f"
        " WHERE f.version = (SELECT MAX(l.version) FROM portal_forms l"
        " WHERE l.form_key = f.form_key) ORDER BY f.form_key"
    )
    forms = {row["form_key"]: {**row, "assigned": 0, "draft": 0, "submitted": 0} for row in cursor}
    cursor.execute(
        "SELECT f.form_key, a.status, COUNT(*) AS n FROM portal_form_assignments a"
        " JOIN portal_forms f ON f.id = a.form_id GROUP BY f.form_key, a.status"
    )
    for row in cursor.fetchall():
        forms[row["form_key"]][row["status"]] = int(row["n"])
    return list(forms.values())


# --- assigning -----------------------------------------------------------------------------------


def insert_assignment(cursor: Any, form_id: int, patient_id: int, now: datetime, actor: str) -> int:
    cursor.execute(
        "INSERT INTO portal_form_assignments (form_id, patient_id, assigned_at, assigned_by)"
        " VALUES (%s, %s, %s, %s)",
        (form_id, patient_id, db_time(now), actor[:64]),
    )
    return int(cursor.lastrowid)


def open_assignment(cursor: Any, form_key: str, patient_id: int) -> int | None:
    """The patient's unsent assignment of any version of the form, if there is one."""
    cursor.execute(
        "SELECT a.id FROM portal_form_assignments a JOIN portal_forms f ON f.id = a.form_id"
        " WHERE f.form_key = %s AND a.patient_id = %s AND a.status <> 'submitted'"
        " ORDER BY a.id LIMIT 1",
        (form_key, patient_id),
    )
    row = cursor.fetchone()
    return None if row is None else int(row["id"])


def patients_given(cursor: Any, form_key: str, patients: list[int]) -> set[int]:
    """Those of ``patients`` who were ever given the form key (any version, any status)."""
    if not patients:
        return set()
    marks = ", ".join(["%s"] * len(patients))
    cursor.execute(
        "SELECT DISTINCT a.patient_id FROM portal_form_assignments a"
        " JOIN portal_forms f ON f.id = a.form_id"
        f" WHERE f.form_key = %s AND a.patient_id IN ({marks})",
        (form_key, *patients),
    )
    return {int(row["patient_id"]) for row in cursor.fetchall()}


def submitted(cursor: Any, form_key: str) -> list[dict[str, Any]]:
    """Every sent assignment of the key (all versions), oldest first."""
    cursor.execute(
        "SELECT a.id, a.patient_id, a.submitted_at, a.answers, f.version"
        " FROM portal_form_assignments a JOIN portal_forms f ON f.id = a.form_id"
        " WHERE f.form_key = %s AND a.status = 'submitted' ORDER BY a.submitted_at, a.id",
        (form_key,),
    )
    return list(cursor.fetchall())


# --- the patient's own assignments ---------------------------------------------------------------


def patient_assignments(cursor: Any, patient_id: int) -> list[dict[str, Any]]:
    cursor.execute(
        "SELECT a.id, a.status, a.assigned_at, a.submitted_at, f.title"
        " FROM portal_form_assignments a JOIN portal_forms f ON f.id = a.form_id"
        " WHERE a.patient_id = %s",
        (patient_id,),
    )
    return list(cursor.fetchall())


def owned_assignment(
    cursor: Any, patient_id: int, assignment_id: int, *, lock: bool
) -> dict[str, Any] | None:
    # The session's patient is part of the WHERE clause: another patient's assignment is
    # indistinguishable from one that does not exist.
    cursor.execute(
        "SELECT a.id, a.form_id, a.status, a.answers, f.definition"
        " FROM portal_form_assignments a JOIN portal_forms f ON f.id = a.form_id"
        " WHERE a.id = %s AND a.patient_id = %s" + (" FOR UPDATE" if lock else ""),
        (assignment_id, patient_id),
    )
    row = cursor.fetchone()
    return None if row is None else dict(row)


def save_draft(
    cursor: Any, assignment_id: int, answers: Mapping[str, Answer], now: datetime
) -> None:
    cursor.execute(
        "UPDATE portal_form_assignments SET status = 'draft', answers = %s,"
        " draft_saved_at = %s WHERE id = %s",
        (json.dumps(dict(answers), ensure_ascii=False), db_time(now), assignment_id),
    )


def save_submitted(
    cursor: Any, assignment_id: int, answers: Mapping[str, Answer], now: datetime
) -> None:
    cursor.execute(
        "UPDATE portal_form_assignments SET status = 'submitted', answers = %s,"
        " submitted_at = %s WHERE id = %s",
        (json.dumps(dict(answers), ensure_ascii=False), db_time(now), assignment_id),
    )
