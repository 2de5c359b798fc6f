"""The OpenEMR twin of the small practice (tests/support/openemr/practice.py) holds what the
portico seed holds: the same people, providers, types and working hours, as OpenEMR rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

from agent.db.pool import DatabaseSettings
from agent.openemr.calendar import CalendarRules, event_from_row, provider_schedules
from tests.support.database import query
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.practice import ZONE as NEW_YORK
from tests.support.openemr.practice import OpenEMRSmallPractice, TwinIds, install_small_practice


def test_the_twin_has_the_portico_seeds_people_providers_and_types(
    openemr_db: OpenEMRDatabase, practice_db: DatabaseSettings
) -> None:
    ids = install_small_practice(openemr_db)
    # After the installer's admin (1), in the order added.
    assert ids == TwinIds(follow_up=16, new_patient=17, dr_adams=2, dr_baker=3)
    providers = openemr_db.query(
        "SELECT id, username, title, fname, lname FROM users WHERE authorized = 1"
        " AND active = 1 AND calendar = 1 AND username <> '' AND id <> 1 ORDER BY id"
    )
    assert providers == [
        {"id": 2, "username": "adams", "title": "Dr.", "fname": "", "lname": "Adams"},
        {"id": 3, "username": "baker", "title": "Dr.", "fname": "", "lname": "Baker"},
    ]
    offered = openemr_db.query(
        "SELECT pc_catid, pc_catname, pc_duration FROM openemr_postcalendar_categories"
        " WHERE pc_active = 1 AND pc_cattype = 0 ORDER BY pc_seq"
    )
    assert offered == [
        {"pc_catid": 16, "pc_catname": "Follow-up", "pc_duration": 1800},
        {"pc_catid": 17, "pc_catname": "New patient visit", "pc_duration": 3600},
    ]
    twins = openemr_db.query(
        "SELECT pid - 1000 AS n, fname, lname, DOB, email, postal_code, allow_patient_portal"
        " FROM patient_data ORDER BY pid"
    )
    seeded = query(
        practice_db,
        "SELECT id, first_name, last_name, date_of_birth, email, home_zip FROM patients"
        " ORDER BY id",
    )
    assert [
        (t["n"], t["fname"], t["lname"], t["DOB"], t["email"], t["postal_code"]) for t in twins
    ] == [tuple(p.values()) for p in seeded]
    assert {t["allow_patient_portal"] for t in twins} == {"YES"}
    # pid is the key, not the surrogate id: the two never coincide here.
    assert openemr_db.query("SELECT COUNT(*) AS n FROM patient_data WHERE id = pid") == [{"n": 0}]


def _working_hours(
    db: OpenEMRDatabase, ids: TwinIds, first: date, last: date
) -> dict[str, list[tuple[str, str]]]:
    rows = db.query("SELECT * FROM openemr_postcalendar_events")
    schedules = provider_schedules(
        [event_from_row(row) for row in rows],
        providers=[str(ids.dr_adams), str(ids.dr_baker)],
        category=ids.follow_up,
        first_day=first,
        last_day=last,
        rules=CalendarRules(zone=NEW_YORK),
    )
    assert schedules.skipped == ()
    return {
        aid: [
            (start.strftime("%Y-%m-%dT%H:%MZ"), end.strftime("%Y-%m-%dT%H:%MZ"))
            for start, end in schedule.working
        ]
        for aid, schedule in schedules.by_provider.items()
    }


def test_the_twins_working_hours_are_the_portico_provider_hours(
    openemr_db: OpenEMRDatabase,
) -> None:
    """provider_hours of the portico seed: Monday to Friday, 09:00-17:00 New York, both
    providers. Written out by hand in UTC for a winter week (EST, -5), a summer week (EDT, -4),
    and the week of the November change (Sunday 2026-11-01), where the days before Sunday are
    still on summer time."""
    ids = install_small_practice(openemr_db)
    winter = [
        (f"2026-11-{d}T14:00Z", f"2026-11-{d}T22:00Z") for d in ("23", "24", "25", "26", "27")
    ]
    summer = [(f"2026-07-{d}T13:00Z", f"2026-07-{d}T21:00Z") for d in ("06", "07", "08", "09")] + [
        ("2026-07-10T13:00Z", "2026-07-10T21:00Z")
    ]
    change = [
        (f"2026-10-{d}T13:00Z", f"2026-10-{d}T21:00Z") for d in ("26", "27", "28", "29", "30")
    ] + [("2026-11-02T14:00Z", "2026-11-02T22:00Z")]
    for first, last, expected in (
        (date(2026, 11, 23), date(2026, 11, 29), winter),
        (date(2026, 7, 6), date(2026, 7, 12), summer),
        (date(2026, 10, 26), date(2026, 11, 2), change),
    ):
        hours = _working_hours(openemr_db, ids, first, last)
        assert hours == {"2": expected, "3": expected}, (first, hours)


def test_the_twin_reads_appointments_as_portico_words_them(openemr_db: OpenEMRDatabase) -> None:
    """What the per-system tests compare: an office booking at 10:00 New York (15:00 UTC in
    November), then the same row cancelled late ('%') and a cancelled one ('x'), read back in
    Portico's words; allow_patient_portal flipped in the table."""
    ids = install_small_practice(openemr_db)
    twin = OpenEMRSmallPractice(openemr_db, openemr_db.settings, ids)
    twin.add_office_appointment(
        twin.patient(3), ids.dr_baker, ids.new_patient, datetime(2026, 11, 25, 15, tzinfo=UTC)
    )
    [row] = openemr_db.query(
        "SELECT pc_eid, pc_pid, pc_aid, pc_eventDate, pc_startTime, pc_duration"
        " FROM openemr_postcalendar_events WHERE pc_pid <> ''"
    )
    assert (row["pc_pid"], row["pc_aid"], str(row["pc_eventDate"]), str(row["pc_startTime"])) == (
        "1003",
        "3",
        "2026-11-25",
        "10:00:00",
    )
    assert row["pc_duration"] == 3600
    assert twin.appointments() == [
        {
            "id": row["pc_eid"],
            "patient_id": 1003,
            "provider_id": 3,
            "type_id": 17,
            "starts_at": datetime(2026, 11, 25, 15, 0),
            "ends_at": datetime(2026, 11, 25, 16, 0),
            "status": "booked",
            "late_cancel": 0,
            "source": "office",
        }
    ]
    for status, expected in (("%", [("cancelled", 1)]), ("x", [("cancelled", 0)])):
        openemr_db.query(
            "UPDATE openemr_postcalendar_events SET pc_apptstatus = %s WHERE pc_eid = %s",
            (status, row["pc_eid"]),
        )
        got = twin.appointments("status", "late_cancel")
        assert [(a["status"], a["late_cancel"]) for a in got] == expected
    twin.set_portal_allowed(twin.patient(3), False)
    assert openemr_db.query(
        "SELECT pid, allow_patient_portal FROM patient_data WHERE allow_patient_portal <> 'YES'"
    ) == [{"pid": 1003, "allow_patient_portal": "NO"}]
