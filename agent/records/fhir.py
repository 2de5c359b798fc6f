"""A patient's clinical record as a FHIR R4 `Bundle` (type `collection`): pure functions.

The bundle is plain data (dicts, lists, strings, and numbers as `Decimal` so that a lab's
digits survive; agent/records/fhir_json.py writes it); nothing here touches the database or
the network, and nothing at run time needs a FHIR library (the tests validate the output
with `fhir.resources.R4B`, see docs/decisions.md). Every entry has a `urn:uuid:` fullUrl derived
from the practice and the row id, so downloading the same record twice gives the same ids and
a receiving system can recognise entries it has already imported. Every resource refers to the
Patient entry.

Longer than ~400 lines on purpose: one builder per resource type and the small pieces they
share, so that the bundle's conventions (ids, blank text, instants in UTC) have one home.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from html import escape
from typing import Any

from agent.records.units import UCUM, lab_unit
from agent.store.base import (
    AllergyRow,
    ClinicalRecord,
    ImmunizationRow,
    LabRow,
    MedicationRow,
    PatientRow,
    ProblemRow,
    VisitRow,
)

# Fixed once: changing it would change every id a patient has ever downloaded.
PORTICO_NAMESPACE = uuid.UUID("2f6c1f8e-6a0e-4c55-9a43-5d1f0c3b7e21")

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
CVX = "http://hl7.org/fhir/sid/cvx"
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"
V2 = f"{TERMINOLOGY}/v2"

_ALLERGY_CODE_SYSTEMS = {"rxnorm": RXNORM, "snomed": SNOMED}
_MEDICATION_STATUS = {"on_hold": "on-hold"}  # the others are spelled as in FHIR already
_INTERPRETATION = {
    "normal": ("N", "Normal"),
    "low": ("L", "Low"),
    "high": ("H", "High"),
    "critical_low": ("LL", "Critical low"),
    "critical_high": ("HH", "Critical high"),
    "abnormal": ("A", "Abnormal"),
}
# A lab value is sent as a number only when it is exactly a decimal: "<0.5" or "1:80" stay text.
# Numbers travel as Decimal, so no digit is lost or added (agent/records/fhir_json.py).
_DECIMAL = re.compile(r"[+-]?\d+(?:\.\d+)?")
_RANGE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*[-\u2013]\s*(\d+(?:\.\d+)?)\s*")


def practice_namespace(subdomain: str) -> uuid.UUID:
    """The namespace of one practice's resource ids: two practices never share an id."""
    return uuid.uuid5(PORTICO_NAMESPACE, subdomain.casefold())


def patient_identifier_system(subdomain: str) -> str:
    """The namespace of the practice's patient ids (docs/decisions.md): the subdomain is the
    practice's one stable name in Portico, and a URN stays valid when the portal moves."""
    return f"urn:portico:{subdomain.casefold()}:patient"


def resource_id(namespace: uuid.UUID, resource_type: str, row_id: int) -> str:
    return str(uuid.uuid5(namespace, f"{resource_type}/{row_id}"))


