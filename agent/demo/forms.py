"""The demo practice's forms: the shipped config/forms/*.yaml, and the intake form given to the
demo patient, so `make demo` has a form to fill in. Demo databases only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pymysql.cursors

from agent.forms import queries as q
from agent.forms.definition import parse_definition

DEMO_ACTOR = "demo-seed"
INTAKE = "new-patient-intake"


def seed_demo_forms(
    connection: Any, *, now: datetime, patient_id: int, forms_dir: Path
) -> dict[str, int]:
    """Load every form in ``forms_dir`` (a bad file raises ConfigInvalid, writing nothing) and
    assign the intake form to the patient, in one transaction. Returns form key -> version
    loaded, plus ``"assignment_id"``."""
    definitions = [parse_definition(path.read_bytes()) for path in sorted(forms_dir.glob("*.yaml"))]
    loaded: dict[str, int] = {}
    connection.begin()
    try:
        with connection.cursor(pymysql.cursors.DictCursor) as cursor:
            for definition in definitions:
                version, _new = q.add_form_version(cursor, definition, now, DEMO_ACTOR)
                loaded[definition.key] = version
            intake = q.latest_form(cursor, INTAKE, lock=True)
            if intake is None:
                raise ValueError(f"{forms_dir} holds no {INTAKE} form")
            loaded["assignment_id"] = q.insert_assignment(
                cursor, intake["id"], patient_id, now, DEMO_ACTOR
            )
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return loaded
