"""`portico-agent forms answers FORM --format csv|json [--output FILE]`: one row per sent form,
safe to open in a spreadsheet, audited per patient."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.caller import Caller
from agent.clock import FixedClock
from agent.db import Database
from agent.forms.service import FormService
from agent.store.portico import PorticoStore
from tests.agent.forms.conftest import Office
from tests.agent.forms.seeding import CHECKUP, CHECKUP_ANSWERS, assign_form
from tests.support.practice import NOW, TIMEZONE

Capture = pytest.CaptureFixture[str]
HEADER = [
    "patient_id",
    "submitted_at",
    "form_version",
    "nickname",
    "born",
    "smoker",
    "colour",
    "symptoms",
    "weight",
    "notes",
]


def send(office: Office, patient_id: int, answers: dict[str, Any], yaml: str = CHECKUP) -> int:
    """Assign the form and send the answers the way the portal does (FormService.save)."""
    assignment = assign_form(office.settings, patient_id, yaml)

    async def submit() -> None:
        db = Database(office.settings)
        clock = FixedClock(NOW + timedelta(minutes=patient_id))
        forms = FormService(db, clock, ZoneInfo(TIMEZONE), lookups=PorticoStore(db))
        try:
            await forms.save(Caller(patient_id), assignment, answers, True, None)
        finally:
            await db.close()

    asyncio.run(submit())
    return assignment


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv_has_a_row_per_sent_form_oldest_first_and_a_column_per_question(
    office: Office, capsys: Capture
) -> None:
    send(office, 4, {**CHECKUP_ANSWERS, "symptoms": [], "notes": "line 1\nline 2"})
    send(office, 3, CHECKUP_ANSWERS)
    assign_form(office.settings, 5, CHECKUP)  # not sent: not exported
    assert office.run("answers", "checkup", "--format", "csv") == 0
    captured = capsys.readouterr()
    assert csv_rows(captured.out) == [
        HEADER,
        [
            "3",
            "2026-11-23T12:03:00Z",
            "1",
            "Pat",
            "1970-01-01",
            "no",
            "green",
            "cough; fever",
            "165.5",
            "",
        ],
        [
            "4",
            "2026-11-23T12:04:00Z",
            "1",
            "Pat",
            "1970-01-01",
            "no",
            "green",
            "",
            "165.5",
            "line 1\nline 2",
        ],
    ]
    assert captured.err == "2 sent form(s) exported\n"


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(
    office: Office, capsys: Capture, start: str
) -> None:
    formula = f'{start}HYPERLINK("http://evil.example","x")'
    send(office, 4, {**CHECKUP_ANSWERS, "nickname": formula[:40], "notes": formula})
    assert office.run("answers", "checkup") == 0
    row = csv_rows(capsys.readouterr().out)[1]
    assert row[HEADER.index("notes")] == "'" + formula
    assert row[HEADER.index("nickname")] == "'" + formula[:40]
    assert row[HEADER.index("born")] == "1970-01-01"


def test_json_keeps_lists_and_names_the_questions(office: Office, capsys: Capture) -> None:
    assignment = send(office, 4, CHECKUP_ANSWERS)
    assert office.run("answers", "checkup", "--format", "json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["form"] == "checkup"
    assert document["title"] == "Check-up questions"
    assert document["fields"][4] == {
        "name": "symptoms",
        "label": "Any of these?",
        "type": "multiple_choice",
    }
    assert document["submissions"] == [
        {
            "assignment_id": assignment,
            "patient_id": 4,
            "form_version": 1,
            "submitted_at": "2026-11-23T12:04:00Z",
            "answers": {
                "nickname": "Pat",
                "born": "1970-01-01",
                "smoker": "no",
                "colour": "green",
                "symptoms": ["cough", "fever"],
                "weight": "165.5",
            },
        }
    ]


def test_every_version_s_questions_become_columns(office: Office, capsys: Capture) -> None:
    send(office, 4, {"born": "1950-01-01", "smoker": "yes"})
    version_two = CHECKUP.replace("name: notes", "name: remarks")
    send(office, 5, {"born": "1960-01-01", "smoker": "no", "remarks": "new"}, version_two)
    assert office.run("answers", "checkup") == 0
    rows = csv_rows(capsys.readouterr().out)
    assert rows[0] == [*HEADER[:-1], "remarks", "notes"]
    assert [row[2] for row in rows[1:]] == ["1", "2"]
    assert rows[2][-2:] == ["new", ""]


def test_output_file_is_readable_by_its_owner_only(
    office: Office, capsys: Capture, tmp_path: Path
) -> None:
    send(office, 4, CHECKUP_ANSWERS)
    target = tmp_path / "answers.csv"
    assert office.run("answers", "checkup", "--output", str(target)) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"1 sent form(s) exported to {target}\n"
    assert csv_rows(target.read_text())[1][0] == "4"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_output_to_a_missing_folder_is_refused_before_reading(
    office: Office, capsys: Capture, tmp_path: Path
) -> None:
    send(office, 4, CHECKUP_ANSWERS)
    before = office.staff_audit()
    target = tmp_path / "no-such-folder" / "answers.csv"
    assert office.run("answers", "checkup", "--output", str(target)) == 1
    assert "does not exist" in capsys.readouterr().err
    assert office.staff_audit() == before


def test_export_is_audited_for_each_patient_read(office: Office, capsys: Capture) -> None:
    first = send(office, 4, CHECKUP_ANSWERS)
    second = send(office, 6, CHECKUP_ANSWERS)
    assert office.run("answers", "checkup", "--format", "json") == 0
    exports = [row for row in office.staff_audit() if row[1] == "form.export"]
    assert exports == [
        (4, "form.export", "ok", f"assignment:{first} form:checkup"),
        (6, "form.export", "ok", f"assignment:{second} form:checkup"),
        (None, "form.export", "ok", "form:checkup rows:2"),
    ]


def test_export_of_an_unknown_form_fails_and_is_audited(office: Office, capsys: Capture) -> None:
    assert office.run("answers", "nope") == 1
    assert capsys.readouterr().err.startswith(
        'error: no form with key "nope" (no form is loaded yet)'
    )
    assert office.staff_audit() == [(None, "form.export", "not_found", "form:nope")]
