"""Give a patient a form in a test database, exactly as `portico-agent forms add` and
`forms assign` would: the same parser (agent.forms.definition) and the same writers
(agent.forms.queries), so the proxy and browser tests fill in real assignments.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from agent import audit
from agent.db.pool import DatabaseSettings
from agent.forms import queries
from agent.forms.definition import parse_definition
from tests.support.database import connect
from tests.support.practice import NOW

REPO = Path(__file__).resolve().parents[3]
INTAKE = REPO / "config" / "forms" / "new-patient-intake.yaml"
HISTORY = REPO / "config" / "forms" / "medical-history-update.yaml"
STAFF_ACTOR = "staff:test"

# A short form with one question of every type, for tests that need to know every answer.
CHECKUP = """\
key: checkup
title: Check-up questions
description: Please answer before your visit.
fields:
  - name: nickname
    label: What should we call you?
    type: text
    max_length: 40
  - name: born
    label: Date of birth
    type: date
    required: true
    help: As on your insurance card.
  - name: smoker
    label: Do you smoke?
    type: yes_no
    required: true
  - name: colour
    label: Favourite colour
    type: single_choice
    choices: [red, {value: green, label: Green as grass}]
  - name: symptoms
    label: Any of these?
    type: multiple_choice
    choices: [cough, fever, ache]
  - name: weight
    label: Weight in pounds
    type: number
    min: 50
    max: 800
  - name: notes
    label: Anything else?
    type: multiline
"""
# Answers to CHECKUP that can be sent, and what the agent keeps of them.
CHECKUP_ANSWERS = {
    "nickname": "  Pat ",
    "born": "1970-01-01",
    "smoker": "No",
    "colour": "green",
    "symptoms": ["fever", "cough"],
    "weight": "165.5",
    "notes": "",
}
CHECKUP_SENT = {
    "nickname": "Pat",
    "born": "1970-01-01",
    "smoker": "no",
    "colour": "green",
    "symptoms": ["cough", "fever"],
    "weight": "165.5",
}


def assign_form(
    settings: DatabaseSettings,
    patient_id: int,
    yaml_path_or_text: Path | str,
    *,
    now: datetime = NOW,
) -> int:
    """Load the form (a path, or YAML text: a str holding a line break) and assign it to the
    patient; returns the assignment id. Loading a definition already loaded adds no version.
    Raises ConfigInvalid, as `forms add` would refuse, for a bad definition."""
    if isinstance(yaml_path_or_text, str) and "\n" in yaml_path_or_text:
        raw: bytes | str = yaml_path_or_text
    else:
        raw = Path(yaml_path_or_text).read_bytes()
    definition = parse_definition(raw)
    connection = connect(settings, dict_rows=True, autocommit=False)
    with connection, connection.cursor() as cursor:
        queries.add_form_version(cursor, definition, now, STAFF_ACTOR)
        form = queries.latest_form(cursor, definition.key, lock=True)
        assert form is not None
        assignment_id = queries.insert_assignment(cursor, form["id"], patient_id, now, STAFF_ACTOR)
        audit.record(
            cursor,
            now=now,
            actor=STAFF_ACTOR,
            patient_id=patient_id,
            action="form.assign",
            outcome="ok",
            detail=f"assignment:{assignment_id} form:{definition.key}",
        )
        connection.commit()
    return assignment_id
