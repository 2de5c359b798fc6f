"""A patient's clinical record read from OpenEMR's tables, as the record types the records page
and the FHIR download are built from (agent/store/base.py, agent/records/fhir.py).

A reader, run inside the caller's transaction like agent/store/portico/records.py: every query is
bound to one `pid` (OpenEMR's patient key everywhere; `patient_data.id` is not) and
parameterised. What OpenEMR's codes mean is agent/openemr/clinical.py (pure); this module says
which rows are read. OpenEMR stores naive local wall-clock times; the record types hold naive
UTC, so times are converted in the practice zone (fold=0, as agent/openemr/calendar.py), and
"ended" means an end date before the practice's local now.

- Patient: `patient_data` by `pid`; `PatientRow.id` is the pid; phone is `phone_home`, else
  `phone_cell`; zip is `postal_code`. A row without a usable `DOB` reads as no record (None):
  Portico signs patients in with their date of birth and does not invent one.
- Problems, allergies, medication-list entries: `lists` rows of type `medical_problem`,
  `allergy`, `medication` with `activity = 1` (0 is "taken off the list": `disappearList`, the
  Rx form's unticked "medication list") and a `verification` other than `refuted` or
  `entered-in-error`. `begdate`/`enddate` give the dates, `comments` the note. Allergies: the
  reaction is the `reaction` list's title, else the stored text (`unassigned` is none); no
  category, as OpenEMR has no column for it (its FHIR layer says "medication" for all).
- Medications: `prescriptions` with `active = 1`, plus medication-list entries except those
  duplicating a prescription: an entry whose `lists_medication` names a `prescription_id` (the
  Rx form's copy; OpenEMR's FHIR layer leaves it out too) or, for copies from before that
  column, one titled like a prescription read here (the Rx form's own fallback match,
  upper(trim(title))). Status: ended -> completed, else active (OpenEMR calls any end date
  completed, even next week's). Dosage: the dosage instructions; prescriber: the
  prescription's `provider_id`. The two tables number rows independently and FHIR ids come
  from row ids, so list entry n is id 2n and prescription n is id 2n + 1.
- Visits: `form_encounter` rows (OpenEMR's encounters) that started by now; reason is
  `reason`, else the visit category's name; end is `date_end`; provider is `provider_id`. Every
  sensitivity: it limits staff, and OpenEMR's FHIR API returns such visits to patients' apps.
  No summary: OpenEMR keeps visit notes in clinician forms, not in the encounter.
- Lab results: `procedure_result` rows of the `procedure_report`s of `procedure_order`s with
  `activity = 1` (0 is a deleted order); the ordered test from `procedure_order_code` (same
  order id and seq). Name `result_text`, else the ordered test; LOINC `result_code`, else the
  ordered `procedure_code`; value, units and range as written (fhir.py and units.py map what
  they know and keep the rest as text). Taken at the report's `date_collected`, else the
  result's `date`, the order's `date_collected`, the report date, the order date; a result
  with none of them, or cancelled or in error, is left out. The visit is the same patient's
  `form_encounter` whose `encounter` is the order's `encounter_id`.
- Immunizations: `immunizations` rows whose `added_erroneously` is 0; the vaccine's name is
  the CVX row of `codes` (code_type 100), `code_text`, else `code_text_short`.

Bounds: every query has a LIMIT. Those a patient outgrows over years of care are visits (the
latest MAX_VISITS) and lab results (the latest MAX_LAB_RESULTS); list entries, prescriptions
and immunizations are curated lists, capped at MAX_ROWS each only as a guard.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from agent.openemr import clinical as c
from agent.openemr.tables import Tables
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

MAX_VISITS = 500
MAX_LAB_RESULTS = 2000
MAX_ROWS = 1000

CVX_CODE_TYPE = 100  # code_types.ct_id of CVX in OpenEMR's installer (sql/database.sql:10621)


def clinical_record(
    cursor: Any, pid: int, *, tables: Tables, zone: ZoneInfo, now: datetime
) -> ClinicalRecord | None:
    """Patient `pid`'s whole record, or None if OpenEMR has no such patient (or no birth date
    for them). `now` is an aware instant; `zone` is the practice's; `tables` names OpenEMR's
    tables with their database."""
    t = tables
    patient = _patient(cursor, t, pid)
    if patient is None:
        return None
    clock = _Clock(zone, now)
    return ClinicalRecord(
        patient=patient,
        allergies=_allergies(cursor, t, pid, clock),
        medications=_medications(
            _prescriptions(cursor, t, pid, clock), _listed_medications(cursor, t, pid, clock)
        ),
        problems=_problems(cursor, t, pid, clock),
        visits=_visits(cursor, t, pid, clock),
        labs=_labs(cursor, t, pid, clock),
        immunizations=_immunizations(cursor, t, pid, clock),
    )


class _Clock:
    """The practice's local now, and OpenEMR's naive local times as naive UTC."""

    def __init__(self, zone: ZoneInfo, now: datetime) -> None:
        self.zone = zone
        self.local_now = now.astimezone(zone).replace(tzinfo=None)

    def ended(self, end: date | None) -> bool:
        if isinstance(end, datetime):
            return end < self.local_now
        return end is not None and end < self.local_now.date()

    def utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.zone).astimezone(UTC).replace(tzinfo=None)


def _patient(cursor: Any, t: Tables, pid: int) -> PatientRow | None:
    cursor.execute(
        "SELECT pid, fname, lname, DOB, email, phone_home, phone_cell, postal_code"
        f" FROM {t.patient_data} WHERE pid = %s",
        (pid,),
    )
    row = cursor.fetchone()
    born = None if row is None else c.day(row["DOB"])
    if row is None or born is None:
        return None
    return PatientRow(
        id=int(row["pid"]),
        first_name=row["fname"],
        last_name=row["lname"],
        date_of_birth=born,
        email=c.text(row["email"]),
        phone=c.text(row["phone_home"]) or c.text(row["phone_cell"]),
        home_zip=c.text(row["postal_code"]),
    )


def _list_rows(cursor: Any, t: Tables, pid: int, kind: str, columns: str) -> list[dict[str, Any]]:
    # Open entries first, then the latest, so that the LIMIT keeps what matters today.
    cursor.execute(
        f"SELECT l.id, l.title, l.diagnosis, l.begdate, l.enddate, l.comments, {columns}"
        f" FROM {t.lists} l WHERE l.pid = %s AND l.type = %s AND l.activity = 1"
        " AND l.verification NOT IN (%s, %s)"
        " ORDER BY l.enddate IS NOT NULL, l.begdate DESC, l.id DESC LIMIT %s",
        (pid, kind, *c.NOT_THERE, MAX_ROWS),
    )
    return list(cursor.fetchall())


def _problems(cursor: Any, t: Tables, pid: int, clock: _Clock) -> tuple[ProblemRow, ...]:
    problems = []
    for row in _list_rows(cursor, t, pid, "medical_problem", "l.outcome, l.occurrence"):
        codes = c.diagnosis_codes(row["diagnosis"])
        end = c.moment(row["enddate"])
        problems.append(
            ProblemRow(
                id=int(row["id"]),
                description=row["title"] or "",
                icd10_code=c.icd10(codes),
                snomed_code=c.snomed(codes),
                status=c.problem_status(row["outcome"], row["occurrence"], clock.ended(end)),
                onset_on=c.day(row["begdate"]),
                resolved_on=c.day(end),
                note=c.text(row["comments"]),
            )
        )
    return tuple(
        sorted(
            problems,
            key=lambda p: (p.status != "active", *_latest(p.onset_on), p.description, p.id),
        )
    )


def _allergies(cursor: Any, t: Tables, pid: int, clock: _Clock) -> tuple[AllergyRow, ...]:
    rows = _list_rows(
        cursor,
        t,
        pid,
        "allergy",
        "l.outcome, l.reaction, l.severity_al,"
        f" (SELECT o.title FROM {t.list_options} o WHERE o.list_id = 'reaction'"
        "  AND o.option_id = l.reaction) AS reaction_title",
    )
    allergies = []
    for row in rows:
        codes = c.diagnosis_codes(row["diagnosis"])
        rxnorm, snomed = c.rxnorm(codes), c.snomed(codes)
        reaction = None if row["reaction"] == "unassigned" else row["reaction"]
        allergies.append(
            AllergyRow(
                id=int(row["id"]),
                substance=row["title"] or "",
                code_system="rxnorm" if rxnorm else "snomed" if snomed else None,
                code=rxnorm or snomed,
                reaction=c.text(row["reaction_title"]) or c.text(reaction),
                severity=c.allergy_severity(row["severity_al"]),
                status=c.allergy_status(row["outcome"], clock.ended(c.moment(row["enddate"]))),
                noted_on=c.day(row["begdate"]),
                note=c.text(row["comments"]),
            )
        )
    return tuple(sorted(allergies, key=lambda a: (a.status != "active", a.substance, a.id)))


def _listed_medications(cursor: Any, t: Tables, pid: int, clock: _Clock) -> list[MedicationRow]:
    rows = _list_rows(
        cursor,
        t,
        pid,
        "medication",
        f"(SELECT m.drug_dosage_instructions FROM {t.lists_medication} m WHERE m.list_id = l.id"
        "  ORDER BY m.id LIMIT 1) AS instructions,"
        f" EXISTS (SELECT 1 FROM {t.lists_medication} m WHERE m.list_id = l.id"
        "  AND m.prescription_id IS NOT NULL) AS prescribed",
    )
    return [
        MedicationRow(
            id=2 * int(row["id"]),
            name=row["title"] or "",
            rxnorm_code=c.rxnorm(c.diagnosis_codes(row["diagnosis"])),
            dosage=c.text(row["instructions"]),
            status="completed" if clock.ended(c.moment(row["enddate"])) else "active",
            started_on=c.day(row["begdate"]),
            ended_on=c.day(row["enddate"]),
            note=c.text(row["comments"]),
        )
        for row in rows
        if not row["prescribed"]
    ]


def _prescriptions(cursor: Any, t: Tables, pid: int, clock: _Clock) -> list[MedicationRow]:
    cursor.execute(
        "SELECT p.id, p.drug, p.rxnorm_drugcode, p.start_date, p.end_date,"
        " p.drug_dosage_instructions, p.note, u.title, u.fname, u.lname"
        f" FROM {t.prescriptions} p LEFT JOIN {t.users} u ON u.id = p.provider_id"
        " WHERE p.patient_id = %s AND p.active = 1"
        " ORDER BY p.end_date IS NOT NULL, p.start_date DESC, p.id DESC LIMIT %s",
        (pid, MAX_ROWS),
    )
    return [
        MedicationRow(
            id=2 * int(row["id"]) + 1,
            name=row["drug"] or "",
            rxnorm_code=c.text(row["rxnorm_drugcode"]),
            dosage=c.text(row["drug_dosage_instructions"]),
            status="completed" if clock.ended(c.day(row["end_date"])) else "active",
            started_on=c.day(row["start_date"]),
            ended_on=c.day(row["end_date"]),
            prescriber=c.person_name(row["title"], row["fname"], row["lname"]),
            note=c.text(row["note"]),
        )
        for row in cursor.fetchall()
    ]


def _medications(
    prescriptions: list[MedicationRow], listed: list[MedicationRow]
) -> tuple[MedicationRow, ...]:
    prescribed = {p.name.strip().upper() for p in prescriptions}
    kept = [m for m in listed if m.name.strip().upper() not in prescribed]
    return tuple(
        sorted(
            [*prescriptions, *kept],
            key=lambda m: (m.status != "active", *_latest(m.started_on), m.name, m.id),
        )
    )


def _visits(cursor: Any, t: Tables, pid: int, clock: _Clock) -> tuple[VisitRow, ...]:
    cursor.execute(
        "SELECT e.id, e.date, e.date_end, e.reason, k.pc_catname, u.id AS provider_id,"
        " u.title, u.fname, u.lname"
        f" FROM {t.form_encounter} e"
        f" LEFT JOIN {t.users} u ON u.id = e.provider_id"
        f" LEFT JOIN {t.categories} k ON k.pc_catid = e.pc_catid"
        " WHERE e.pid = %s AND e.date IS NOT NULL AND e.date <= %s"
        " ORDER BY e.date DESC, e.id DESC LIMIT %s",
        (pid, clock.local_now, MAX_VISITS),
    )
    visits = []
    for row in cursor.fetchall():
        start, end = c.moment(row["date"]), c.moment(row["date_end"])
        if start is None:
            continue
        visits.append(
            VisitRow(
                id=int(row["id"]),
                started_at=clock.utc(start),
                ended_at=clock.utc(end) if end is not None and end > start else None,
                reason=c.text(row["reason"]) or c.text(row["pc_catname"]) or "",
                provider_id=row["provider_id"],
                provider_name=c.person_name(row["title"], row["fname"], row["lname"]),
            )
        )
    return tuple(visits)


# When a result was taken: the first of these that holds a date.
_TAKEN = ("collected", "resulted", "order_collected", "reported", "ordered")


def _labs(cursor: Any, t: Tables, pid: int, clock: _Clock) -> tuple[LabRow, ...]:
    cursor.execute(
        "SELECT r.procedure_result_id AS id, r.result_code, r.result_text, r.result, r.units,"
        " r.`range`, r.abnormal, r.result_status, r.comments, rep.report_status,"
        " t.procedure_code, t.procedure_name, rep.date_collected AS collected,"
        " r.date AS resulted, o.date_collected AS order_collected, rep.date_report AS reported,"
        " o.date_ordered AS ordered,"
        # Only the same patient's visit: a result filed against someone else's encounter
        # must not point at it (as in the portico reader).
        f" (SELECT MIN(e.id) FROM {t.form_encounter} e WHERE e.pid = o.patient_id"
        "  AND e.encounter = o.encounter_id) AS visit_id"
        f" FROM {t.procedure_order} o"
        f" JOIN {t.procedure_report} rep ON rep.procedure_order_id = o.procedure_order_id"
        f" JOIN {t.procedure_result} r ON r.procedure_report_id = rep.procedure_report_id"
        f" LEFT JOIN {t.procedure_order_code} t ON t.procedure_order_id = rep.procedure_order_id"
        "  AND t.procedure_order_seq = rep.procedure_order_seq"
        " WHERE o.patient_id = %s AND o.activity = 1"
        " ORDER BY COALESCE(rep.date_collected, r.date, o.date_collected, rep.date_report,"
        "  o.date_ordered) DESC, r.procedure_result_id DESC LIMIT %s",
        (pid, MAX_LAB_RESULTS),
    )
    labs = []
    for row in cursor.fetchall():
        status = c.lab_status(row["result_status"], row["report_status"])
        taken = next((m for key in _TAKEN if (m := c.moment(row[key])) is not None), None)
        if status in c.LAB_LEFT_OUT or taken is None:
            continue
        labs.append(
            LabRow(
                id=int(row["id"]),
                test_name=c.text(row["result_text"]) or c.text(row["procedure_name"]) or "",
                value=row["result"] or "",
                collected_at=clock.utc(taken),
                loinc_code=c.text(row["result_code"]) or c.text(row["procedure_code"]),
                unit=c.text(row["units"]),
                reference_range=c.text(row["range"]),
                flag=c.lab_flag(row["abnormal"]),
                status=status,
                visit_id=row["visit_id"],
                note=c.text(row["comments"]),
            )
        )
    return tuple(sorted(labs, key=lambda lab: (*_latest(lab.collected_at), lab.test_name, lab.id)))


def _immunizations(cursor: Any, t: Tables, pid: int, clock: _Clock) -> tuple[ImmunizationRow, ...]:
    cursor.execute(
        "SELECT i.id, i.cvx_code, i.administered_date, i.lot_number, i.manufacturer,"
        " i.expiration_date, i.note, i.completion_status,"
        " (SELECT COALESCE(NULLIF(TRIM(k.code_text), ''), k.code_text_short)"
        f" FROM {t.codes} k"
        "  WHERE k.code_type = %s AND k.code = i.cvx_code ORDER BY k.id LIMIT 1) AS vaccine"
        f" FROM {t.immunizations} i WHERE i.patient_id = %s AND i.added_erroneously = 0"
        " ORDER BY i.administered_date DESC, i.id DESC LIMIT %s",
        (CVX_CODE_TYPE, pid, MAX_ROWS),
    )
    immunizations = []
    for row in cursor.fetchall():
        given = c.moment(row["administered_date"])
        immunizations.append(
            ImmunizationRow(
                id=int(row["id"]),
                vaccine=c.text(row["vaccine"]) or "",
                administered_at=clock.utc(given) if given is not None else None,
                cvx_code=c.text(row["cvx_code"]),
                status=c.immunization_status(row["completion_status"]),
                lot_number=c.text(row["lot_number"]),
                manufacturer=c.text(row["manufacturer"]),
                expires_on=c.day(row["expiration_date"]),
                note=c.text(row["note"]),
            )
        )
    return tuple(immunizations)


def _latest(when: date | None) -> tuple[bool, float]:
    """A sort key putting the latest first and undated entries last."""
    if when is None:
        return (True, 0.0)
    if isinstance(when, datetime):
        return (False, -when.replace(tzinfo=UTC).timestamp())
    return (False, -float(when.toordinal()))
