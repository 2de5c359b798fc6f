"""records.summary over a real link: the session's patient's own rows, in the documented
shapes, and nothing of anyone else's."""

from __future__ import annotations

import json
from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.records.seeding import KINDS, seed_records
from tests.support.practice import DR_ADAMS, running_practice

A, B = 3, 4


async def test_the_summary_lists_exactly_the_patients_own_rows(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    planted = seed_records(practice_db, A, marker="CANARY-A")
    seed_records(practice_db, B, marker="CANARY-B")
    async with running_practice(practice_db, link_keys) as practice:
        summary = await practice.call("records.summary", patient=A)
    for kind in KINDS:
        assert sorted(item["id"] for item in summary[kind]) == sorted(
            row["id"] for row in planted[kind]
        ), kind
    assert "CANARY-B" not in json.dumps(summary)


async def test_the_summary_names_the_patient(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        summary = await practice.call("records.summary", patient=A)
    assert summary["patient"] == {"name": "Pat3 Example", "date_of_birth": "1970-01-01"}


async def test_a_patient_without_records_gets_empty_lists(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    seed_records(practice_db, B, marker="CANARY-B")
    async with running_practice(practice_db, link_keys) as practice:
        summary = await practice.call("records.summary", patient=A)
    assert {kind: summary[kind] for kind in KINDS} == {kind: [] for kind in KINDS}


async def test_allergy_medication_and_problem_items_have_the_documented_shape(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    planted = seed_records(practice_db, A, marker="CANARY-A")
    async with running_practice(practice_db, link_keys) as practice:
        summary = await practice.call("records.summary", patient=A)
    allergies, medications, problems = (
        {item["id"]: item for item in summary[kind]}
        for kind in ("allergies", "medications", "problems")
    )
    assert allergies[planted["allergies"][0]["id"]] == {
        "id": planted["allergies"][0]["id"],
        "substance": "Penicillin CANARY-A",
        "category": "medication",
        "reaction": "Hives CANARY-A",
        "severity": "moderate",
        "status": "active",
        "noted_on": "2020-03-14",
        "note": "Noted at the first visit CANARY-A",
    }
    assert medications[planted["medications"][1]["id"]] == {
        "id": planted["medications"][1]["id"],
        "name": "Amoxicillin 500 mg capsule CANARY-A",
        "dosage": "1 capsule 3 times daily for 10 days",
        "status": "completed",
        "started_on": "2026-10-01",
        "ended_on": "2026-10-11",
        "prescriber": "Dr. Adams",
        "note": None,
    }
    assert problems[planted["problems"][1]["id"]] == {
        "id": planted["problems"][1]["id"],
        "description": "Sinus infection CANARY-A",
        "status": "resolved",
        "onset_on": "2026-10-01",
        "resolved_on": "2026-10-15",
        "note": None,
    }


async def test_visit_and_lab_items_carry_utc_and_practice_local_times(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    planted = seed_records(practice_db, A, marker="CANARY-A")
    sinus = planted["visits"][0]["id"]
    async with running_practice(practice_db, link_keys) as practice:
        summary = await practice.call("records.summary", patient=A)
    assert summary["visits"][0] == {
        "id": sinus,
        "start": "2026-10-01T14:00:00Z",
        "end": "2026-10-01T14:30:00Z",
        "local_start": "2026-10-01T10:00:00-04:00",
        "date": "2026-10-01",
        "provider": {"id": DR_ADAMS, "name": "Dr. Adams"},
        "reason": "Sinus congestion CANARY-A",
        "summary": "Started amoxicillin. CANARY-A\nCall if not better in a week.",
    }
    glucose = next(lab for lab in summary["labs"] if lab["test"].startswith("Glucose"))
    assert glucose == {
        "id": planted["labs"][0]["id"],
        "test": "Glucose, fasting CANARY-A",
        "value": "105",
        "unit": "mg/dL",
        "unit_display": "mg/dL",
        "reference_range": "70-99",
        "flag": "high",
        "status": "final",
        "collected_at": "2026-10-01T14:20:00Z",
        "local_collected": "2026-10-01T10:20:00-04:00",
        "date": "2026-10-01",
        "visit_id": sinus,
        "note": None,
    }


async def test_active_entries_come_first_and_visits_and_labs_newest_first(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    seed_records(practice_db, A)
    async with running_practice(practice_db, link_keys) as practice:
        summary = await practice.call("records.summary", patient=A)
    assert [m["status"] for m in summary["medications"]] == ["active", "completed"]
    assert [p["status"] for p in summary["problems"]] == ["active", "resolved"]
    assert [v["date"] for v in summary["visits"]] == ["2026-10-01", "2026-06-15"]
    collected = [lab["collected_at"] for lab in summary["labs"]]
    assert collected == sorted(collected, reverse=True)
