"""The OpenEMR twin of tests/support/practice.py's small practice.

The same two providers, two appointment types, working hours and sixty patients, written as
OpenEMR rows the way OpenEMR writes them (tests/support/openemr/rows.py), so a booking or access
test runs the same assertions against either system:

- providers are `users` rows (authorized, active, in the calendar, a username) after the
  installer's admin, so their ids are not Portico's;
- the two types are practice categories of the same names and lengths; the default patient
  categories are switched off (`pc_active = 0`, what a practice does on the categories page)
  so patients are offered the same two types as in the portico seed;
- working hours are In Office 09:00 / Out Of Office 17:00 series until the end of 2027: Dr. Adams
  every workday (the In Office category's default repeat, weekend '6,0'), Dr. Baker on the days
  of the week Monday to Friday, so both recurrence kinds are in play;
- patient n is `pid` 1000 + n (and `patient_data.id` n: a store using the surrogate id instead of
  `pid` finds nobody), with the portico seed's name, email, date of birth and zip, and
  `allow_patient_portal` 'YES'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agent.db.pool import DatabaseSettings
from agent.openemr.calendar import wall_clock_to_utc
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.recurrspec import (
    FRIDAY,
    MONDAY,
    THURSDAY,
    TUESDAY,
    WEDNESDAY,
    WORKDAY,
    every,
    on_weekdays,
)
from tests.support.openemr.rows import (
    IN_OFFICE,
    OUT_OF_OFFICE,
    add_category,
    add_event,
    add_patient,
    add_provider,
    set_global,
)
from tests.support.practice import PATIENTS, SMALL_PRACTICE_EMAIL, TIMEZONE, SmallPractice

FIRST_PID = 1000
ZONE = ZoneInfo(TIMEZONE)
SERIES_FROM, SERIES_UNTIL = "2026-01-05", "2027-12-31"  # a Monday; OpenEMR needs an end date
# pc_apptstatus -> Portico's wording (README 2.5: 'x' Canceled, '%' Canceled < 24h, '?' No show).
CANCELLED = {"x": False, "%": True}  # status -> late_cancel


@dataclass(frozen=True)
class TwinIds:
    follow_up: int
    new_patient: int
    dr_adams: int
    dr_baker: int


def install_small_practice(db: OpenEMRDatabase) -> TwinIds:
    """The small practice's rows in an installed OpenEMR database (rows.install first)."""
    set_global(db, "gbl_time_zone", TIMEZONE)
    adams = add_provider(db, username="adams", fname="", lname="Adams")
    baker = add_provider(db, username="baker", fname="", lname="Baker")
    follow_up = add_category(db, "portal_follow_up", "Follow-up", 30 * 60, seq=1)
    new_patient = add_category(db, "portal_new_patient_visit", "New patient visit", 60 * 60, seq=2)
    connection = db.as_openemr()
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE openemr_postcalendar_categories SET pc_active = 0"
            " WHERE pc_cattype = 0 AND pc_catid NOT IN (%s, %s)",
            (follow_up, new_patient),
        )
    weekdays = on_weekdays(MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY)
    for provider, repeat in ((adams, every(1, WORKDAY)), (baker, weekdays)):
        for category, start in ((IN_OFFICE, "9:00"), (OUT_OF_OFFICE, "17:00")):
            add_event(
                db,
                provider=provider,
                category=category,
                day=SERIES_FROM,
                start=start,
                repeat=repeat,
                until=SERIES_UNTIL,
            )
    for n in range(1, PATIENTS + 1):
        add_patient(
            db,
            FIRST_PID + n,
            fname=f"Pat{n}",
            lname="Example",
            dob="1970-01-01",
            email=SMALL_PRACTICE_EMAIL.format(n=n),
            postal_code="10001",
            portal="YES",
        )
    return TwinIds(follow_up, new_patient, adams, baker)


class OpenEMRSmallPractice(SmallPractice):
    """SmallPractice over an OpenEMR database (`db`) and Portico's own database beside it
    (`settings`, the agent's `database.portal_name`)."""

    system = "openemr"

    def __init__(self, db: OpenEMRDatabase, portal: DatabaseSettings, ids: TwinIds) -> None:
        super().__init__(portal)
        self.db = db
        self.FOLLOW_UP, self.NEW_PATIENT = ids.follow_up, ids.new_patient
        self.DR_ADAMS, self.DR_BAKER = ids.dr_adams, ids.dr_baker
        self.minutes = {ids.follow_up: 30, ids.new_patient: 60}

    def patient(self, n: int) -> int:
        assert 1 <= n <= PATIENTS, n
        return FIRST_PID + n

    def number(self, patient_id: int) -> int:
        return patient_id - FIRST_PID

    def config_data(self, keys: Path, **booking: Any) -> dict[str, Any]:
        data = super().config_data(keys, **booking)
        data["practice"]["system"] = "openemr"
        data["database"]["name"] = self.db.settings.name
        data["database"]["portal_name"] = self.settings.name
        return data

    def _appointments(self) -> list[dict[str, Any]]:
        # A patient's appointments are the single rows naming their pid (README 2.5).
        rows = self.db.query(
            "SELECT pc_eid, pc_pid, pc_aid, pc_catid, pc_eventDate, pc_startTime, pc_duration,"
            " pc_apptstatus, pc_informant FROM openemr_postcalendar_events"
            " WHERE pc_pid <> '' AND pc_recurrtype = 0 ORDER BY pc_eid"
        )
        result = []
        for row in rows:
            start = wall_clock_to_utc(
                row["pc_eventDate"], int(row["pc_startTime"].total_seconds()), ZONE
            ).replace(tzinfo=None)
            status = row["pc_apptstatus"]
            result.append(
                {
                    "id": row["pc_eid"],
                    "patient_id": int(row["pc_pid"]),
                    "provider_id": int(row["pc_aid"]),
                    "type_id": row["pc_catid"],
                    "starts_at": start,
                    "ends_at": start + timedelta(seconds=row["pc_duration"]),
                    "status": "cancelled" if status in CANCELLED else "booked",
                    "late_cancel": int(CANCELLED.get(status, False)),
                    # Staff rows name who saved them; OpenEMR's portal and Portico's do not.
                    "source": "office" if row["pc_informant"] else "portal",
                }
            )
        return result

    def patient_row(self, patient_id: int) -> list[dict[str, Any]]:
        return self.db.query("SELECT * FROM patient_data WHERE pid = %s", (patient_id,))

    def add_office_appointment(
        self, patient_id: int, provider_id: int, type_id: int, starts_at: datetime
    ) -> None:
        local = starts_at.astimezone(UTC).astimezone(ZONE)
        add_event(
            self.db,
            provider=provider_id,
            category=type_id,
            day=local.date().isoformat(),
            start=f"{local.hour}:{local.minute:02d}",
            minutes=self.minutes[type_id],
            patient=patient_id,
        )

    def set_portal_allowed(self, patient_id: int, allowed: bool) -> None:
        connection = self.db.as_openemr()
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "UPDATE patient_data SET allow_patient_portal = %s WHERE pid = %s",
                ("YES" if allowed else "NO", patient_id),
            )
