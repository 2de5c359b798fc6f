"""SQL for the records page, run inside a worker-thread transaction (see agent/db/pool.py).

Every query is bound to one patient id, the session's: there is no way to ask these functions
for "a row" without saying whose. Rows become the frozen dataclasses below, the plain values
that the summary (service.py) and the FHIR download (fhir.py) are built from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class PatientRow:
    id: int
    first_name: str
    last_name: str
    date_of_birth: date
    email: str | None = None
    phone: str | None = None
    home_zip: str | None = None


@dataclass(frozen=True, slots=True)
class AllergyRow:
    id: int
    substance: str
    code_system: str | None = None  # "rxnorm" | "snomed"
    code: str | None = None
    category: str | None = None  # medication | food | environment | biologic
    reaction: str | None = None
    severity: str | None = None  # mild | moderate | severe
    status: str = "active"  # active | inactive | resolved
    noted_on: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class MedicationRow:
    id: int
    name: str
    rxnorm_code: str | None = None
    dosage: str | None = None
    status: str = "active"  # active | completed | stopped | on_hold
    started_on: date | None = None
    ended_on: date | None = None
    prescriber: str | None = None  # the provider's display name
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ProblemRow:
    id: int
    description: str
    icd10_code: str | None = None
    snomed_code: str | None = None
    status: str = "active"  # FHIR condition-clinical codes
    onset_on: date | None = None
    resolved_on: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class VisitRow:
    id: int
    started_at: datetime  # naive UTC, as stored
    reason: str
    ended_at: datetime | None = None
    provider_id: int | None = None
    provider_name: str | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class LabRow:
    id: int
    test_name: str
    value: str
    collected_at: datetime  # naive UTC, as stored
    loinc_code: str | None = None
    unit: str | None = None
    reference_range: str | None = None
    flag: str | None = None  # normal | low | high | critical_low | critical_high | abnormal
    status: str = "final"  # preliminary | final | amended | corrected
    visit_id: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ImmunizationRow:
    """A vaccine given (or declined). Portico's own schema has no immunizations: only the
    OpenEMR reader (agent/openemr/records.py) fills these."""

    id: int
    vaccine: str  # the vaccine's name; "" when the practice system has none for the code
    administered_at: datetime | None  # naive UTC, like VisitRow.started_at
    cvx_code: str | None = None
    status: str = "completed"  # completed | not-done (FHIR immunization-status)
    lot_number: str | None = None
    manufacturer: str | None = None
    expires_on: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ClinicalRecord:
    """Everything the practice holds for one patient that the records page shows."""

    patient: PatientRow
    allergies: tuple[AllergyRow, ...] = ()
    medications: tuple[MedicationRow, ...] = ()
    problems: tuple[ProblemRow, ...] = ()
    visits: tuple[VisitRow, ...] = ()
    labs: tuple[LabRow, ...] = ()
    immunizations: tuple[ImmunizationRow, ...] = ()  # empty from Portico's own schema


def clinical_record(cursor: Any, patient_id: int) -> ClinicalRecord | None:
    """The patient's whole record, or None if the patient row is gone."""
    patient = _patient(cursor, patient_id)
    if patient is None:
        return None
    return ClinicalRecord(
        patient=patient,
        allergies=_allergies(cursor, patient_id),
        medications=_medications(cursor, patient_id),
        problems=_problems(cursor, patient_id),
        visits=_visits(cursor, patient_id),
        labs=_labs(cursor, patient_id),
    )


def _patient(cursor: Any, patient_id: int) -> PatientRow | None:
    cursor.execute(
        "SELECT id, first_name, last_name, date_of_birth, email, phone, home_zip"
        " FROM patients WHERE id = %s",
        (patient_id,),
    )
    row = cursor.fetchone()
    return None if row is None else PatientRow(**row)


# Active entries first (what matters today), then the most recent, then by id so that the
# order is total and two reads of the same record are identical.
_ACTIVE_FIRST = "CASE status WHEN 'active' THEN 0 ELSE 1 END"


def _allergies(cursor: Any, patient_id: int) -> tuple[AllergyRow, ...]:
    cursor.execute(
        "SELECT id, substance, code_system, code, category, reaction, severity, status,"
        " noted_on, note FROM patient_allergies WHERE patient_id = %s"
        f" ORDER BY {_ACTIVE_FIRST}, substance, id",
        (patient_id,),
    )
    return tuple(AllergyRow(**row) for row in cursor.fetchall())


def _medications(cursor: Any, patient_id: int) -> tuple[MedicationRow, ...]:
    cursor.execute(
        "SELECT m.id, m.name, m.rxnorm_code, m.dosage, m.status, m.started_on, m.ended_on,"
        " p.display_name AS prescriber, m.note"
        " FROM patient_medications m LEFT JOIN providers p ON p.id = m.prescriber_id"
        " WHERE m.patient_id = %s"
        " ORDER BY CASE m.status WHEN 'active' THEN 0 ELSE 1 END,"
        " m.started_on IS NULL, m.started_on DESC, m.name, m.id",
        (patient_id,),
    )
    return tuple(MedicationRow(**row) for row in cursor.fetchall())


def _problems(cursor: Any, patient_id: int) -> tuple[ProblemRow, ...]:
    cursor.execute(
        "SELECT id, description, icd10_code, snomed_code, status, onset_on, resolved_on, note"
        " FROM patient_problems WHERE patient_id = %s"
        f" ORDER BY {_ACTIVE_FIRST}, onset_on IS NULL, onset_on DESC, description, id",
        (patient_id,),
    )
    return tuple(ProblemRow(**row) for row in cursor.fetchall())


def _visits(cursor: Any, patient_id: int) -> tuple[VisitRow, ...]:
    cursor.execute(
        "SELECT e.id, e.started_at, e.ended_at, e.reason, e.summary, e.provider_id,"
        " p.display_name AS provider_name"
        " FROM encounters e LEFT JOIN providers p ON p.id = e.provider_id"
        " WHERE e.patient_id = %s ORDER BY e.started_at DESC, e.id DESC",
        (patient_id,),
    )
    return tuple(VisitRow(**row) for row in cursor.fetchall())


def _labs(cursor: Any, patient_id: int) -> tuple[LabRow, ...]:
    # The visit link is kept only when that visit is the same patient's: a result filed
    # against someone else's encounter must not point the patient at it.
    cursor.execute(
        "SELECT l.id, l.test_name, l.loinc_code, l.value, l.unit, l.reference_range, l.flag,"
        " l.status, l.collected_at, e.id AS visit_id, l.note"
        " FROM lab_results l"
        " LEFT JOIN encounters e ON e.id = l.encounter_id AND e.patient_id = l.patient_id"
        " WHERE l.patient_id = %s ORDER BY l.collected_at DESC, l.test_name, l.id",
        (patient_id,),
    )
    return tuple(LabRow(**row) for row in cursor.fetchall())