def health_record_bundle(
    record: ClinicalRecord, *, namespace: uuid.UUID, patient_system: str, timestamp: datetime
) -> dict[str, Any]:
    """The whole record as one Bundle; `timestamp` (UTC) says when it was assembled and
    `patient_system` is patient_identifier_system(subdomain)."""
    ids = ResourceIds(namespace)
    patient = {"reference": ids.url("Patient", record.patient.id)}
    visits = {v.id: {"reference": ids.url("Encounter", v.id)} for v in record.visits}
    resources = [
        patient_resource(record.patient, ids, patient_system),
        *(allergy_resource(a, ids, patient) for a in record.allergies),
        *(medication_resource(m, ids, patient) for m in record.medications),
        *(condition_resource(p, ids, patient) for p in record.problems),
        *(encounter_resource(v, ids, patient) for v in record.visits),
        *(
            observation_resource(lab, ids, patient, visits.get(lab.visit_id or 0))
            for lab in record.labs
        ),
        *(immunization_resource(i, ids, patient) for i in record.immunizations),
    ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _instant(timestamp),
        # A urn:uuid fullUrl and the resource's id are the same UUID.
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


class ResourceIds:
    """Stable ids for one practice: the same row always gets the same UUID."""

    def __init__(self, namespace: uuid.UUID) -> None:
        self.namespace = namespace

    def id(self, resource_type: str, row_id: int) -> str:
        return resource_id(self.namespace, resource_type, row_id)

    def url(self, resource_type: str, row_id: int) -> str:
        return f"urn:uuid:{self.id(resource_type, row_id)}"


# -- resources ----------------------------------------------------------------------------------


def patient_resource(patient: PatientRow, ids: ResourceIds, system: str) -> dict[str, Any]:
    # Only what the practice's patients table holds; it has no sex or gender column, so the
    # resource has no `gender` rather than a guessed one. The identifier is the practice's own
    # patient id, so a receiving system can match the download to the chart it came from.
    first, last = _text(patient.first_name), _text(patient.last_name)
    name: dict[str, Any] = {"use": "official"}
    if last:
        name["family"] = last
    if first:
        name["given"] = [first]
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": ids.id("Patient", patient.id),
        "identifier": [
            {
                "use": "usual",
                "type": _concept(f"{V2}-0203", "MR", "Medical record number"),
                "system": system,
                "value": str(patient.id),
            }
        ],
        "name": [name],
        "birthDate": patient.date_of_birth.isoformat(),
    }
    telecom = [
        {"system": system, "value": value, "use": "home"}
        for system, value in (("phone", _text(patient.phone)), ("email", _text(patient.email)))
        if value
    ]
    if telecom:
        resource["telecom"] = telecom
    if zip_code := _text(patient.home_zip):
        resource["address"] = [{"use": "home", "postalCode": zip_code}]
    return resource


def allergy_resource(
    allergy: AllergyRow, ids: ResourceIds, patient: dict[str, str]
) -> dict[str, Any]:
    system = _ALLERGY_CODE_SYSTEMS.get(allergy.code_system or "")
    code = _named_concept(allergy.substance, "Unnamed substance", system, allergy.code)
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": ids.id("AllergyIntolerance", allergy.id),
        "clinicalStatus": _concept(
            f"{TERMINOLOGY}/allergyintolerance-clinical",
            allergy.status,
            allergy.status.capitalize(),
        ),
        "code": code,
        "patient": patient,
    }
    if allergy.category:
        resource["category"] = [allergy.category]
    if allergy.noted_on:
        resource["recordedDate"] = allergy.noted_on.isoformat()
    if reaction := _text(allergy.reaction):
        item: dict[str, Any] = {"manifestation": [{"text": reaction}]}
        if allergy.severity:
            item["severity"] = allergy.severity
        resource["reaction"] = [item]
    return _with_note(resource, allergy.note)


def medication_resource(
    medication: MedicationRow, ids: ResourceIds, patient: dict[str, str]
) -> dict[str, Any]:
    concept = _named_concept(medication.name, "Unnamed medicine", RXNORM, medication.rxnorm_code)
    # R4's MedicationStatement names the drug with medicationCodeableConcept (R5 moved it to
    # `medication`), and its status codes are R4's.
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": ids.id("MedicationStatement", medication.id),
        "status": _MEDICATION_STATUS.get(medication.status, medication.status),
        "medicationCodeableConcept": concept,
        "subject": patient,
    }
    if period := _period(medication.started_on, medication.ended_on):
        resource["effectivePeriod"] = period
    if prescriber := _text(medication.prescriber):
        resource["informationSource"] = {"display": prescriber}
    if dosage := _text(medication.dosage):
        resource["dosage"] = [{"text": dosage}]
    return _with_note(resource, medication.note)


