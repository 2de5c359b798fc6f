"""`portico-agent forms add | list | assign`, run through agent.cli.main with a config file
against the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.agent.forms.conftest import Office
from tests.agent.forms.seeding import CHECKUP, HISTORY, INTAKE
from tests.support.practice import FOLLOW_UP, NEW_PATIENT

Capture = pytest.CaptureFixture[str]


def test_add_loads_a_form_and_adding_it_again_changes_nothing(
    office: Office, capsys: Capture
) -> None:
    assert office.run("add", str(INTAKE)) == 0
    assert capsys.readouterr().out == (
        'loaded "new-patient-intake" version 1: New patient questionnaire (14 questions)\n'
    )
    assert office.run("add", str(INTAKE)) == 0
    assert capsys.readouterr().out == (
        '"new-patient-intake" version 1 already has exactly these questions; nothing changed\n'
    )
    assert office.query("SELECT form_key, version, added_by FROM portal_forms")[0]["version"] == 1
    assert [row[1:3] for row in office.staff_audit()] == [("form.add", "ok")] * 2


def test_add_of_a_changed_file_makes_the_next_version(office: Office, capsys: Capture) -> None:
    assert office.run("add", office.write("v1.yaml", CHECKUP)) == 0
    changed = CHECKUP.replace("Any of these?", "Have you had any of these?")
    assert office.run("add", office.write("v2.yaml", changed)) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith('loaded "checkup" version 2:')
    assert office.query("SELECT version FROM portal_forms ORDER BY version") == [
        {"version": 1},
        {"version": 2},
    ]


def test_add_reports_every_problem_with_its_line_and_loads_nothing(
    office: Office, capsys: Capture
) -> None:
    bad = CHECKUP.replace("type: yes_no", "type: yesno").replace("min: 50", "min: fifty")
    path = office.write("bad.yaml", bad)
    assert office.run("add", path) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"error: {path}: fields.2.type (line 16): must be 'text', 'multiline', 'date', "
        "'yes_no', 'single_choice', 'multiple_choice' or 'number' (got \"yesno\")",
        f"error: {path}: fields.5.min (line 29): must be a number, like 0 or 37.5",
        f"error: {path}: not loaded (2 problems)",
    ]
    assert office.query("SELECT COUNT(*) AS n FROM portal_forms") == [{"n": 0}]


def test_add_of_a_missing_file_says_so(office: Office, capsys: Capture) -> None:
    assert office.run("add", office.write("x", "") + ".missing") == 1
    assert "cannot read" in capsys.readouterr().err


def test_list_shows_each_form_with_its_progress(office: Office, capsys: Capture) -> None:
    assert office.run("list") == 0
    assert capsys.readouterr().out == (
        "no forms are loaded; add one with `portico-agent forms add FILE`\n"
    )
    office.run("add", str(HISTORY))
    office.run("add", str(INTAKE))
    office.run("assign", "new-patient-intake", "3")
    capsys.readouterr()
    assert office.run("list") == 0
    assert capsys.readouterr().out.splitlines() == [
        "medical-history-update  version 1  Medical history update",
        "  to do: 0, draft saved: 0, sent: 0",
        "new-patient-intake  version 1  New patient questionnaire",
        "  to do: 1, draft saved: 0, sent: 0",
    ]


def test_assign_gives_one_patient_the_latest_version(office: Office, capsys: Capture) -> None:
    office.run("add", office.write("v1.yaml", CHECKUP))
    office.run("add", office.write("v2.yaml", CHECKUP.replace("Anything else?", "Else?")))
    capsys.readouterr()
    assert office.run("assign", "checkup", "7") == 0
    (row,) = office.query(
        "SELECT a.id, a.patient_id, a.status, a.assigned_by, f.version"
        " FROM portal_form_assignments a JOIN portal_forms f ON f.id = a.form_id"
    )
    assert capsys.readouterr().out == f'assigned "checkup" to patient 7 (assignment {row["id"]})\n'
    assert (row["patient_id"], row["status"], row["version"]) == (7, "assigned", 2)
    assert row["assigned_by"].startswith("staff:")
    assert office.staff_audit()[-1] == (
        7,
        "form.assign",
        "ok",
        f"assignment:{row['id']} form:checkup version:2",
    )


def test_assign_refuses_a_second_open_copy(office: Office, capsys: Capture) -> None:
    office.run("add", office.write("f.yaml", CHECKUP))
    office.run("assign", "checkup", "7")
    capsys.readouterr()
    assert office.run("assign", "checkup", "7") == 1
    err = capsys.readouterr().err
    assert "patient 7 already has this form to fill in" in err
    assert office.query("SELECT COUNT(*) AS n FROM portal_form_assignments") == [{"n": 1}]
    assert office.staff_audit()[-1] == (7, "form.assign", "refused", "form:checkup")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["assign", "nope", "7"], 'error: no form with key "nope" (loaded forms: checkup); load'),
        (["assign", "checkup", "9999"], "error: no patient has id 9999"),
        (["assign", "checkup"], "error: give a PATIENT_ID or --appointment-type (not both)"),
        (
            ["assign", "checkup", "7", "--appointment-type", "1"],
            "error: give a PATIENT_ID or --appointment-type (not both)",
        ),
        (["assign", "checkup", "7", "--days", "3"], "error: --days goes with --appointment-type"),
        (
            ["assign", "checkup", "--appointment-type", "Surgery"],
            'error: no appointment type "Surgery" (types: 1 "Follow-up", 2 "New patient visit")',
        ),
    ],
)
def test_assign_explains_bad_input(
    office: Office, capsys: Capture, argv: list[str], message: str
) -> None:
    office.run("add", office.write("f.yaml", CHECKUP))
    capsys.readouterr()
    assert office.run(*argv) == 1
    assert capsys.readouterr().err.startswith(message)
    assert office.query("SELECT COUNT(*) AS n FROM portal_form_assignments") == [{"n": 0}]


@pytest.mark.parametrize("bad", ["0", "-3", "x", "366"])
def test_assign_refuses_bad_days(office: Office, capsys: Capture, bad: str) -> None:
    with pytest.raises(SystemExit) as exited:
        office.run("assign", "checkup", "--appointment-type", "1", "--days", bad)
    assert exited.value.code == 2
    assert "--days is a whole number of days from 1 to 365" in capsys.readouterr().err


def test_assign_by_appointment_type_reaches_the_booked_and_skips_those_given_it(
    office: Office, capsys: Capture
) -> None:
    office.run("add", office.write("f.yaml", CHECKUP))
    office.book(10, NEW_PATIENT, timedelta(days=2))
    office.book(11, NEW_PATIENT, timedelta(days=29))
    office.book(11, NEW_PATIENT, timedelta(days=3))  # two visits, one form
    office.book(12, NEW_PATIENT, timedelta(days=31))  # outside the window
    office.book(13, NEW_PATIENT, -timedelta(days=1))  # in the past
    office.book(14, FOLLOW_UP, timedelta(days=2))  # another type
    office.book(15, NEW_PATIENT, timedelta(days=5))
    office.run("assign", "checkup", "15")
    capsys.readouterr()

    assert office.run("assign", "checkup", "--appointment-type", "new PATIENT visit") == 0
    assert capsys.readouterr().out.splitlines() == [
        "patients with a booked 'new PATIENT visit' appointment in the next 30 days: 3",
        "assigned the form: 2",
        "skipped, given this form before: 1",
    ]
    given = office.query("SELECT patient_id FROM portal_form_assignments ORDER BY patient_id")
    assert [row["patient_id"] for row in given] == [10, 11, 15]

    assert office.run("assign", "checkup", "--appointment-type", "2", "--days", "40") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == ["assigned the form: 1", "skipped, given this form before: 3"]
    given = office.query("SELECT patient_id FROM portal_form_assignments ORDER BY patient_id")
    assert [row["patient_id"] for row in given] == [10, 11, 12, 15]
