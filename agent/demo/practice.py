"""A demo practice, generated deterministically from a seed into an empty, migrated database.

The demo and the tests need a practice that looks like a real one — split days, a Saturday
clinic, a part-timer, a vacation, families sharing one email, records with no email or zip,
the same person entered twice with the address typed differently — so that slot computation,
invites and the duplicate report meet the cases they meet in an office. All names are
invented and every email is at example.org (RFC 2606), so no demo mail can reach anyone.

It refuses a database that already holds practice data: demo rows mixed into a real practice
could not be told apart from real patients afterwards.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pymysql

from agent.demo.patients import Patient, make_patients
from agent.demo.schedule import (
    PROVIDERS,
    TYPE_INDEX,
    TYPES,
    Appointment,
    make_appointments,
    time_off_periods,
)


class DemoSeedRefused(Exception):
    """The database is not an empty, migrated practice database; nothing was written."""


@dataclass(frozen=True, slots=True)
class SeedSummary:
    providers: int
    appointment_types: int
    patients: int
    appointments: int
    shared_email_groups: int  # emails used, exactly, by more than one patient (families)
    case_variant_groups: int  # emails spelled differently only in case or surrounding space
    patients_without_email: int
    patients_without_zip: int
    time_off: int

    def describe(self) -> str:
        return (
            f"{self.providers} providers, {self.appointment_types} appointment types, "
            f"{self.patients} patients ({self.shared_email_groups} shared-email families, "
            f"{self.case_variant_groups} emails spelled two ways, "
            f"{self.patients_without_email} without email, "
            f"{self.patients_without_zip} without zip), {self.appointments} appointments, "
            f"{self.time_off} time-off periods"
        )


def seed_demo(
    connection: pymysql.connections.Connection[Any],
    *,
    now: datetime,
    timezone: str,
    seed: int = 7,
    patients: int = 300,
) -> SeedSummary:
    """Fill an empty, migrated practice database with a demo practice, in one transaction.

    `now` is the moment the demo is built around (aware, or naive UTC): appointments cover the
    local days from 60 before to 60 after it. `timezone` is the practice's IANA zone; working
    hours are local and turned into UTC per date, so daylight-saving changes come out right.
    The same seed, now and timezone give the same practice. Raises DemoSeedRefused, writing
    nothing, if the database already holds practice rows or has not been migrated.
    """
    if patients < 1:
        raise ValueError("patients must be at least 1")
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {timezone!r}") from exc
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    now = now.replace(microsecond=0)

    rng = random.Random(seed)
    people = make_patients(rng, patients, now)
    time_off = time_off_periods(now, tz)
    appointments = make_appointments(rng, people, time_off, now, tz)

    connection.begin()
    try:
        with connection.cursor() as cursor:
            _refuse_unless_empty(cursor)
            _write(cursor, people, time_off, appointments)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise

    emails = Counter(p.email for p in people if p.email is not None)
    normalised: dict[str, set[str]] = {}
    for email in emails:
        normalised.setdefault(email.strip().casefold(), set()).add(email)
    return SeedSummary(
        providers=len(PROVIDERS),
        appointment_types=len(TYPES),
        patients=len(people),
        appointments=len(appointments),
        shared_email_groups=sum(1 for n in emails.values() if n > 1),
        case_variant_groups=sum(1 for v in normalised.values() if len(v) > 1),
        patients_without_email=sum(1 for p in people if p.email is None),
        patients_without_zip=sum(1 for p in people if p.home_zip is None),
        time_off=sum(len(v) for v in time_off.values()),
    )


def _refuse_unless_empty(cursor: Any) -> None:
    for table in ("patients", "providers", "appointment_types", "appointments"):
        try:
            cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")
        except pymysql.err.ProgrammingError as exc:
            if exc.args[0] == 1146:  # no such table
                raise DemoSeedRefused(
                    f"the database has no {table} table; run `portico-agent migrate` first"
                ) from None
            raise
        if cursor.fetchone() is not None:
            raise DemoSeedRefused(
                f"the {table} table already has rows; the demo is only ever seeded into an "
                "empty database, so demo patients can never mix with a real practice's"
            )


def _write(
    cursor: Any,
    people: list[Patient],
    time_off: dict[int, list[tuple[datetime, datetime]]],
    appointments: list[Appointment],
) -> None:
    provider_ids = []
    for name, _, _ in PROVIDERS:
        cursor.execute(
            "INSERT INTO providers (display_name, active, online_booking) VALUES (%s, 1, 1)",
            (name,),
        )
        provider_ids.append(int(cursor.lastrowid))
    type_ids = []
    for name, minutes, online, _ in TYPES:
        cursor.execute(
            "INSERT INTO appointment_types (name, duration_minutes, online_bookable)"
            " VALUES (%s, %s, %s)",
            (name, minutes, int(online)),
        )
        type_ids.append(int(cursor.lastrowid))
    cursor.executemany(
        "INSERT INTO provider_appointment_types (provider_id, appointment_type_id) VALUES (%s, %s)",
        [
            (provider_ids[p], type_ids[TYPE_INDEX[t]])
            for p, (_, _, offered) in enumerate(PROVIDERS)
            for t in offered
        ],
    )
    cursor.executemany(
        "INSERT INTO provider_hours (provider_id, weekday, start_time, end_time)"
        " VALUES (%s, %s, %s, %s)",
        [
            (provider_ids[p], weekday, start, end)
            for p, (_, hours, _) in enumerate(PROVIDERS)
            for weekday, start, end in hours
        ],
    )
    cursor.executemany(
        "INSERT INTO provider_time_off (provider_id, starts_at, ends_at) VALUES (%s, %s, %s)",
        [(provider_ids[p], s, e) for p, periods in time_off.items() for s, e in periods],
    )
    cursor.executemany(
        "INSERT INTO patients"
        " (first_name, last_name, date_of_birth, email, home_zip, phone, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [
            (p.first_name, p.last_name, p.date_of_birth, p.email, p.home_zip, p.phone, p.created_at)
            for p in people
        ],
    )
    # The table was empty and this session alone inserted into it, so ids ascend in insertion
    # order (whatever auto_increment_increment is): the i-th id is the i-th patient.
    cursor.execute("SELECT id FROM patients ORDER BY id")
    patient_ids = [int(row[0] if isinstance(row, tuple) else row["id"]) for row in cursor]
    if len(patient_ids) != len(people):
        raise RuntimeError("patients changed while the demo was being seeded")
    # Placeholders only inside VALUES (...): that is what lets PyMySQL send one multi-row
    # INSERT instead of a round trip per appointment.
    cursor.executemany(
        "INSERT INTO appointments (patient_id, provider_id, appointment_type_id, starts_at,"
        " ends_at, status, source, late_cancel, cancelled_at, cancelled_by, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            (
                patient_ids[a.patient],
                provider_ids[a.provider],
                type_ids[a.type],
                a.starts_at,
                a.ends_at,
                a.status,
                "office",
                int(a.late_cancel),
                a.cancelled_at,
                a.cancelled_by,
                a.created_at,
            )
            for a in appointments
        ],
    )