def condition_resource(
    problem: ProblemRow, ids: ResourceIds, patient: dict[str, str]
) -> dict[str, Any]:
    coding = [
        {"system": system, "code": code}
        for system, code in (
            (ICD10_CM, _text(problem.icd10_code)),
            (SNOMED, _text(problem.snomed_code)),
        )
        if code
    ]
    code: dict[str, Any] = {"text": _text(problem.description) or "Unnamed problem"}
    if coding:
        code["coding"] = coding
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": ids.id("Condition", problem.id),
        "clinicalStatus": _concept(
            f"{TERMINOLOGY}/condition-clinical", problem.status, problem.status.capitalize()
        ),
        "category": [
            _concept(f"{TERMINOLOGY}/condition-category", "problem-list-item", "Problem List Item")
        ],
        "code": code,
        "subject": patient,
    }
    if problem.onset_on:
        resource["onsetDateTime"] = problem.onset_on.isoformat()
    # FHIR invariant con-4: an abatement date only on a problem that is no longer active.
    if problem.resolved_on and problem.status in ("inactive", "remission", "resolved"):
        resource["abatementDateTime"] = problem.resolved_on.isoformat()
    return _with_note(resource, problem.note)


def encounter_resource(
    visit: VisitRow, ids: ResourceIds, patient: dict[str, str]
) -> dict[str, Any]:
    period = {"start": _instant(visit.started_at)}
    if visit.ended_at:
        period["end"] = _instant(visit.ended_at)
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": ids.id("Encounter", visit.id),
        "status": "finished",
        # R4's Encounter.class is a single Coding (R5 made it a list of CodeableConcepts).
        "class": {"system": f"{TERMINOLOGY}/v3-ActCode", "code": "AMB", "display": "ambulatory"},
        "subject": patient,
        "period": period,
    }
    if reason := _text(visit.reason):
        resource["reasonCode"] = [{"text": reason}]
    if provider := _text(visit.provider_name):
        resource["participant"] = [{"individual": {"display": provider}}]
    # Encounter has no note element: the provider's visit summary travels as the resource's
    # narrative, marked "additional" because it holds more than the structured fields.
    if paragraphs := _paragraphs(visit.summary):
        resource["text"] = {"status": "additional", "div": _xhtml(paragraphs)}
    return resource


def observation_resource(
    lab: LabRow, ids: ResourceIds, patient: dict[str, str], visit: dict[str, str] | None = None
) -> dict[str, Any]:
    code = _named_concept(lab.test_name, "Unnamed test", LOINC, lab.loinc_code)
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ids.id("Observation", lab.id),
        "status": lab.status,
        "category": [_concept(f"{TERMINOLOGY}/observation-category", "laboratory", "Laboratory")],
        "code": code,
        "subject": patient,
    }
    if visit is not None:
        resource["encounter"] = visit
    resource["effectiveDateTime"] = _instant(lab.collected_at)
    resource.update(observation_value(lab.value, lab.unit))
    if lab.flag in _INTERPRETATION:
        flag_code, flag_display = _INTERPRETATION[lab.flag]
        resource["interpretation"] = [
            _concept(f"{TERMINOLOGY}/v3-ObservationInterpretation", flag_code, flag_display)
        ]
    if ranges := reference_range(lab.reference_range, lab.unit):
        resource["referenceRange"] = ranges
    return _with_note(resource, lab.note)


