"""A whole clinical record as plain values, for the pure FHIR tests (no database)."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from agent.records.fhir import (
    health_record_bundle,
    patient_identifier_system,
    practice_namespace,
)
from agent.records.fhir_json import bundle_json
from agent.store.base import (
    AllergyRow,
    ClinicalRecord,
    LabRow,
    MedicationRow,
    PatientRow,
    ProblemRow,
    VisitRow,
)

NAMESPACE = practice_namespace("example-clinic")
ASSEMBLED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

PATIENT = PatientRow(
    id=7,
    first_name="Ann",
    last_name="Lee",
    date_of_birth=date(1970, 1, 1),
    email="ann.lee@example.org",
    phone="(617) 555-0123",
    home_zip="10001",
)
SINUS_VISIT = VisitRow(
    id=31,
    started_at=datetime(2026, 10, 1, 14, 0),
    ended_at=datetime(2026, 10, 1, 14, 30),
    reason="Sinus congestion",
    provider_id=1,
    provider_name="Dr. Adams",
    summary="Started amoxicillin.\nCall if not better in a week.",
)


def sample_record(**changes: Any) -> ClinicalRecord:
    record = ClinicalRecord(
        patient=PATIENT,
        allergies=(
            AllergyRow(
                id=11,
                substance="Penicillin",
                code_system="rxnorm",
                code="7980",
                category="medication",
                reaction="Hives",
                severity="moderate",
                noted_on=date(2020, 3, 14),
                note="Noted at the first visit",
            ),
        ),
        medications=(
            MedicationRow(
                id=21,
                name="Lisinopril 10 mg tablet",
                rxnorm_code="29046",
                dosage="1 tablet by mouth once daily",
                started_on=date(2024, 1, 10),
                prescriber="Dr. Adams",
            ),
        ),
        problems=(
            ProblemRow(
                id=41,
                description="High blood pressure",
                icd10_code="I10",
                snomed_code="38341003",
                onset_on=date(2024, 1, 10),
            ),
        ),
        visits=(SINUS_VISIT,),
        labs=(
            LabRow(
                id=51,
                test_name="Glucose, fasting",
                value="105",
                collected_at=datetime(2026, 10, 1, 14, 20),
                loinc_code="2345-7",
                unit="mg/dL",
                reference_range="70-99",
                flag="high",
                visit_id=SINUS_VISIT.id,
            ),
        ),
    )
    return replace(record, **changes)


def bundle_of(record: ClinicalRecord, namespace: uuid.UUID = NAMESPACE) -> dict[str, Any]:
    return health_record_bundle(
        record,
        namespace=namespace,
        patient_system=patient_identifier_system("example-clinic"),
        timestamp=ASSEMBLED,
    )


def validated(bundle: dict[str, Any]) -> Bundle:
    """The bundle parsed by the reference R4-series models (after a JSON round trip through
    the download's writer, decimals kept exact); raises if it is not valid. The models check
    structure and types but not the codes of required bindings, so those are checked here
    against R4's value sets."""
    parsed = Bundle.model_validate(json.loads(bundle_json(bundle), parse_float=Decimal))
    assert_r4_codes(bundle)
    assert_no_empty_values(bundle)
    return parsed


def downloaded(answer: dict[str, Any]) -> dict[str, Any]:
    """The bundle of a `records.bundle` answer, read as a receiving system reads the file:
    numbers as exact decimals."""
    bundle: dict[str, Any] = json.loads(answer["bundle_json"], parse_float=Decimal)
    return bundle


def assert_no_empty_values(value: Any, path: str = "Bundle") -> None:
    """FHIR: a string is never empty, and an element is left out rather than sent empty
    (the models accept both, so this is checked here)."""
    if isinstance(value, str):
        assert value.strip(), f"{path} is blank"
    elif isinstance(value, dict):
        assert value, f"{path} is an empty object"
        for key, item in value.items():
            assert_no_empty_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        assert value, f"{path} is an empty list"
        for index, item in enumerate(value):
            assert_no_empty_values(item, f"{path}[{index}]")


# The R4 value sets with a *required* binding, for the elements Portico sends.
_CLINICAL = {"active", "inactive", "resolved"}
_CONDITION_CLINICAL = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
_MEDICATION_STATUS = {
    "active",
    "completed",
    "entered-in-error",
    "intended",
    "stopped",
    "on-hold",
    "unknown",
    "not-taken",
}
_OBSERVATION_STATUS = {
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
}
_ENCOUNTER_STATUS = {
    "planned",
    "arrived",
    "triaged",
    "in-progress",
    "onleave",
    "finished",
    "cancelled",
    "entered-in-error",
    "unknown",
}


def assert_r4_codes(bundle: dict[str, Any]) -> None:
    assert bundle["type"] == "collection"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        if kind == "AllergyIntolerance":
            assert _code(resource["clinicalStatus"]) in _CLINICAL
            assert set(resource.get("category", [])) <= {
                "food",
                "medication",
                "environment",
                "biologic",
            }
            for reaction in resource.get("reaction", []):
                assert reaction.get("severity", "mild") in {"mild", "moderate", "severe"}
        elif kind == "MedicationStatement":
            assert resource["status"] in _MEDICATION_STATUS
        elif kind == "Condition":
            assert _code(resource["clinicalStatus"]) in _CONDITION_CLINICAL
        elif kind == "Encounter":
            assert resource["status"] in _ENCOUNTER_STATUS
            assert resource.get("text", {}).get("status", "additional") in {
                "generated",
                "extensions",
                "additional",
                "empty",
            }
        elif kind == "Observation":
            assert resource["status"] in _OBSERVATION_STATUS
        elif kind == "Patient":
            for telecom in resource.get("telecom", []):
                assert telecom["system"] in {"phone", "fax", "email", "pager", "url", "sms"}


def _code(concept: dict[str, Any]) -> str:
    (coding,) = concept["coding"]
    code: str = coding["code"]
    return code


def resources(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


def only(bundle: dict[str, Any], resource_type: str) -> dict[str, Any]:
    (found,) = resources(bundle, resource_type)
    return found
