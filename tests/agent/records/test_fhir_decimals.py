"""A lab value's digits reach the FHIR bundle as the laboratory wrote them: a decimal is a
number only when the number's JSON text is that decimal, otherwise it is text with its unit
(FHIR: a decimal's precision is significant, so "5.40" is not 5.4). Pure: no database."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from agent.records.fhir import observation_value, reference_range
from tests.agent.records.sample import bundle_of, only, sample_record, validated


def observation(**changes: Any) -> dict[str, Any]:
    """The bundle's one Observation, the sample's first lab changed; checked against R4B."""
    record = sample_record()
    lab = replace(record.labs[0], **changes)
    bundle = bundle_of(replace(record, labs=(lab,)))
    validated(bundle)
    return only(bundle, "Observation")


def test_trailing_zero_is_kept_as_text_with_the_unit() -> None:
    assert observation_value("5.40", "mmol/L") == {"valueString": "5.40 mmol/L"}


def test_trailing_zero_without_a_unit_is_the_bare_text() -> None:
    assert observation_value("5.40", None) == {"valueString": "5.40"}


def test_a_decimal_a_number_says_exactly_stays_a_quantity() -> None:
    assert observation_value("5.4", "mmol/L") == {"valueQuantity": {"value": 5.4, "unit": "mmol/L"}}


def test_a_whole_number_stays_an_integer_quantity() -> None:
    answer = observation_value("140", "mmol/L")
    assert answer == {"valueQuantity": {"value": 140, "unit": "mmol/L"}}
    assert json.dumps(answer["valueQuantity"]["value"]) == "140"


def test_a_leading_plus_is_not_precision() -> None:
    assert observation_value("+5.4", "mmol/L") == {
        "valueQuantity": {"value": 5.4, "unit": "mmol/L"}
    }


@pytest.mark.parametrize("text", ["007", "1.10", "0.000000000000000000001", "-0"])
def test_digits_a_number_would_drop_are_kept_as_text(text: str) -> None:
    assert observation_value(text, "U/L") == {"valueString": f"{text} U/L"}


def test_the_bundle_carries_the_value_as_written() -> None:
    result = observation(value="5.40", unit="mmol/L")
    assert result["valueString"] == "5.40 mmol/L"
    assert "valueQuantity" not in result


def test_a_range_bound_a_number_cannot_say_keeps_only_the_text() -> None:
    assert reference_range("3.50-5.00", "mmol/L") == [{"text": "3.50-5.00"}]


def test_a_range_of_exact_bounds_still_has_low_and_high() -> None:
    (item,) = reference_range("3.5-5.1", "mmol/L")
    assert (item["low"]["value"], item["high"]["value"]) == (3.5, 5.1)
