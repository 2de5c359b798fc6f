"""Issue 11: "FHIR download: lab values are strings; make them `valueQuantity` with UCUM units
where the unit is known, give the Patient an identifier, and show friendly units on the records
page."

The download over a real link, for lab rows planted as a practice system writes them. The
expected quantities are written here from the rules (UCUM code and words per unit, the digits
as the lab wrote them), not taken from the code under test.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from agent.db.pool import DatabaseSettings
from tests.agent.records.sample import assert_no_empty_values, assert_r4_codes, resources
from tests.support.database import execute
from tests.support.practice import running_practice

PATIENT = 3
UCUM = "http://unitsofmeasure.org"

# (test name, value as the lab wrote it, unit as written, reference range as written)
LABS = [
    ("Potassium", "5.40", "mmol/L", "3.50-5.10"),
    ("Creatinine", "0.90", "mg/dL", "0.6-1.3"),
    ("Hemoglobin A1c", "6.0", "%", "4.0-5.6"),
    ("White blood cell count", "7.0", "10*3/uL", "4.5-11.0"),
    ("TSH", "2.10", "m[IU]/L", "0.4-4.0"),
    ("Systolic blood pressure", "128", "mmHg", None),
    ("Body temperature", "36.8", "Cel", None),
    ("Heart rate", "72", "/min", None),
    ("Platelets", "260", "K/uL", "150-450"),
    ("Sediment rate", "12", "mm/hr", "<20"),  # not in the table: unit only, no code
    ("Ketones", "<0.5", "mmol/L", None),  # not a number: text
    ("Specific gravity", "1.020", None, None),  # no unit at all
]

# What each planted row must become: value, and the unit's words and UCUM code where known.
EXPECTED = {
    "Potassium": {"value": Decimal("5.40"), "unit": "mmol/L", "system": UCUM, "code": "mmol/L"},
    "Creatinine": {"value": Decimal("0.90"), "unit": "mg/dL", "system": UCUM, "code": "mg/dL"},
    "Hemoglobin A1c": {"value": Decimal("6.0"), "unit": "%", "system": UCUM, "code": "%"},
    "White blood cell count": {
        "value": Decimal("7.0"),
        "unit": "\u00d710\u00b3/\u00b5L",
        "system": UCUM,
        "code": "10*3/uL",
    },
    "TSH": {"value": Decimal("2.10"), "unit": "mIU/L", "system": UCUM, "code": "m[IU]/L"},
    "Systolic blood pressure": {
        "value": Decimal("128"),
        "unit": "mmHg",
        "system": UCUM,
        "code": "mm[Hg]",
    },
    "Body temperature": {
        "value": Decimal("36.8"),
        "unit": "\u00b0C",
        "system": UCUM,
        "code": "Cel",
    },
    "Heart rate": {"value": Decimal("72"), "unit": "/min", "system": UCUM, "code": "/min"},
    "Platelets": {
        "value": Decimal("260"),
        "unit": "\u00d710\u00b3/\u00b5L",
        "system": UCUM,
        "code": "10*3/uL",
    },
    "Sediment rate": {"value": Decimal("12"), "unit": "mm/hr"},
    "Specific gravity": {"value": Decimal("1.020")},
}


def plant_labs(settings: DatabaseSettings) -> None:
    for number, (test, value, unit, reference) in enumerate(LABS):
        execute(
            settings,
            "INSERT INTO lab_results (patient_id, test_name, value, unit, reference_range, flag,"
            " status, collected_at) VALUES (%s, %s, %s, %s, %s, 'normal', 'final', %s)",
            (PATIENT, test, value, unit, reference, datetime(2026, 10, 1, 14, number)),
        )


async def download_text(practice_db: DatabaseSettings, link_keys: Path) -> str:
    async with running_practice(practice_db, link_keys) as practice:
        answer = await practice.call("records.bundle", patient=PATIENT)
    if "bundle_json" in answer:
        text: str = answer["bundle_json"]
        return text
    return json.dumps(answer["bundle"])  # the shape before this fix


def parsed(text: str) -> dict[str, Any]:
    """The file as a receiving system reads it: numbers as exact decimals, checked by R4B."""
    bundle: dict[str, Any] = json.loads(text, parse_float=Decimal)
    Bundle.model_validate(bundle)
    assert_r4_codes(bundle)
    assert_no_empty_values(bundle)
    return bundle


async def planted_observations(
    practice_db: DatabaseSettings, link_keys: Path
) -> tuple[str, dict[str, dict[str, Any]]]:
    """The downloaded file and its Observations by test name, after planting LABS."""
    plant_labs(practice_db)
    text = await download_text(practice_db, link_keys)
    return text, {o["code"]["text"]: o for o in resources(parsed(text), "Observation")}


async def test_lab_values_are_quantities_with_ucum_codes_and_the_labs_digits(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    text, observations = await planted_observations(practice_db, link_keys)

    quantities = {
        name: o["valueQuantity"] for name, o in observations.items() if "valueQuantity" in o
    }
    assert quantities == EXPECTED
    assert observations["Ketones"]["valueString"] == "<0.5"
    assert "valueQuantity" not in observations["Ketones"]
    # The digits in the file itself, not only after parsing: 5.40 is not 5.4.
    assert '"value": 5.40,' in text and '"value": 0.90,' in text and '"value": 1.020' in text


async def test_reference_ranges_carry_the_same_unit_and_their_stated_digits(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    _, observations = await planted_observations(practice_db, link_keys)

    (potassium,) = observations["Potassium"]["referenceRange"]
    mmol = {"unit": "mmol/L", "system": UCUM, "code": "mmol/L"}
    assert potassium == {
        "low": {"value": Decimal("3.50"), **mmol},
        "high": {"value": Decimal("5.10"), **mmol},
        "text": "3.50-5.10",
    }
    (sediment,) = observations["Sediment rate"]["referenceRange"]
    assert sediment == {"text": "<20"}


async def test_the_patient_has_the_practices_patient_id_as_identifier(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    (patient,) = resources(parsed(await download_text(practice_db, link_keys)), "Patient")
    assert patient["identifier"] == [
        {
            "use": "usual",
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "code": "MR",
                        "display": "Medical record number",
                    }
                ]
            },
            # The small practice's subdomain (tests/support/practice.py).
            "system": "urn:portico:example-clinic:patient",
            "value": str(PATIENT),
        }
    ]


async def test_the_summary_gives_each_lab_unit_in_words(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    plant_labs(practice_db)
    async with running_practice(practice_db, link_keys) as practice:
        labs = (await practice.call("records.summary", patient=PATIENT))["labs"]
    shown = {lab["test"]: (lab["unit"], lab.get("unit_display")) for lab in labs}
    assert shown["White blood cell count"] == ("10*3/uL", "\u00d710\u00b3/\u00b5L")
    assert shown["Systolic blood pressure"] == ("mmHg", "mmHg")
    assert shown["Body temperature"] == ("Cel", "\u00b0C")
    assert shown["Sediment rate"] == ("mm/hr", "mm/hr")
    assert shown["Specific gravity"] == (None, None)
