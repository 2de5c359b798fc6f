"""The patient's health record: read in one transaction with its audit row, shown two ways.

`summary` is what the records page lists; `bundle` is the same record as a FHIR R4 download.
Both read only the session's patient (the practice store's clinical_record is bound to that
id) and write one `portal_audit` row in the same transaction as the read, with counts and
never text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from agent import audit
from agent.caller import Caller
from agent.clock import Clock
from agent.errors import Refused
from agent.records.fhir import (
    health_record_bundle,
    patient_identifier_system,
    practice_namespace,
)
from agent.records.fhir_json import bundle_json
from agent.records.units import unit_display
from agent.store.base import (
    AllergyRow,
    ClinicalRecord,
    ImmunizationRow,
    LabRow,
    MedicationRow,
    PracticeStore,
    ProblemRow,
    Tx,
    VisitRow,
)
from protocol.errors import ErrorCode


class RecordService:
    def __init__(self, store: PracticeStore, clock: Clock, zone: ZoneInfo, subdomain: str) -> None:
        self.store = store
        self.clock = clock
        self.zone = zone
        self.namespace = practice_namespace(subdomain)  # stable resource ids
        self.patient_system = patient_identifier_system(subdomain)

    async def summary(self, caller: Caller) -> dict[str, Any]:
        record = await self._read(caller, "records.read", self.clock.now())
        return summary_view(record, self.zone)

    async def bundle(self, caller: Caller) -> dict[str, Any]:
        now = self.clock.now()
        record = await self._read(caller, "records.bundle", now)
        bundle = health_record_bundle(
            record, namespace=self.namespace, patient_system=self.patient_system, timestamp=now
        )
        # As text: the link's JSON would turn 5.40 into 5.4 (agent/records/fhir_json.py).
        return {
            "filename": f"health-record-{now.astimezone(self.zone).date().isoformat()}.json",
            "bundle_json": bundle_json(bundle),
        }

    async def _read(self, caller: Caller, action: str, now: datetime) -> ClinicalRecord:
        def read(cursor: Tx) -> ClinicalRecord | None:
            record = self.store.clinical_record(cursor, caller.patient_id)
            audit.by_patient(
                cursor,
                caller,
                now=now,
                action=action,
                outcome="ok" if record is not None else "not_found",
                detail=audit_detail(record) if record is not None else None,
            )
            return record

        record = await self.store.transaction(read)
        if record is None:
            # The session outlived its patient row (merged or removed by the office).
            raise Refused(
                ErrorCode.NOT_FOUND,
                "Your health record could not be found. Please call the office.",
            )
        return record


def audit_detail(record: ClinicalRecord) -> str:
    """How many entries of each kind were shown: an auditor can tell what was disclosed
    without the trail holding any of it."""
    return (
        f"allergies:{len(record.allergies)} medications:{len(record.medications)}"
        f" problems:{len(record.problems)} visits:{len(record.visits)} labs:{len(record.labs)}"
        f" immunizations:{len(record.immunizations)}"
    )


# -- the summary's shapes (documented in docs/schema.md) -------------------------------------


def summary_view(record: ClinicalRecord, zone: ZoneInfo) -> dict[str, Any]:
    patient = record.patient
    return {
        "patient": {
            "name": f"{patient.first_name} {patient.last_name}".strip(),
            "date_of_birth": patient.date_of_birth.isoformat(),
        },
        "allergies": [allergy_item(a) for a in record.allergies],
        "medications": [medication_item(m) for m in record.medications],
        "problems": [problem_item(p) for p in record.problems],
        "visits": [visit_item(v, zone) for v in record.visits],
        "labs": [lab_item(lab, zone) for lab in record.labs],
        # Only the OpenEMR store has any; Portico's own schema answers an empty list.
        "immunizations": [immunization_item(i, zone) for i in record.immunizations],
    }


def allergy_item(allergy: AllergyRow) -> dict[str, Any]:
    return {
        "id": allergy.id,
        "substance": allergy.substance,
        "category": allergy.category,
        "reaction": allergy.reaction,
        "severity": allergy.severity,
        "status": allergy.status,
        "noted_on": _day(allergy.noted_on),
        "note": allergy.note,
    }


def medication_item(medication: MedicationRow) -> dict[str, Any]:
    return {
        "id": medication.id,
        "name": medication.name,
        "dosage": medication.dosage,
        "status": medication.status,
        "started_on": _day(medication.started_on),
        "ended_on": _day(medication.ended_on),
        "prescriber": medication.prescriber,
        "note": medication.note,
    }


def problem_item(problem: ProblemRow) -> dict[str, Any]:
    return {
        "id": problem.id,
        "description": problem.description,
        "status": problem.status,
        "onset_on": _day(problem.onset_on),
        "resolved_on": _day(problem.resolved_on),
        "note": problem.note,
    }


def visit_item(visit: VisitRow, zone: ZoneInfo) -> dict[str, Any]:
    local = _local(visit.started_at, zone)
    return {
        "id": visit.id,
        "start": _utc(visit.started_at),
        "end": _utc(visit.ended_at) if visit.ended_at else None,
        "local_start": local.isoformat(),
        "date": local.date().isoformat(),
        "provider": (
            {"id": visit.provider_id, "name": visit.provider_name}
            if visit.provider_id is not None
            else None
        ),
        "reason": visit.reason,
        "summary": visit.summary,
    }


def lab_item(lab: LabRow, zone: ZoneInfo) -> dict[str, Any]:
    local = _local(lab.collected_at, zone)
    return {
        "id": lab.id,
        "test": lab.test_name,
        "value": lab.value,
        "unit": lab.unit,
        # The unit in words a patient reads ("mmHg" for mm[Hg]): agent/records/units.py.
        "unit_display": unit_display(lab.unit),
        "reference_range": lab.reference_range,
        "flag": lab.flag,
        "status": lab.status,
        "collected_at": _utc(lab.collected_at),
        "local_collected": local.isoformat(),
        "date": local.date().isoformat(),
        "visit_id": lab.visit_id,
        "note": lab.note,
    }


def immunization_item(immunization: ImmunizationRow, zone: ZoneInfo) -> dict[str, Any]:
    given = immunization.administered_at
    # The day the patient was there, in the practice's zone: an evening shot in New York is
    # already the next day in UTC.
    local = _local(given, zone) if given is not None else None
    return {
        "id": immunization.id,
        "vaccine": immunization.vaccine,
        "cvx_code": immunization.cvx_code,
        "status": immunization.status,
        "administered_at": _utc(given) if given is not None else None,
        "local_administered": local.isoformat() if local is not None else None,
        "date": local.date().isoformat() if local is not None else None,
        "lot_number": immunization.lot_number,
        "manufacturer": immunization.manufacturer,
        "expires_on": _day(immunization.expires_on),
        "note": immunization.note,
    }


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _utc(stored: datetime) -> str:
    return stored.strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(stored: datetime, zone: ZoneInfo) -> datetime:
    return stored.replace(tzinfo=UTC).astimezone(zone)
