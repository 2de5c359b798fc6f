"""Lab results as Observations: number or text, reference range, flag, category, visit link
(pure: no database)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from agent.records.fhir import observation_value, reference_range
from tests.agent.records.sample import bundle_of, only, sample_record, validated

UCUM = "http://unitsofmeasure.org"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def observation(**changes: Any) -> dict[str, Any]:
    record = sample_record()
    lab = replace(record.labs[0], **changes)
    bundle = bundle_of(replace(record, labs=(lab,)))
    validated(bundle)
    return only(bundle, "Observation")


def test_a_decimal_value_is_a_quantity_with_its_ucum_unit() -> None:
    assert observation_value("5.4", "%") == {
        "valueQuantity": {"value": Decimal("5.4"), "unit": "%", "system": UCUM, "code": "%"}
    }


def test_a_whole_number_stays_whole() -> None:
    assert observation_value(" 105 ", "mg/dL") == {
        "valueQuantity": {"value": Decimal("105"), "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}
    }


def test_a_number_without_a_unit_is_a_quantity_without_one() -> None:
    assert observation_value("1.02", None) == {"valueQuantity": {"value": Decimal("1.02")}}


def test_a_unit_not_in_the_table_is_kept_as_written_without_a_code() -> None:
    assert observation_value("12", "mm/hr") == {
        "valueQuantity": {"value": Decimal("12"), "unit": "mm/hr"}
    }


@pytest.mark.parametrize("text", ["Negative", "<0.5", "1:80", "5.4.1", "1e3", "trace"])
def test_anything_but_a_plain_decimal_is_sent_as_text(text: str) -> None:
    assert observation_value(text, "mg/dL") == {"valueString": text}


def test_a_text_result_makes_a_valid_observation() -> None:
    result = observation(value="Negative", unit=None, reference_range="Negative", flag=None)
    assert result["valueString"] == "Negative"
    assert "valueQuantity" not in result


def test_a_low_high_range_has_bounds_in_the_unit_and_its_text() -> None:
    mg = {"unit": "mg/dL", "system": UCUM, "code": "mg/dL"}
    assert reference_range("70-99", "mg/dL") == [
        {
            "low": {"value": Decimal("70"), **mg},
            "high": {"value": Decimal("99"), **mg},
            "text": "70-99",
        }
    ]


def test_a_decimal_range_with_spaces_is_read_too() -> None:
    (item,) = reference_range("4.0 - 5.6", "%")
    assert (item["low"]["value"], item["high"]["value"]) == (Decimal("4.0"), Decimal("5.6"))


@pytest.mark.parametrize("text", ["<200", ">=40", "Negative", "see report"])
def test_other_ranges_keep_only_their_text(text: str) -> None:
    assert reference_range(text, "mg/dL") == [{"text": text}]


@pytest.mark.parametrize("text", [None, "", "  "])
def test_no_range_means_no_reference_range(text: str | None) -> None:
    assert reference_range(text, "mg/dL") == []
    assert "referenceRange" not in observation(reference_range=text)


@pytest.mark.parametrize(
    ("flag", "code"),
    [
        ("normal", "N"),
        ("low", "L"),
        ("high", "H"),
        ("critical_low", "LL"),
        ("critical_high", "HH"),
        ("abnormal", "A"),
    ],
)
def test_the_flag_becomes_the_v3_interpretation_code(flag: str, code: str) -> None:
    (interpretation,) = observation(flag=flag)["interpretation"]
    assert interpretation["coding"][0]["system"] == INTERPRETATION
    assert interpretation["coding"][0]["code"] == code


def test_no_flag_means_no_interpretation() -> None:
    assert "interpretation" not in observation(flag=None)


def test_every_result_is_in_the_laboratory_category_with_its_loinc_code() -> None:
    result = observation()
    assert result["category"] == [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "laboratory",
                    "display": "Laboratory",
                }
            ]
        }
    ]
    assert result["code"] == {
        "text": "Glucose, fasting",
        "coding": [{"system": "http://loinc.org", "code": "2345-7"}],
    }
    assert result["effectiveDateTime"] == "2026-10-01T14:20:00Z"
    assert result["status"] == "final"


def test_a_result_drawn_at_a_visit_refers_to_that_visits_encounter() -> None:
    bundle = bundle_of(sample_record())
    encounter_url = next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter"
    )
    assert only(bundle, "Observation")["encounter"] == {"reference": encounter_url}


def test_a_result_whose_visit_is_not_in_the_record_has_no_encounter() -> None:
    assert "encounter" not in observation(visit_id=999)
