"""Providers, appointment categories, patients and a patient's appointments read from an
OpenEMR database. Expected values are written by hand from README 2.1, 2.2 and 2.4."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from pymysql.cursors import DictCursor

from agent.openemr.people import (
    PatientAppointment,
    PatientIdentity,
    patient_appointments,
    patient_identity,
    patients_born_on,
)
from agent.openemr.queries import AppointmentCategory, Provider, appointment_categories, providers
from agent.openemr.tables import Tables
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.recurrspec import WORKDAY, every
from tests.support.openemr.rows import (
    ADMIN,
    IN_OFFICE,
    NEW_PATIENT,
    OFFICE_VISIT,
    add_category,
    add_event,
    add_patient,
    add_provider,
)

TODAY = date(2026, 11, 2)


@pytest.fixture
def cursor(openemr_db: OpenEMRDatabase) -> Iterator[DictCursor]:
    """A cursor on a connection in the fixture's sql_mode, as the agent's pool opens one."""
    connection = openemr_db.connect()
    with connection, connection.cursor() as cursor:
        yield cursor


def _tables(cursor: DictCursor) -> Tables:
    """The tables of the database the cursor's connection uses."""
    return Tables.of(cursor.connection.db.decode())


def _sql(db: OpenEMRDatabase, statement: str, args: Any = ()) -> None:
    """A statement in OpenEMR's session mode, as its own pages run one."""
    connection = db.as_openemr()
    with connection, connection.cursor() as cursor:
        cursor.execute(statement, args)


def _works(db: OpenEMRDatabase, provider: int, *, until: str | None = "2026-12-31") -> None:
    add_event(
        db,
        provider=provider,
        category=IN_OFFICE,
        day="2026-10-01",
        start="9:00",
        repeat=every(1, WORKDAY),
        until=until,
    )


