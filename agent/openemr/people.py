"""What Portico reads about patients in an OpenEMR database: identity (`patient_data`) and
their own appointments (`openemr_postcalendar_events`).

Plain functions over the caller's cursor, like agent/openemr/queries.py, whose two rules hold
here too: `pc_pid` is text, compared with the string `str(pid)` and checked again in Python
(the collation matches '1001 '), and values whose exact spelling matters are compared in
Python (`allow_patient_portal` is granted by exactly 'YES', as OpenEMR's portal login checks).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from agent.openemr.queries import provider_name
from agent.openemr.tables import Tables

# A patient's appointment list is a page, not an export (as agent/booking/queries.py).
MAX_PATIENT_APPOINTMENTS = 200
# `allow_patient_portal` value that grants access, exactly (PatientPortalLoginController.php).
PORTAL_ALLOWED = "YES"


def _placeholders(values: Collection[object]) -> str:
    return ", ".join(["%s"] * len(values))


@dataclass(frozen=True, slots=True)
class PatientIdentity:
    """The `patient_data` fields a portal checks a person against (README 2.1)."""

    pid: int  # the key everything joins on; not patient_data.id
    first_name: str
    last_name: str
    date_of_birth: date | None
    email: str  # '' when none; not unique (families share one)
    postal_code: str  # free text as entered: may be ZIP+4, spaced, or empty
    portal_allowed: bool  # allow_patient_portal is exactly 'YES'; '' (the default) and 'NO' are no
    deceased: bool  # deceased_date is set; OpenEMR's portal ignores it, Portico refuses

    @property
    def may_use_portal(self) -> bool:
        return self.portal_allowed and not self.deceased


_PATIENT = (
    "SELECT pid, fname, lname, DOB, email, postal_code, allow_patient_portal, deceased_date FROM {}"
)


def _patient(row: Mapping[str, Any]) -> PatientIdentity:
    born = row["DOB"]
    return PatientIdentity(
        pid=int(row["pid"]),
        first_name=row["fname"] or "",
        last_name=row["lname"] or "",
        # PyMySQL returns a zero date as the string '0000-00-00': no birth date.
        date_of_birth=born if isinstance(born, date) else None,
        email=row["email"] or "",
        postal_code=row["postal_code"] or "",
        portal_allowed=row["allow_patient_portal"] == PORTAL_ALLOWED,
        deceased=row["deceased_date"] not in (None, "", "0000-00-00 00:00:00"),
    )


def patient_identity(cursor: Any, pid: int, *, tables: Tables) -> PatientIdentity | None:
    """The patient whose `pid` this is (read on every request: staff switching the portal
    off in OpenEMR ends access at the next click), or None."""
    cursor.execute(_PATIENT.format(tables.patient_data) + " WHERE pid = %s", (pid,))
    row = cursor.fetchone()
    return None if row is None else _patient(row)


def all_patients(cursor: Any, *, tables: Tables) -> list[PatientIdentity]:
    """Every patient, by `pid` (staff invitations and the duplicate report)."""
    cursor.execute(_PATIENT.format(tables.patient_data) + " ORDER BY pid")
    return [_patient(row) for row in cursor.fetchall()]


def patients_born_on(cursor: Any, born: date, *, tables: Tables) -> list[PatientIdentity]:
    """Every patient born on `born`, by `pid` (index `idx_patient_dob`): the charts a person
    registering may be, matched on name and zip by the caller, as Portico's own schema does.
    `email` has no index in OpenEMR, so a lookup starts from the birth date."""
    cursor.execute(_PATIENT.format(tables.patient_data) + " WHERE DOB = %s ORDER BY pid", (born,))
    return [_patient(row) for row in cursor.fetchall()]


@dataclass(frozen=True, slots=True)
class PatientAppointment:
    """One of a patient's appointments, as OpenEMR's calendar holds it (local wall time)."""

    id: int  # pc_eid
    day: date  # pc_eventDate
    start: timedelta  # pc_startTime, after local midnight
    minutes: int  # pc_duration, rounded up to a minute
    status: str  # pc_apptstatus code of list `apptstat` ('^' pending, 'x' cancelled, ...)
    category_id: int
    category_name: str  # pc_title when the category has since been deleted
    provider_id: str  # pc_aid
    provider_name: str | None  # None when pc_aid is no user


def patient_appointments(
    cursor: Any,
    pid: int,
    since: date | None,
    *,
    tables: Tables,
    until: date | None = None,
    newest_first: bool = False,
) -> list[PatientAppointment]:
    """The patient's own single appointments dated `since`..`until` (either open), earliest
    first (or newest first), at most MAX_PATIENT_APPOINTMENTS. Repeating rows are left out:
    OpenEMR's portal does not let a patient change them either ("contact your appointment
    desk")."""
    order = " DESC" if newest_first else ""
    return _appointments(
        cursor,
        tables,
        pid,
        # pc_pid has no index: a date bounds the scan (index pc_eventDate) when one is given.
        " AND e.pc_eventDate >= %s" * (since is not None)
        + " AND e.pc_eventDate <= %s" * (until is not None)
        + f" ORDER BY e.pc_eventDate{order}, e.pc_startTime{order}, e.pc_eid{order} LIMIT %s",
        [day for day in (since, until) if day is not None] + [MAX_PATIENT_APPOINTMENTS],
    )


