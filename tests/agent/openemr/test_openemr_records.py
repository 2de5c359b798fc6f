"""A patient's clinical record read from OpenEMR's tables (agent/openemr/records.py), in both
sql_modes: exactly the rows written by hand in chart.py, and never another patient's."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from agent.openemr.records import clinical_record
from agent.store.base import ClinicalRecord
from tests.agent.openemr.chart import ADA, BOB, ZONE, expected_ada, read, write_charts
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.rows import add_patient, add_prescription, add_problem, insert


def test_the_record_holds_exactly_the_rows_openemr_shows_as_the_patients(
    openemr_db: OpenEMRDatabase,
) -> None:
    ids = write_charts(openemr_db)
    record = read(openemr_db, ADA)
    expected = expected_ada(ids)
    assert record is not None
    # Field by field first, so that a failure names the kind of row.
    for field in fields(ClinicalRecord):
        assert getattr(record, field.name) == getattr(expected, field.name), field.name
    assert record == expected


def test_another_patients_rows_never_appear(openemr_db: OpenEMRDatabase) -> None:
    write_charts(openemr_db)
    bob = read(openemr_db, BOB)
    assert bob is not None
    assert bob.patient.first_name == "Bob"
    assert [p.description for p in bob.problems] == ["Diabetes"]
    assert [a.substance for a in bob.allergies] == ["Aspirin"]
    assert sorted(m.name for m in bob.medications) == ["Atorvastatin 20 mg", "Vitamin D"]
    assert [v.reason for v in bob.visits] == ["Bob's visit"]
    assert [lab.test_name for lab in bob.labs] == ["Glucose"]
    assert [i.cvx_code for i in bob.immunizations] == ["141"]
    ada = read(openemr_db, ADA)
    assert ada is not None
    for kind in ("allergies", "medications", "problems", "visits", "labs", "immunizations"):
        theirs = {row.id for row in getattr(bob, kind)}
        assert theirs.isdisjoint(row.id for row in getattr(ada, kind)), kind


def test_a_pid_openemr_does_not_have_is_no_record(openemr_db: OpenEMRDatabase) -> None:
    patient_id = add_patient(openemr_db, 1001)
    assert patient_id != 1001
    # The surrogate `id` is not the patient key: asking for it finds nobody.
    assert read(openemr_db, patient_id) is None
    assert read(openemr_db, 4242) is None


def test_a_patient_without_a_birth_date_is_no_record(openemr_db: OpenEMRDatabase) -> None:
    add_patient(openemr_db, 1001, dob=None)
    add_patient(openemr_db, 1002, dob="0000-00-00")  # what OpenEMR's non-strict writes keep
    add_problem(openemr_db, 1001, "Hypertension", "ICD10:I10", "2020-01-01")
    assert read(openemr_db, 1001) is None
    assert read(openemr_db, 1002) is None


def test_zero_dates_openemr_leaves_read_as_no_date(openemr_db: OpenEMRDatabase) -> None:
    add_patient(openemr_db, 1001)
    # The issue form sends '' for an empty date; OpenEMR's sql_mode stores a zero date.
    add_problem(openemr_db, 1001, "Hypertension", "ICD10:I10", "", enddate="")
    insert(
        openemr_db,
        "immunizations",
        {"patient_id": 1001, "cvx_code": "141", "administered_date": "", "update_date": None},
    )
    record = read(openemr_db, 1001)
    assert record is not None
    (problem,) = record.problems
    assert (problem.onset_on, problem.resolved_on, problem.status) == (None, None, "active")
    (shot,) = record.immunizations
    assert (shot.administered_at, shot.status, shot.vaccine) == (None, "completed", "")


def test_ended_means_before_the_practices_local_now(openemr_db: OpenEMRDatabase) -> None:
    add_patient(openemr_db, 1001)
    add_prescription(openemr_db, 1001, "Ends today", "1", "2026-11-01", end="2026-11-23")
    add_prescription(openemr_db, 1001, "Ended yesterday", "2", "2026-11-01", end="2026-11-22")
    add_problem(openemr_db, 1001, "Ends tonight", "", "2026-11-01", enddate="2026-11-23 23:00")
    # 03:00 UTC on the 24th is 22:00 on the 23rd in New York: the UTC date would end them.
    late = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    connection = openemr_db.connect()
    with connection, connection.cursor() as cursor:
        record = clinical_record(cursor, 1001, tables=openemr_db.tables, zone=ZONE, now=late)
    assert record is not None
    assert [(m.name, m.status) for m in record.medications] == [
        ("Ends today", "active"),
        ("Ended yesterday", "completed"),
    ]
    assert [(p.description, p.status) for p in record.problems] == [("Ends tonight", "active")]
