"""Rows as OpenEMR writes them, read back the way the agent reads them: `event_from_row` over a
DictCursor row, then `provider_schedules`. Expected values are written by hand from README 2-6."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from agent.openemr.calendar import CalendarEvent, CalendarRules, event_from_row, provider_schedules
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.recurrspec import MONDAY, NO_REPEAT, WORKDAY, every, on_weekdays
from tests.support.openemr.rows import (
    IN_OFFICE,
    LUNCH,
    OFFICE_VISIT,
    OUT_OF_OFFICE,
    VACATION,
    add_allergy,
    add_category,
    add_event,
    add_immunization,
    add_lab_result,
    add_medication,
    add_patient,
    add_prescription,
    add_problem,
    add_provider,
    set_global,
)

RESERVED = 11


def events(db: OpenEMRDatabase) -> list[CalendarEvent]:
    return [
        event_from_row(row)
        for row in db.query("SELECT * FROM openemr_postcalendar_events ORDER BY pc_eid")
    ]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_installed_categories_hold_the_markers_and_the_portals_visit_types(
    openemr_db: OpenEMRDatabase,
) -> None:
    rows = openemr_db.query(
        "SELECT pc_catid, pc_constant_id, pc_cattype, pc_duration, pc_end_all_day"
        " FROM openemr_postcalendar_categories WHERE pc_catid IN (2, 3, 4, 5, 10)"
        " ORDER BY pc_catid"
    )
    assert [tuple(row.values()) for row in rows] == [
        (2, "in_office", 1, 0, 0),
        (3, "out_of_office", 1, 0, 0),
        (4, "vacation", 1, 0, 1),
        (5, "office_visit", 0, 900, 0),
        (10, "new_patient", 0, 1800, 0),
    ]
    catid = add_category(openemr_db, "annual_physical", "Annual Physical", 2700)
    assert catid == 16  # after the 15 shipped rows
    offered = openemr_db.query(
        "SELECT pc_catid, pc_duration FROM openemr_postcalendar_categories"
        " WHERE pc_active = 1 AND pc_cattype = 0 AND pc_constant_id <> 'no_show' ORDER BY pc_seq"
    )
    assert [(row["pc_catid"], row["pc_duration"]) for row in offered] == [
        (5, 900),
        (9, 900),
        (10, 1800),
        (12, 900),
        (13, 900),
        (14, 900),
        (16, 2700),
    ]


def test_a_staff_made_appointment_reads_back_as_a_calendar_event(
    openemr_db: OpenEMRDatabase,
) -> None:
    provider = add_provider(openemr_db, username="grey", fname="Meredith", lname="Grey")
    eid = add_event(
        openemr_db,
        provider=provider,
        category=OFFICE_VISIT,
        day="2026-10-26",
        start="9:05",
        minutes=15,
        patient=1001,
        status="^",
    )
    [row] = openemr_db.query("SELECT * FROM openemr_postcalendar_events")
    # What OpenEMR's dialog leaves: '' sent for pc_multiple stored as 0, unpadded times padded.
    assert (row["pc_multiple"], row["pc_gid"], row["pc_title"]) == (0, 0, "Office Visit")
    assert row["pc_endTime"] == timedelta(hours=9, minutes=20)
    assert event_from_row(row) == CalendarEvent(
        eid=eid,
        provider=str(provider),
        patient="1001",
        category=OFFICE_VISIT,
        event_date=date(2026, 10, 26),
        end_date=None,
        start_time=timedelta(hours=9, minutes=5),
        duration=900,
        recurrence_type=0,
        recurrence_spec=NO_REPEAT.spec,
        status="^",
        preferred_category=0,
        all_day=False,
    )


def test_an_all_day_vacation_reads_back_as_all_day(openemr_db: OpenEMRDatabase) -> None:
    add_event(openemr_db, provider=1, category=VACATION, day="2026-11-04", all_day=True)
    [row] = openemr_db.query("SELECT * FROM openemr_postcalendar_events")
    assert (row["pc_startTime"], row["pc_endTime"]) == (timedelta(0), timedelta(hours=24))
    [event] = events(openemr_db)
    assert (event.all_day, event.duration, event.patient) == (True, 86400, "")


def test_a_repeating_schedule_round_trips_to_working_and_busy_time_across_dst(
    openemr_db: OpenEMRDatabase,
) -> None:
    """Fri 2026-10-30 to Tue 11-03 in New York; summer time ends on Sunday 11-01.

    In Office 9:00 and Out Of Office 17:00 every workday (In Office skipped on 11-03 by an
    exdate), lunch 12:00-13:00 every workday, a meeting Mondays 16:00-16:30, a booked and a
    cancelled visit on Monday. Friday is UTC-4, Monday and Tuesday UTC-5.
    """
    set_global(openemr_db, "gbl_time_zone", "America/New_York")
    grey = add_provider(openemr_db, username="grey", fname="Meredith", lname="Grey")
    for category, start, minutes, repeat in (
        (IN_OFFICE, "9:00", 0, every(1, WORKDAY, exdate=("2026-11-03",))),
        (OUT_OF_OFFICE, "17:00", 0, every(1, WORKDAY)),
        (LUNCH, "12:00", 60, every(1, WORKDAY)),
    ):
        add_event(
            openemr_db,
            provider=grey,
            category=category,
            day="2026-10-01",
            start=start,
            minutes=minutes,
            repeat=repeat,
            until="2026-12-31",
        )
    add_event(
        openemr_db,
        provider=grey,
        category=RESERVED,
        day="2026-10-05",
        start="16:00",
        minutes=30,
        repeat=on_weekdays(MONDAY),
        until="2026-12-31",
    )
    add_event(
        openemr_db,
        provider=grey,
        category=OFFICE_VISIT,
        day="2026-11-02",
        start="10:00",
        minutes=15,
        patient=1001,
        status="^",
    )
    add_event(
        openemr_db,
        provider=grey,
        category=OFFICE_VISIT,
        day="2026-11-02",
        start="11:00",
        minutes=15,
        patient=1002,
        status="x",
    )
    settings = {
        row["gl_name"]: row["gl_value"]
        for row in openemr_db.query(
            "SELECT gl_name, gl_value FROM globals WHERE gl_index = 0"
            " AND gl_name IN ('gbl_time_zone', 'weekend_days')"
        )
    }
    rules = CalendarRules(
        zone=ZoneInfo(settings["gbl_time_zone"]),
        weekend=tuple(int(day) for day in settings["weekend_days"].split(",")),
    )

    schedules = provider_schedules(
        events(openemr_db),
        providers={str(grey)},
        category=OFFICE_VISIT,
        first_day=date(2026, 10, 30),
        last_day=date(2026, 11, 3),
        rules=rules,
    )

    assert schedules.skipped == ()
    schedule = schedules.by_provider[str(grey)]
    assert (schedule.start, schedule.end) == (utc("2026-10-30 04:00"), utc("2026-11-04 05:00"))
    assert schedule.working == (
        (utc("2026-10-30 13:00"), utc("2026-10-30 21:00")),
        (utc("2026-11-02 14:00"), utc("2026-11-02 22:00")),
    )
    assert schedule.busy == (
        (utc("2026-10-30 16:00"), utc("2026-10-30 17:00")),
        (utc("2026-11-02 15:00"), utc("2026-11-02 15:15")),
        (utc("2026-11-02 17:00"), utc("2026-11-02 18:00")),
        (utc("2026-11-02 21:00"), utc("2026-11-02 21:30")),
        (utc("2026-11-03 17:00"), utc("2026-11-03 18:00")),
    )


def test_patients_carry_the_portal_flag_and_a_pid_that_is_not_their_id(
    openemr_db: OpenEMRDatabase,
) -> None:
    allowed = add_patient(openemr_db, 1001, email="ada@example.org", postal_code="02139-4307")
    denied = add_patient(openemr_db, 1002, fname="Bob", portal="NO")
    never = add_patient(openemr_db, 1003, fname="Cy", portal="")
    rows = openemr_db.query(
        "SELECT id, pid, pubpid, allow_patient_portal AS portal, hipaa_allowemail"
        " FROM patient_data ORDER BY pid"
    )
    assert [(r["id"], r["pid"], r["pubpid"], r["portal"]) for r in rows] == [
        (allowed, 1001, "1001", "YES"),
        (denied, 1002, "1002", "NO"),
        (never, 1003, "1003", ""),
    ]
    assert {r["id"] for r in rows}.isdisjoint({r["pid"] for r in rows})


def test_clinical_rows_join_as_openemrs_fhir_layer_joins_them(
    openemr_db: OpenEMRDatabase,
) -> None:
    add_patient(openemr_db, 1001)
    add_problem(openemr_db, 1001, "Hypertension", "ICD10:I10", "2020-01-01")
    add_allergy(openemr_db, 1001, "Penicillin", "RXCUI:70618", "2019-05-01")
    add_medication(openemr_db, 1001, "Lisinopril 10 mg", "314076", "2020-01-02")
    add_prescription(openemr_db, 1001, "Metformin 500 mg", "861007", "2021-03-01")
    add_immunization(openemr_db, 1001, "141", "2025-10-01 10:00:00")
    add_lab_result(
        openemr_db,
        1001,
        "4548-4",
        "Hemoglobin A1c",
        "6.1",
        units="%",
        reference_range="4.0-5.6",
        abnormal="high",
    )
    kinds = openemr_db.query(
        "SELECT type, diagnosis FROM lists WHERE pid = 1001 AND activity = 1 ORDER BY id"
    )
    assert [(k["type"], k["diagnosis"]) for k in kinds] == [
        ("medical_problem", "ICD10:I10"),
        ("allergy", "RXCUI:70618"),
        ("medication", "RXCUI:314076"),
    ]
    listed = openemr_db.query(
        "SELECT l.title FROM lists l LEFT JOIN lists_medication m ON m.list_id = l.id"
        " WHERE l.pid = 1001 AND l.type = 'medication' AND m.prescription_id IS NULL"
    )
    assert listed == [{"title": "Lisinopril 10 mg"}]
    assert openemr_db.query("SELECT drug, txDate IS NOT NULL AS dated FROM prescriptions") == [
        {"drug": "Metformin 500 mg", "dated": 1}
    ]
    assert openemr_db.query("SELECT cvx_code, completion_status FROM immunizations") == [
        {"cvx_code": "141", "completion_status": "Completed"}
    ]
    labs = openemr_db.query(
        "SELECT c.procedure_code, r.result, r.units, r.`range`, r.abnormal, r.result_status"
        " FROM procedure_order o"
        " JOIN procedure_order_code c ON c.procedure_order_id = o.procedure_order_id"
        " JOIN procedure_report p ON p.procedure_order_id = c.procedure_order_id"
        "  AND p.procedure_order_seq = c.procedure_order_seq"
        " JOIN procedure_result r ON r.procedure_report_id = p.procedure_report_id"
        " WHERE o.patient_id = 1001 AND o.activity = 1"
    )
    assert labs == [
        {
            "procedure_code": "4548-4",
            "result": "6.1",
            "units": "%",
            "range": "4.0-5.6",
            "abnormal": "high",
            "result_status": "final",
        }
    ]
