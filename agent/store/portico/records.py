"""The clinical-record half of the Portico store: the chart tables of docs/schema.md.

Every query is bound to one patient id, the session's: there is no way to ask these functions
for "a row" without saying whose. Rows become the frozen dataclasses of agent/store/base.py,
the plain values that the summary (agent/records/service.py) and the FHIR download
(agent/records/fhir.py) are built from.
"""

from __future__ import annotations

from typing import Any

from agent.store.base import (
    AllergyRow,
    ClinicalRecord,
    LabRow,
    MedicationRow,
    PatientRow,
    ProblemRow,
    Tx,
    VisitRow,
)


class PorticoRecords:
    """The clinical-record method of :class:`agent.store.portico.PorticoStore`."""

    def clinical_record(self, tx: Tx, patient_id: int) -> ClinicalRecord | None:
        patient = _patient(tx, patient_id)
        if patient is None:
            return None
        return ClinicalRecord(
            patient=patient,
            allergies=_allergies(tx, patient_id),
            medications=_medications(tx, patient_id),
            problems=_problems(tx, patient_id),
            visits=_visits(tx, patient_id),
            labs=_labs(tx, patient_id),
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