def immunization_resource(
    immunization: ImmunizationRow, ids: ResourceIds, patient: dict[str, str]
) -> dict[str, Any]:
    code = _named_concept(immunization.vaccine, "Unnamed vaccine", CVX, immunization.cvx_code)
    resource: dict[str, Any] = {
        "resourceType": "Immunization",
        "id": ids.id("Immunization", immunization.id),
        "status": immunization.status,
        "vaccineCode": code,
        "patient": patient,
    }
    # R4 requires an occurrence; a row without a date still says so rather than inventing one.
    if immunization.administered_at is not None:
        resource["occurrenceDateTime"] = _instant(immunization.administered_at)
    else:
        resource["occurrenceString"] = "Date not recorded"
    if manufacturer := _text(immunization.manufacturer):
        resource["manufacturer"] = {"display": manufacturer}
    if lot := _text(immunization.lot_number):
        resource["lotNumber"] = lot
    if immunization.expires_on:
        resource["expirationDate"] = immunization.expires_on.isoformat()
    return _with_note(resource, immunization.note)


def observation_value(value: str, unit: str | None) -> dict[str, Any]:
    """valueQuantity for a plain decimal, with its UCUM code when the unit is one of
    agent/records/units.py's (else the unit as written, without a code); valueString for
    anything else ("<0.5", "Negative"), and nothing for a blank value (FHIR strings may not be
    empty). The number keeps the digits the lab wrote: "5.40" goes as 5.40 (fhir_json.py)."""
    text = value.strip()
    if not text:
        return {}
    if not _DECIMAL.fullmatch(text):
        return {"valueString": text}
    return {"valueQuantity": quantity(Decimal(text), unit)}


def quantity(number: Decimal, unit: str | None) -> dict[str, Any]:
    """A Quantity in the lab's unit: `unit` for people, `system`/`code` for machines."""
    result: dict[str, Any] = {"value": number}
    known = lab_unit(unit)
    if known is not None:
        result.update(unit=known.display, system=UCUM, code=known.code)
    elif unit_text := _text(unit):
        result["unit"] = unit_text
    return result


def reference_range(text: str | None, unit: str | None) -> list[dict[str, Any]]:
    """The lab's reference range: always its text, plus low/high when it reads "70-99".

    Forms like "<200" keep only their text: FHIR's low and high are inclusive, and turning a
    strict bound into an inclusive one would change what the laboratory said."""
    range_text = _text(text)
    if not range_text:
        return []
    item: dict[str, Any] = {}
    if match := _RANGE.fullmatch(range_text):
        item["low"] = quantity(Decimal(match[1]), unit)
        item["high"] = quantity(Decimal(match[2]), unit)
    item["text"] = range_text
    return [item]


# -- small pieces ----------------------------------------------------------------------------


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _with_note(resource: dict[str, Any], note: str | None) -> dict[str, Any]:
    if text := _text(note):
        resource["note"] = [{"text": text}]
    return resource


def _named_concept(
    name: str | None, unnamed: str, system: str | None, code: str | None
) -> dict[str, Any]:
    """A CodeableConcept for what the practice calls `name` (`unnamed` when it has no name),
    coded as `code` of `system` when it has both."""
    concept: dict[str, Any] = {"text": _text(name) or unnamed}
    if system and (coded := _text(code)):
        concept["coding"] = [{"system": system, "code": coded}]
    return concept


def _text(value: str | None) -> str | None:
    """FHIR strings may not be empty: blank text from the practice counts as absent."""
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


def _instant(moment: datetime) -> str:
    """A stored moment (naive means UTC) as a FHIR dateTime in UTC with a Z."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _period(start: date | None, end: date | None) -> dict[str, str]:
    period = {}
    if start:
        period["start"] = start.isoformat()
    if end:
        period["end"] = end.isoformat()
    return period


# XML 1.0 forbids most control characters; a stray one typed into the practice system must
# not make the narrative unparseable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _paragraphs(text: str | None) -> list[str]:
    """One paragraph per non-blank line, so the summary keeps the provider's line breaks."""
    if not text:
        return []
    lines = (line.strip() for line in _NOT_XML.sub("", text).splitlines())
    return [line for line in lines if line]


def _xhtml(paragraphs: Iterable[str]) -> str:
    body = "".join(f"<p>{escape(p, quote=False)}</p>" for p in paragraphs)
    return f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'