def patient_appointment(
    cursor: Any, pid: int, eid: int, *, tables: Tables
) -> PatientAppointment | None:
    """Row `eid` if it is one of the patient's single appointments; another patient's row, a
    repeating one and a missing one look alike (None)."""
    found = _appointments(cursor, tables, pid, " AND e.pc_eid = %s", [eid])
    return found[0] if found else None


def _appointments(
    cursor: Any, tables: Tables, pid: int, condition: str, args: list[Any]
) -> list[PatientAppointment]:
    cursor.execute(
        "SELECT e.pc_eid, e.pc_eventDate, e.pc_startTime, e.pc_duration, e.pc_apptstatus,"
        " e.pc_catid, e.pc_title, e.pc_aid, e.pc_pid, c.pc_catname"
        f" FROM {tables.events} e"
        f" LEFT JOIN {tables.categories} c ON c.pc_catid = e.pc_catid"
        " WHERE e.pc_pid = %s AND e.pc_recurrtype = 0 AND e.pc_startTime IS NOT NULL" + condition,
        [str(pid), *args],
    )
    # The collation would let '1001 ' through; the patient's rows are exactly str(pid). A
    # zero-in-date day ('2026-11-00', stored by a non-strict server) is no appointment.
    rows = [
        row
        for row in cursor.fetchall()
        if row["pc_pid"] == str(pid) and isinstance(row["pc_eventDate"], date)
    ]
    names = _provider_names(cursor, tables, {row["pc_aid"] for row in rows})
    return [
        PatientAppointment(
            id=int(row["pc_eid"]),
            day=row["pc_eventDate"],
            start=row["pc_startTime"],
            minutes=math.ceil(int(row["pc_duration"] or 0) / 60),
            status=row["pc_apptstatus"] or "",
            category_id=int(row["pc_catid"]),
            category_name=row["pc_catname"] or row["pc_title"] or "",
            provider_id=row["pc_aid"] or "",
            provider_name=names.get(row["pc_aid"] or ""),
        )
        for row in rows
    ]


def exact_id(text: str | None) -> int | None:
    """The id a `pc_aid`/`pc_pid` text names, exactly as OpenEMR writes one (digits, no
    leading zero); '' (markers, lunches), '0' (clinic-wide) and anything else name nobody."""
    if not text or not text.isascii() or not text.isdigit() or text != str(int(text)):
        return None
    return int(text) or None


def _provider_names(cursor: Any, tables: Tables, aids: Collection[str | None]) -> dict[str, str]:
    """Names of the users these `pc_aid` texts are; a text that is not exactly a users.id as
    OpenEMR writes it (:func:`exact_id`) names nobody."""
    ids = {aid: number for aid in aids if aid and (number := exact_id(aid)) is not None}
    if not ids:
        return {}
    numbers = sorted(set(ids.values()))
    cursor.execute(
        f"SELECT id, title, fname, lname FROM {tables.users}"
        f" WHERE id IN ({_placeholders(numbers)})",
        numbers,
    )
    names = {int(row["id"]): provider_name(row) for row in cursor.fetchall()}
    return {aid: names[number] for aid, number in ids.items() if number in names}
