"""The demo's forms (agent/demo/forms.py) and the seeding helper other suites use."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.db.migrate import connect
from agent.db.pool import DatabaseSettings
from agent.demo.forms import seed_demo_forms
from agent.forms.definition import ConfigInvalid
from tests.agent.forms.seeding import CHECKUP, INTAKE, assign_form
from tests.support.practice import NOW, RunningPractice

FORMS_DIR = INTAKE.parent


async def test_demo_patient_has_the_intake_form_to_fill_in(practice: RunningPractice) -> None:
    with connect(practice.settings) as connection:
        loaded = seed_demo_forms(connection, now=NOW, patient_id=5, forms_dir=FORMS_DIR)
    assert {k: v for k, v in loaded.items() if k != "assignment_id"} == {
        "medical-history-update": 1,
        "new-patient-intake": 1,
    }
    listed = (await practice.call("forms.list", 5))["forms"]
    assert [(f["assignment_id"], f["title"], f["status"]) for f in listed] == [
        (loaded["assignment_id"], "New patient questionnaire", "assigned")
    ]
    form = await practice.call("forms.get", 5, assignment_id=loaded["assignment_id"])
    assert len(form["fields"]) == 14


def test_demo_forms_with_a_bad_file_write_nothing(
    practice_db: DatabaseSettings, tmp_path: Path
) -> None:
    (tmp_path / "a-good.yaml").write_text(CHECKUP)
    (tmp_path / "b-bad.yaml").write_text("key: bad\n")
    with connect(practice_db) as connection, pytest.raises(ConfigInvalid):
        seed_demo_forms(connection, now=NOW, patient_id=5, forms_dir=tmp_path)
    with connect(practice_db) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM portal_forms")
        assert cursor.fetchone() == (0,)


def test_demo_forms_need_the_intake_form(practice_db: DatabaseSettings, tmp_path: Path) -> None:
    (tmp_path / "checkup.yaml").write_text(CHECKUP)
    with connect(practice_db) as connection, pytest.raises(ValueError, match="new-patient-intake"):
        seed_demo_forms(connection, now=NOW, patient_id=5, forms_dir=tmp_path)
    with connect(practice_db) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM portal_forms")
        assert cursor.fetchone() == (0,)


async def test_assign_form_takes_a_path_or_yaml_text(practice: RunningPractice) -> None:
    from_path = assign_form(practice.settings, 2, INTAKE)
    from_text = assign_form(practice.settings, 2, CHECKUP)
    again = assign_form(practice.settings, 3, str(INTAKE))
    titles = {
        a: (await practice.call("forms.get", p, assignment_id=a))["title"]
        for a, p in ((from_path, 2), (from_text, 2), (again, 3))
    }
    assert titles == {
        from_path: "New patient questionnaire",
        from_text: "Check-up questions",
        again: "New patient questionnaire",
    }
    assert practice.query("SELECT COUNT(*) AS n FROM portal_forms") == [{"n": 2}]
