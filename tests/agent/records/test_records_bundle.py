"""records.bundle over a real link: a valid FHIR R4 Bundle holding exactly the session's
patient's seeded rows, and nothing of another patient's."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent.db.pool import DatabaseSettings
from agent.records.fhir import practice_namespace, resource_id
from tests.agent.records.sample import downloaded, resources, validated
from tests.agent.records.seeding import seed_records
from tests.support.practice import running_practice

A, B = 3, 4
NAMESPACE = practice_namespace("example-clinic")  # the small practice's subdomain


async def download(practice_db: DatabaseSettings, link_keys: Path, patient: int) -> Any:
    async with running_practice(practice_db, link_keys) as practice:
        return await practice.call("records.bundle", patient=patient)


async def test_the_download_validates_as_an_r4_bundle(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    seed_records(practice_db, A, marker="CANARY-A")
    answer = await download(practice_db, link_keys, A)
    assert validated(downloaded(answer)).type == "collection"


async def test_the_download_has_one_resource_per_seeded_row(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    seed_records(practice_db, A, marker="CANARY-A")
    seed_records(practice_db, B, marker="CANARY-B")
    bundle = downloaded(await download(practice_db, link_keys, A))
    kinds = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds == {
        "Patient": 1,
        "AllergyIntolerance": 2,
        "MedicationStatement": 2,
        "Condition": 2,
        "Encounter": 2,
        "Observation": 3,
    }


async def test_each_entry_is_one_of_the_patients_rows_by_id(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    planted = seed_records(practice_db, A, marker="CANARY-A")
    seed_records(practice_db, B, marker="CANARY-B")
    bundle = downloaded(await download(practice_db, link_keys, A))
    expected = {f"urn:uuid:{resource_id(NAMESPACE, 'Patient', A)}"}
    for kind, resource_type in (
        ("allergies", "AllergyIntolerance"),
        ("medications", "MedicationStatement"),
        ("problems", "Condition"),
        ("visits", "Encounter"),
        ("labs", "Observation"),
    ):
        expected |= {
            f"urn:uuid:{resource_id(NAMESPACE, resource_type, row['id'])}" for row in planted[kind]
        }
    assert {e["fullUrl"] for e in bundle["entry"]} == expected


async def test_the_download_carries_the_seeded_values(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    planted = seed_records(practice_db, A, marker="CANARY-A")
    bundle = downloaded(await download(practice_db, link_keys, A))

    def texts(resource_type: str, element: str) -> set[str]:
        return {r[element]["text"] for r in resources(bundle, resource_type)}

    assert texts("AllergyIntolerance", "code") == {r["substance"] for r in planted["allergies"]}
    assert texts("MedicationStatement", "medicationCodeableConcept") == {
        r["name"] for r in planted["medications"]
    }
    assert texts("Condition", "code") == {r["description"] for r in planted["problems"]}
    assert {r["reasonCode"][0]["text"] for r in resources(bundle, "Encounter")} == {
        r["reason"] for r in planted["visits"]
    }
    values = {
        r["code"]["text"]: r.get("valueQuantity", {}).get("value", r.get("valueString"))
        for r in resources(bundle, "Observation")
    }
    assert values == {
        "Glucose, fasting CANARY-A": Decimal("105"),
        "Hemoglobin A1c": Decimal("5.4"),
        "Strep A rapid test": "Negative CANARY-A",
    }
    (patient,) = resources(bundle, "Patient")
    assert patient["name"][0] == {"use": "official", "family": "Example", "given": ["Pat3"]}
    assert patient["birthDate"] == "1970-01-01"
    assert patient["telecom"] == [{"system": "email", "value": "pat3@example.org", "use": "home"}]


async def test_nothing_of_another_patient_is_in_the_download(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    seed_records(practice_db, A, marker="CANARY-A")
    seed_records(practice_db, B, marker="CANARY-B")
    text = json.dumps(await download(practice_db, link_keys, A))
    assert "CANARY-A" in text
    assert "CANARY-B" not in text
    assert "pat4@example.org" not in text
    assert "Pat4" not in text


async def test_the_other_patients_download_holds_only_theirs(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    seed_records(practice_db, A, marker="CANARY-A")
    seed_records(practice_db, B, marker="CANARY-B")
    text = json.dumps(await download(practice_db, link_keys, B))
    assert "CANARY-B" in text
    assert "CANARY-A" not in text


async def test_the_file_is_named_for_the_practices_local_date(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    answer = await download(practice_db, link_keys, A)
    assert answer["filename"] == "health-record-2026-11-23.json"
    assert downloaded(answer)["timestamp"] == "2026-11-23T12:00:00Z"


async def test_downloading_twice_gives_the_same_entries(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    seed_records(practice_db, A)
    async with running_practice(practice_db, link_keys) as practice:
        first = await practice.call("records.bundle", patient=A)
        second = await practice.call("records.bundle", patient=A)
    assert first == second
