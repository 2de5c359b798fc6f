"""Allergies, medications, problems and visits as R4 resources (pure: no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from tests.agent.records.sample import bundle_of, only, sample_record, validated

TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"


def resource_for(kind: str, resource_type: str, **changes: Any) -> dict[str, Any]:
    record = sample_record()
    row = replace(getattr(record, kind)[0], **changes)
    bundle = bundle_of(replace(record, **{kind: (row,)}))
    validated(bundle)
    return only(bundle, resource_type)


def allergy(**changes: Any) -> dict[str, Any]:
    return resource_for("allergies", "AllergyIntolerance", **changes)


def medication(**changes: Any) -> dict[str, Any]:
    return resource_for("medications", "MedicationStatement", **changes)


def condition(**changes: Any) -> dict[str, Any]:
    return resource_for("problems", "Condition", **changes)


def encounter(**changes: Any) -> dict[str, Any]:
    return resource_for("visits", "Encounter", **changes)


def test_an_allergy_has_its_substance_code_status_reaction_and_note() -> None:
    found = allergy()
    assert found["code"] == {
        "text": "Penicillin",
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7980"}],
    }
    assert found["clinicalStatus"]["coding"][0] == {
        "system": f"{TERMINOLOGY}/allergyintolerance-clinical",
        "code": "active",
        "display": "Active",
    }
    assert found["category"] == ["medication"]
    assert found["reaction"] == [{"manifestation": [{"text": "Hives"}], "severity": "moderate"}]
    assert found["recordedDate"] == "2020-03-14"
    assert found["note"] == [{"text": "Noted at the first visit"}]


def test_a_food_allergy_is_coded_in_snomed() -> None:
    found = allergy(code_system="snomed", code="256349002", category="food")
    assert found["code"]["coding"] == [{"system": "http://snomed.info/sct", "code": "256349002"}]


def test_an_allergy_without_a_known_reaction_has_no_reaction_element() -> None:
    found = allergy(reaction=None, severity=None, code_system=None, code=None, category=None)
    assert "reaction" not in found
    assert "category" not in found
    assert found["code"] == {"text": "Penicillin"}


def test_a_resolved_allergy_says_so() -> None:
    assert allergy(status="resolved")["clinicalStatus"]["coding"][0]["code"] == "resolved"


def test_a_medication_uses_r4s_medication_codeable_concept() -> None:
    found = medication()
    assert "medication" not in found  # R5's element name
    assert found["medicationCodeableConcept"] == {
        "text": "Lisinopril 10 mg tablet",
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "29046"}],
    }
    assert found["status"] == "active"
    assert found["effectivePeriod"] == {"start": "2024-01-10"}
    assert found["dosage"] == [{"text": "1 tablet by mouth once daily"}]
    assert found["informationSource"] == {"display": "Dr. Adams"}


@pytest.mark.parametrize(
    ("stored", "sent"),
    [
        ("active", "active"),
        ("completed", "completed"),
        ("stopped", "stopped"),
        ("on_hold", "on-hold"),
    ],
)
def test_medication_statuses_are_r4_codes(stored: str, sent: str) -> None:
    assert medication(status=stored)["status"] == sent


def test_a_finished_course_has_both_ends_of_its_period() -> None:
    found = medication(status="completed", ended_on=date(2024, 2, 1))
    assert found["effectivePeriod"] == {"start": "2024-01-10", "end": "2024-02-01"}


def test_a_problem_is_a_problem_list_condition_with_icd10_and_snomed_codes() -> None:
    found = condition()
    assert found["category"][0]["coding"][0]["code"] == "problem-list-item"
    assert found["code"] == {
        "text": "High blood pressure",
        "coding": [
            {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10"},
            {"system": "http://snomed.info/sct", "code": "38341003"},
        ],
    }
    assert found["clinicalStatus"]["coding"][0]["system"] == f"{TERMINOLOGY}/condition-clinical"
    assert found["onsetDateTime"] == "2024-01-10"
    assert "abatementDateTime" not in found


def test_a_resolved_problem_has_its_resolution_date() -> None:
    found = condition(status="resolved", resolved_on=date(2024, 5, 1))
    assert found["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert found["abatementDateTime"] == "2024-05-01"


def test_an_active_problem_never_carries_a_resolution_date() -> None:
    # FHIR's con-4: abatement only when no longer active, whatever the practice stored.
    assert "abatementDateTime" not in condition(status="active", resolved_on=date(2024, 5, 1))


def test_a_visit_is_a_finished_ambulatory_encounter_with_r4s_coding_class() -> None:
    found = encounter()
    assert found["status"] == "finished"
    assert found["class"] == {
        "system": f"{TERMINOLOGY}/v3-ActCode",
        "code": "AMB",
        "display": "ambulatory",
    }
    assert found["period"] == {"start": "2026-10-01T14:00:00Z", "end": "2026-10-01T14:30:00Z"}
    assert found["reasonCode"] == [{"text": "Sinus congestion"}]
    assert found["participant"] == [{"individual": {"display": "Dr. Adams"}}]


def test_the_visit_summary_is_the_encounters_narrative_one_paragraph_per_line() -> None:
    assert encounter()["text"] == {
        "status": "additional",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Started amoxicillin.</p>'
        "<p>Call if not better in a week.</p></div>",
    }


def test_markup_in_a_visit_summary_is_escaped_not_rendered() -> None:
    div = encounter(summary="<script>alert(1)</script> & <b>more</b>")["text"]["div"]
    assert "<script>" not in div
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;more&lt;/b&gt;" in div


def test_control_characters_in_a_summary_are_dropped_from_the_narrative() -> None:
    div = encounter(summary="Rest\x00 and \x1bfluids")["text"]["div"]
    assert "<p>Rest and fluids</p>" in div


def test_a_visit_without_summary_provider_or_end_has_none_of_them() -> None:
    found = encounter(summary="  ", provider_id=None, provider_name=None, ended_at=None)
    assert "text" not in found
    assert "participant" not in found
    assert found["period"] == {"start": "2026-10-01T14:00:00Z"}
