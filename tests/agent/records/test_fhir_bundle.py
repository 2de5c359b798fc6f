"""The download's envelope: a `collection` Bundle whose entries have stable urn:uuid ids and
all point at the one Patient entry (pure: no database)."""

from __future__ import annotations

import uuid
from dataclasses import replace

from agent.records.fhir import practice_namespace
from tests.agent.records.sample import (
    NAMESPACE,
    PATIENT,
    bundle_of,
    only,
    resources,
    sample_record,
    validated,
)


def test_a_whole_record_is_a_valid_r4_collection_bundle() -> None:
    bundle = bundle_of(sample_record())
    parsed = validated(bundle)
    assert parsed.type == "collection"
    assert bundle["timestamp"] == "2026-11-23T12:00:00Z"


def test_entries_come_patient_first_then_each_kind_in_turn() -> None:
    bundle = bundle_of(sample_record())
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == [
        "Patient",
        "AllergyIntolerance",
        "MedicationStatement",
        "Condition",
        "Encounter",
        "Observation",
    ]


def test_full_urls_are_urn_uuids_matching_the_resource_ids() -> None:
    bundle = bundle_of(sample_record())
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(urls)) == len(urls)
    for entry in bundle["entry"]:
        uuid_text = entry["fullUrl"].removeprefix("urn:uuid:")
        assert str(uuid.UUID(uuid_text)) == uuid_text
        assert entry["resource"]["id"] == uuid_text


def test_the_same_record_downloaded_twice_has_the_same_ids() -> None:
    first, second = bundle_of(sample_record()), bundle_of(sample_record())
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]


def test_another_practice_gives_the_same_rows_other_ids() -> None:
    ours = bundle_of(sample_record())
    theirs = bundle_of(sample_record(), practice_namespace("other-clinic"))
    assert not {e["fullUrl"] for e in ours["entry"]} & {e["fullUrl"] for e in theirs["entry"]}


def test_practice_namespace_ignores_the_case_of_the_subdomain() -> None:
    assert practice_namespace("Example-Clinic") == NAMESPACE


def test_every_resource_refers_to_the_patient_entry() -> None:
    bundle = bundle_of(sample_record())
    patient_url = bundle["entry"][0]["fullUrl"]
    for entry in bundle["entry"][1:]:
        resource = entry["resource"]
        reference = resource.get("patient") or resource.get("subject")
        assert reference == {"reference": patient_url}, resource["resourceType"]


def test_a_record_with_nothing_but_the_patient_is_a_one_entry_bundle() -> None:
    record = sample_record(allergies=(), medications=(), problems=(), visits=(), labs=())
    bundle = bundle_of(record)
    validated(bundle)
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient"]


def test_the_patient_holds_name_birth_date_and_contact_details_on_file() -> None:
    patient = only(bundle_of(sample_record()), "Patient")
    assert patient["name"] == [{"use": "official", "family": "Lee", "given": ["Ann"]}]
    assert patient["birthDate"] == "1970-01-01"
    assert patient["telecom"] == [
        {"system": "phone", "value": "(617) 555-0123", "use": "home"},
        {"system": "email", "value": "ann.lee@example.org", "use": "home"},
    ]
    assert patient["address"] == [{"use": "home", "postalCode": "10001"}]


def test_the_patient_has_no_gender_and_no_contact_details_the_office_lacks() -> None:
    bare = replace(PATIENT, email=None, phone="  ", home_zip=None)
    patient = only(bundle_of(sample_record(patient=bare)), "Patient")
    assert "gender" not in patient
    assert "telecom" not in patient
    assert "address" not in patient


def test_blank_notes_from_the_practice_are_left_out_not_sent_empty() -> None:
    record = sample_record()
    blank = replace(record.allergies[0], note="   ")
    bundle = bundle_of(replace(record, allergies=(blank,)))
    validated(bundle)
    assert "note" not in resources(bundle, "AllergyIntolerance")[0]


def test_blank_names_and_values_still_make_a_valid_bundle() -> None:
    record = sample_record()
    bundle = bundle_of(
        replace(
            record,
            allergies=(replace(record.allergies[0], substance=" "),),
            medications=(replace(record.medications[0], name=""),),
            problems=(replace(record.problems[0], description=""),),
            visits=(replace(record.visits[0], reason=" "),),
            labs=(replace(record.labs[0], test_name="", value="  "),),
        )
    )
    validated(bundle)
    assert only(bundle, "AllergyIntolerance")["code"]["text"] == "Unnamed substance"
    assert only(bundle, "MedicationStatement")["medicationCodeableConcept"]["text"]
    assert only(bundle, "Condition")["code"]["text"]
    assert "reasonCode" not in only(bundle, "Encounter")
    observation = only(bundle, "Observation")
    assert observation["code"]["text"] == "Unnamed test"
    assert "valueQuantity" not in observation
    assert "valueString" not in observation
