"""A lab value's digits reach the FHIR download as the laboratory wrote them: every plain
decimal is a number, and the file spells it digit for digit (FHIR: a decimal's precision is
significant, so "5.40" is not 5.4). Pure: no database."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from agent.records.fhir import observation_value, reference_range
from agent.records.fhir_json import bundle_json
from tests.agent.records.sample import bundle_of, only, sample_record, validated

MMOL = {"unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}


def observation(**changes: Any) -> dict[str, Any]:
    """The bundle's one Observation, the sample's first lab changed; checked against R4B."""
    record = sample_record()
    lab = replace(record.labs[0], **changes)
    bundle = bundle_of(replace(record, labs=(lab,)))
    validated(bundle)
    return only(bundle, "Observation")


def test_a_trailing_zero_is_a_number_with_that_zero() -> None:
    assert observation_value("5.40", "mmol/L") == {
        "valueQuantity": {"value": Decimal("5.40"), **MMOL}
    }
    assert bundle_json({"value": Decimal("5.40")}) == '{\n  "value": 5.40\n}'


def test_a_whole_number_is_written_without_a_point() -> None:
    (value,) = observation_value("140", "mmol/L")["valueQuantity"]["value"].as_tuple()[1:2]
    assert value == (1, 4, 0)
    assert bundle_json([Decimal("140")]) == "[\n  140\n]"


def test_a_leading_plus_or_zeros_are_not_precision() -> None:
    assert str(observation_value("+5.4", "mmol/L")["valueQuantity"]["value"]) == "5.4"
    assert str(observation_value("007", "mmol/L")["valueQuantity"]["value"]) == "7"


@pytest.mark.parametrize(
    ("text", "written"),
    [("1.10", "1.10"), ("0.000000000000000000001", "1E-21"), ("-0", "-0"), ("120.0", "120.0")],
)
def test_the_file_spells_the_number_as_valid_json_with_its_digits(text: str, written: str) -> None:
    quantity = observation_value(text, "U/L")["valueQuantity"]
    out = bundle_json(quantity)
    assert f'"value": {written},' in out
    assert json.loads(out, parse_float=Decimal)["value"] == Decimal(text)


def test_the_bundle_carries_the_value_as_written() -> None:
    result = observation(value="5.40", unit="mmol/L")
    assert result["valueQuantity"] == {"value": Decimal("5.40"), **MMOL}
    assert "valueString" not in result


def test_range_bounds_keep_their_digits_too() -> None:
    assert reference_range("3.50-5.00", "mmol/L") == [
        {
            "low": {"value": Decimal("3.50"), **MMOL},
            "high": {"value": Decimal("5.00"), **MMOL},
            "text": "3.50-5.00",
        }
    ]


def test_the_writer_matches_the_standard_encoder_for_everything_else() -> None:
    value = {"a": [1, 'é\n"x"', None, True, 2.5, {}, []], "b": {"c": "d"}}
    assert bundle_json(value) == json.dumps(value, ensure_ascii=False, indent=2)
