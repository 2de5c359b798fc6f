"""The FHIR download built from OpenEMR's clinical tables: a valid R4 Bundle (checked with the
R4-series models of `fhir.resources.R4B`, as tests/agent/records does) holding every kind of
record, immunizations included, in both sql_modes."""

from __future__ import annotations

from typing import Any

from agent.records.fhir import (
    CVX,
    health_record_bundle,
    patient_identifier_system,
    practice_namespace,
)
from tests.agent.openemr.chart import ADA, NOW, read, write_charts
from tests.agent.records.sample import only, resources, validated
from tests.support.openemr import OpenEMRDatabase

# R4's immunization-status value set (a required binding).
IMMUNIZATION_STATUS = {"completed", "entered-in-error", "not-done"}


def ada_bundle(db: OpenEMRDatabase) -> dict[str, Any]:
    write_charts(db)
    record = read(db, ADA)
    assert record is not None
    return health_record_bundle(
        record,
        namespace=practice_namespace("openemr-clinic"),
        patient_system=patient_identifier_system("openemr-clinic"),
        timestamp=NOW,
    )


def test_the_bundle_of_an_openemr_chart_is_valid_r4_with_every_kind_of_record(
    openemr_db: OpenEMRDatabase,
) -> None:
    bundle = ada_bundle(openemr_db)
    parsed = validated(bundle)
    counts: dict[str, int] = {}
    for entry in parsed.entry or []:
        kind = entry.resource.get_resource_type()
        counts[kind] = counts.get(kind, 0) + 1
    assert counts == {
        "Patient": 1,
        "AllergyIntolerance": 4,
        "MedicationStatement": 6,
        "Condition": 6,
        "Encounter": 2,
        "Observation": 4,
        "Immunization": 3,
    }
    for immunization in resources(bundle, "Immunization"):
        assert immunization["status"] in IMMUNIZATION_STATUS
    assert len({e["fullUrl"] for e in bundle["entry"]}) == len(bundle["entry"])


def test_immunizations_carry_their_cvx_code_date_and_lot(openemr_db: OpenEMRDatabase) -> None:
    bundle = ada_bundle(openemr_db)
    patient = {"reference": f"urn:uuid:{only(bundle, 'Patient')['id']}"}
    flu, refused, covid = resources(bundle, "Immunization")
    assert {k: v for k, v in flu.items() if k != "id"} == {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {
            "text": "Influenza, seasonal, injectable",
            "coding": [{"system": CVX, "code": "141"}],
        },
        "patient": patient,
        "occurrenceDateTime": "2025-10-01T14:00:00Z",
        "manufacturer": {"display": "Acme Vaccines"},
        "lotNumber": "FL-2025",
        "expirationDate": "2026-06-30",
        "note": [{"text": "Left arm"}],
    }
    assert refused["status"] == "not-done"
    assert refused["vaccineCode"] == {
        "text": "Unnamed vaccine",
        "coding": [{"system": CVX, "code": "33"}],
    }
    assert "lotNumber" not in refused
    assert covid["vaccineCode"]["text"] == "COVID-19, mRNA, Pfizer"
    assert (covid["status"], covid["lotNumber"]) == ("completed", "L123")
    assert "manufacturer" not in covid


def test_lab_units_and_ranges_keep_what_cannot_be_mapped(openemr_db: OpenEMRDatabase) -> None:
    bundle = ada_bundle(openemr_db)
    by_name = {o["code"]["text"]: o for o in resources(bundle, "Observation")}
    cholesterol = by_name["Cholesterol, total"]
    assert cholesterol["status"] == "preliminary"
    assert cholesterol["referenceRange"] == [{"text": "<200"}]
    a1c = by_name["Hemoglobin A1c"]
    (sinus,) = [
        e
        for e in resources(bundle, "Encounter")
        if e["reasonCode"] == [{"text": "Sinus congestion"}]
    ]
    assert a1c["encounter"] == {"reference": f"urn:uuid:{sinus['id']}"}
    assert a1c["referenceRange"][0]["low"]["code"] == "%"
    assert by_name["Urine color"]["valueString"] == "Yellow"
    assert "encounter" not in by_name["Hemoglobin"]
