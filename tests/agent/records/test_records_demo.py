"""The demo's clinical records: valid FHIR for every patient, consistent with the demo's
appointments and with themselves, varied enough to show every part of the records page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from agent.db.pool import DatabaseSettings
from agent.demo.practice import DemoSeedRefused, seed_demo
from agent.demo.records import seed_demo_records
from agent.store.base import ClinicalRecord
from agent.store.portico.records import PorticoRecords
from tests.agent.records.sample import bundle_of, validated
from tests.support.database import MariaDB, connect, fresh_database
from tests.support.practice import NOW, TIMEZONE

PATIENTS = 60


def seed(settings: DatabaseSettings, rng_seed: int = 11) -> list[int]:
    connection = connect(settings)
    with connection:
        seed_demo(connection, now=NOW, timezone=TIMEZONE, patients=PATIENTS)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM patients ORDER BY id")
            ids = [row[0] for row in cursor.fetchall()]
        seed_demo_records(connection, now=NOW, patient_ids=ids, rng_seed=rng_seed)
    return ids


def dict_connection(settings: DatabaseSettings) -> Any:
    return connect(settings, dict_rows=True)


@pytest.fixture(scope="module")
def demo(mariadb: MariaDB) -> Iterator[tuple[DatabaseSettings, list[ClinicalRecord]]]:
    """One seeded demo practice shared by the read-only tests of this file."""
    with fresh_database(mariadb) as settings:
        ids = seed(settings)
        with dict_connection(settings) as connection, connection.cursor() as cursor:
            records = [PorticoRecords().clinical_record(cursor, pid) for pid in ids]
        yield settings, [r for r in records if r is not None]


def rows(settings: DatabaseSettings, sql: str) -> list[dict[str, Any]]:
    with dict_connection(settings) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def test_every_demo_patients_download_is_a_valid_r4_bundle(
    demo: tuple[DatabaseSettings, list[ClinicalRecord]],
) -> None:
    _, records = demo
    assert len(records) == PATIENTS
    for record in records:
        validated(bundle_of(record))


def test_each_completed_appointment_has_one_visit_with_its_provider_and_time(
    demo: tuple[DatabaseSettings, list[ClinicalRecord]],
) -> None:
    settings, _ = demo
    naive_now = NOW.replace(tzinfo=None)
    completed = {
        (a["id"], a["patient_id"], a["provider_id"], a["starts_at"])
        for a in rows(settings, "SELECT * FROM appointments WHERE status = 'completed'")
        if a["ends_at"] <= naive_now
    }
    from_appointments = {
        (e["appointment_id"], e["patient_id"], e["provider_id"], e["started_at"])
        for e in rows(settings, "SELECT * FROM encounters WHERE appointment_id IS NOT NULL")
    }
    assert completed
    assert from_appointments == completed


def test_no_visit_or_result_lies_in_the_future(
    demo: tuple[DatabaseSettings, list[ClinicalRecord]],
) -> None:
    _, records = demo
    now = NOW.replace(tzinfo=None)
    for record in records:
        assert all(v.started_at < now for v in record.visits)
        assert all(lab.collected_at < now for lab in record.labs)
        assert all(p.onset_on is None or p.onset_on <= now.date() for p in record.problems)


def test_lab_flags_agree_with_their_reference_ranges(
    demo: tuple[DatabaseSettings, list[ClinicalRecord]],
) -> None:
    _, records = demo
    checked = 0
    for lab in (lab for record in records for lab in record.labs):
        if not re.fullmatch(r"\d+(\.\d+)?", lab.value):
            continue
        assert lab.flag == expected_flag(float(lab.value), lab.reference_range or ""), lab
        checked += 1
    assert checked > 100


def expected_flag(value: float, printed: str) -> str:
    if match := re.fullmatch(r"([\d.]+)-([\d.]+)", printed):
        low, high = float(match[1]), float(match[2])
        return "low" if value < low else "high" if value > high else "normal"
    if printed.startswith("<"):
        return "high" if value >= float(printed[1:]) else "normal"
    if printed.startswith(">="):
        return "low" if value < float(printed[2:]) else "normal"
    raise AssertionError(f"unexpected range {printed!r}")


def test_the_demo_shows_every_kind_of_entry_and_state(
    demo: tuple[DatabaseSettings, list[ClinicalRecord]],
) -> None:
    _, records = demo
    allergies = [a for r in records for a in r.allergies]
    medications = [m for r in records for m in r.medications]
    problems = [p for r in records for p in r.problems]
    labs = [lab for r in records for lab in r.labs]
    assert any(not r.allergies for r in records)
    assert {"medication", "food", "environment"} <= {a.category for a in allergies}
    assert {"active", "stopped", "completed"} <= {m.status for m in medications}
    assert {"active", "resolved"} <= {p.status for p in problems}
    assert {"normal", "high"} <= {lab.flag for lab in labs}
    assert any(lab.unit is None for lab in labs)  # a result in words
    assert all(v.summary for r in records for v in r.visits)


def test_the_same_seed_writes_the_same_records(
    mariadb: MariaDB, demo: tuple[DatabaseSettings, list[ClinicalRecord]]
) -> None:
    _, first = demo
    with fresh_database(mariadb) as settings:
        ids = seed(settings)
        with dict_connection(settings) as connection, connection.cursor() as cursor:
            again = [PorticoRecords().clinical_record(cursor, pid) for pid in ids]
    assert again == first


def test_a_database_that_already_has_records_is_refused_untouched(mariadb: MariaDB) -> None:
    with fresh_database(mariadb) as settings:
        ids = seed(settings)
        before = rows(settings, "SELECT COUNT(*) AS n FROM lab_results")
        with connect(settings) as connection, pytest.raises(DemoSeedRefused, match="already"):
            seed_demo_records(connection, now=datetime(2027, 1, 1), patient_ids=ids)
        assert rows(settings, "SELECT COUNT(*) AS n FROM lab_results") == before