def test_bookable_providers_are_authorized_active_calendar_users_who_work(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    db = openemr_db
    grey = add_provider(db, username="grey", fname="Meredith", lname="Grey")
    bailey = add_provider(db, username="bailey", fname="Miranda", lname="Bailey", title="")
    _works(db, grey)
    # A single In Office day on the first day counts as working.
    add_event(db, provider=bailey, category=IN_OFFICE, day="2026-11-02", start="8:00")
    for username, flags in (
        ("left", {"active": 0}),
        ("clerk", {"authorized": 0}),
        ("nocal", {"calendar": 0}),
    ):
        _works(db, add_provider(db, username=username, fname="X", lname=username, **flags))
    retired = add_provider(db, username="retired", fname="Old", lname="Timer")
    _works(db, retired, until="2026-11-01")  # the series ended the day before
    undated = add_provider(db, username="undated", fname="No", lname="End")
    _works(db, undated, until=None)  # no end date: a series with no occurrence
    add_provider(db, username="idle", fname="No", lname="Schedule")
    nameless = add_provider(db, username="", fname="No", lname="Login")
    _works(db, nameless)

    assert providers(cursor, scheduled_from=TODAY, tables=_tables(cursor)) == [
        Provider(bailey, "Miranda Bailey"),
        Provider(grey, "Dr. Meredith Grey"),
    ]


def test_the_installers_admin_is_offered_only_once_they_work(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    """The admin (id 1) is an authorized calendar user out of the box, with no schedule."""
    assert providers(cursor, scheduled_from=TODAY, tables=_tables(cursor)) == []

    _works(openemr_db, ADMIN)

    assert providers(cursor, scheduled_from=TODAY, tables=_tables(cursor)) == [
        Provider(ADMIN, "Administrator")
    ]


def test_patient_categories_are_the_portals_less_the_markers_and_zero_length_ones(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    db = openemr_db
    physical = add_category(db, "annual_physical", "Annual Physical", 2700, seq=6)
    odd = add_category(db, "odd_length", "Odd Length", 1000, seq=21)
    add_category(db, "retired_visit", "Retired Visit", 900, active=0)
    add_category(db, "admin_time", "Admin Time", 900, cattype=1)
    add_category(db, "group_session", "Group Session", 900, cattype=3)
    add_category(db, "walk_in", "Walk In", 0)
    # A practice's category without a constant, and In Office made a patient category by
    # mistake: the first is offered, the second never (a booking would open a day).
    unnamed = add_category(db, "unnamed", "Unnamed", 600, seq=22)
    _sql(
        db,
        "UPDATE openemr_postcalendar_categories SET pc_constant_id = NULL WHERE pc_catid = %s",
        (unnamed,),
    )
    _sql(db, "UPDATE openemr_postcalendar_categories SET pc_cattype = 0 WHERE pc_catid = 2")

    assert appointment_categories(cursor, tables=_tables(cursor)) == [
        AppointmentCategory(OFFICE_VISIT, "office_visit", "Office Visit", 15),
        AppointmentCategory(physical, "annual_physical", "Annual Physical", 45),
        AppointmentCategory(9, "established_patient", "Established Patient", 15),
        AppointmentCategory(NEW_PATIENT, "new_patient", "New Patient", 30),
        AppointmentCategory(
            12, "health_and_behavioral_assessment", "Health and Behavioral Assessment", 15
        ),
        AppointmentCategory(13, "preventive_care_services", "Preventive Care Services", 15),
        AppointmentCategory(14, "ophthalmological_services", "Ophthalmological Services", 15),
        AppointmentCategory(odd, "odd_length", "Odd Length", 17),
        AppointmentCategory(unnamed, None, "Unnamed", 10),
    ]


def test_a_patient_is_found_by_pid_with_the_fields_a_portal_checks(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    add_patient(openemr_db, 2001, fname="Cy", lname="Other")  # takes patient_data.id 1
    row_id = add_patient(
        openemr_db, 1001, email="ada@example.org", postal_code="02139-4307", dob="1980-04-02"
    )
    assert row_id != 1001

    assert patient_identity(cursor, 1001, tables=_tables(cursor)) == PatientIdentity(
        pid=1001,
        first_name="Ada",
        last_name="Lovelace",
        date_of_birth=date(1980, 4, 2),
        email="ada@example.org",
        postal_code="02139-4307",
        portal_allowed=True,
        deceased=False,
    )
    assert patient_identity(cursor, row_id, tables=_tables(cursor)) is None
    assert patient_identity(cursor, 9999, tables=_tables(cursor)) is None


@pytest.mark.parametrize("value", ["NO", "", "yes", "Yes", "YES ", " YES"])
def test_only_exactly_yes_allows_the_portal(
    openemr_db: OpenEMRDatabase, cursor: DictCursor, value: str
) -> None:
    """OpenEMR's portal login compares with PHP's `!= "YES"`; the column's collation would
    call 'yes' and 'YES ' equal to 'YES'."""
    add_patient(openemr_db, 1001, portal=value)

    identity = patient_identity(cursor, 1001, tables=_tables(cursor))

    assert identity is not None
    assert (identity.portal_allowed, identity.may_use_portal) == (False, False)


def test_null_cannot_be_stored_and_a_staff_flip_ends_access(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    """The column is NOT NULL: an UPDATE to NULL in OpenEMR's mode stores '' (no access)."""
    add_patient(openemr_db, 1001, portal="YES")
    assert patient_identity(cursor, 1001, tables=_tables(cursor)) == PatientIdentity(
        1001, "Ada", "Lovelace", date(1980, 4, 2), "", "", True, False
    )

    _sql(openemr_db, "UPDATE patient_data SET allow_patient_portal = NULL WHERE pid = 1001")

    assert openemr_db.query("SELECT allow_patient_portal FROM patient_data") == [
        {"allow_patient_portal": ""}
    ]
    identity = patient_identity(cursor, 1001, tables=_tables(cursor))
    assert identity is not None and not identity.may_use_portal


def test_a_deceased_patient_may_not_use_the_portal(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    add_patient(openemr_db, 1001, portal="YES", deceased="2026-09-01 10:00:00")

    identity = patient_identity(cursor, 1001, tables=_tables(cursor))

    assert identity is not None
    assert (identity.portal_allowed, identity.deceased, identity.may_use_portal) == (
        True,
        True,
        False,
    )


def test_patients_born_on_a_day(openemr_db: OpenEMRDatabase, cursor: DictCursor) -> None:
    add_patient(openemr_db, 1003, fname="Cy", dob="1980-04-02", portal="NO")
    add_patient(openemr_db, 1001, fname="Ada", dob="1980-04-02", postal_code="02139")
    add_patient(openemr_db, 1002, fname="Bea", dob="1980-04-03")
    add_patient(openemr_db, 1004, fname="Di", dob=None)

    born = patients_born_on(cursor, date(1980, 4, 2), tables=_tables(cursor))

    assert [(p.pid, p.first_name, p.postal_code, p.portal_allowed) for p in born] == [
        (1001, "Ada", "02139", True),
        (1003, "Cy", "", False),
    ]
    assert patients_born_on(cursor, date(1980, 4, 4), tables=_tables(cursor)) == []


def test_a_patients_own_single_appointments_from_a_day(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    db = openemr_db
    grey = add_provider(db, username="grey", fname="Meredith", lname="Grey")
    physical = add_category(db, "annual_physical", "Annual Physical", 2700)
    add_patient(db, 1001)
    add_patient(db, 1002, fname="Bob")

    def visit(day: str, start: str, **values: Any) -> int:
        values = {"provider": grey, "category": OFFICE_VISIT, "minutes": 15} | values
        return add_event(db, day=day, start=start, **values)

    visit("2026-10-30", "9:00", patient=1001)  # before `since`
    booked = visit("2026-11-04", "10:00", patient=1001, status="^")
    cancelled = visit(
        "2026-11-02", "14:30", patient=1001, status="x", category=NEW_PATIENT, minutes=30
    )
    orphan = visit("2026-11-05", "9:00", patient=1001, provider=999, category=physical, minutes=45)
    _sql(db, "DELETE FROM openemr_postcalendar_categories WHERE pc_catid = %s", (physical,))
    # Never this patient's: another pid, a longer pid, a pid with a trailing space that the
    # collation would match, a repeating row, and a marker with no patient.
    theirs = visit("2026-11-03", "9:00", patient=1002)
    visit("2026-11-03", "9:30", patient=10011)
    visit("2026-11-03", "10:00", patient="1001 ")
    visit("2026-11-02", "8:00", patient=1001, repeat=every(1, WORKDAY), until="2026-12-31")
    add_event(db, provider=grey, category=IN_OFFICE, day="2026-11-03", start="8:00")
    # A zero day of the month, which a non-strict server stores: no appointment.
    visit("2026-11-00", "9:00", patient=1001)

    assert patient_appointments(cursor, 1001, TODAY, tables=_tables(cursor)) == [
        PatientAppointment(
            id=cancelled,
            day=date(2026, 11, 2),
            start=timedelta(hours=14, minutes=30),
            minutes=30,
            status="x",
            category_id=NEW_PATIENT,
            category_name="New Patient",
            provider_id=str(grey),
            provider_name="Dr. Meredith Grey",
        ),
        PatientAppointment(
            id=booked,
            day=date(2026, 11, 4),
            start=timedelta(hours=10),
            minutes=15,
            status="^",
            category_id=OFFICE_VISIT,
            category_name="Office Visit",
            provider_id=str(grey),
            provider_name="Dr. Meredith Grey",
        ),
        PatientAppointment(
            id=orphan,
            day=date(2026, 11, 5),
            start=timedelta(hours=9),
            minutes=45,
            status="-",
            category_id=physical,
            category_name="Annual Physical",  # pc_title, the category being gone
            provider_id="999",
            provider_name=None,
        ),
    ]
    assert [a.id for a in patient_appointments(cursor, 1002, TODAY, tables=_tables(cursor))] == [
        theirs
    ]
    assert patient_appointments(cursor, 1003, TODAY, tables=_tables(cursor)) == []
