"""Two patients' charts in an OpenEMR database, written row by row as OpenEMR writes them and
interleaved (every kind of row of Ada, then the same kind of Bob's), and what Portico must read
back for Ada: every expected row is written here by hand from agent/openemr/records.py's
docstring, not produced by the reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from agent.openemr.records import clinical_record
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
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.rows import (
    NEW_PATIENT,
    add_allergy,
    add_cvx_code,
    add_encounter,
    add_immunization,
    add_lab_result,
    add_list_option,
    add_medication,
    add_patient,
    add_prescription,
    add_problem,
    add_provider,
    insert,
)

ADA, BOB = 1001, 1002
ZONE = ZoneInfo("America/New_York")  # EDT (-4) until 2026-11-01, EST (-5) after
NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def read(db: OpenEMRDatabase, pid: int) -> ClinicalRecord | None:
    """clinical_record on a connection in the database's sql_mode, as the agent's pool runs."""
    connection = db.connect()
    with connection, connection.cursor() as cursor:
        return clinical_record(cursor, pid, tables=db.tables, zone=ZONE, now=NOW)


@dataclass
class Ids:
    """The ids OpenEMR gave Ada's rows (auto-increment, so known only once written)."""

    adams: int = 0
    problems: dict[str, int] = field(default_factory=dict)
    allergies: dict[str, int] = field(default_factory=dict)
    rx: dict[str, int] = field(default_factory=dict)
    listed: dict[str, int] = field(default_factory=dict)
    visits: dict[str, int] = field(default_factory=dict)
    labs: dict[str, int] = field(default_factory=dict)
    shots: dict[str, int] = field(default_factory=dict)


def write_charts(db: OpenEMRDatabase) -> Ids:
    ids = Ids()
    ids.adams = add_provider(db, username="aadams", fname="Ann", lname="Adams")
    add_patient(
        db,
        ADA,
        email="ada@example.org",
        postal_code="02139",
        phone_home=" 617-555-0100 ",
    )
    add_patient(db, BOB, fname="Bob", lname="Other", dob="1975-07-07")
    add_list_option(db, "reaction", "hives", "Hives", codes="SNOMED-CT:247472004")

    ids.problems["hypertension"] = add_problem(
        db, ADA, "Hypertension", "ICD10:I10;SNOMED-CT:38341003", "2020-01-01"
    )
    add_problem(db, BOB, "Diabetes", "ICD10:E11.9", "2018-01-01")
    ids.problems["bronchitis"] = add_problem(
        db, ADA, "Bronchitis", "ICD10:J20.9", "2025-02-01", enddate="2025-03-01"
    )
    ids.problems["sprain"] = add_problem(
        db, ADA, "Ankle sprain", "ICD10:S93.401A", "2024-06-01", enddate="2024-07-01", outcome=1
    )
    ids.problems["migraine"] = add_problem(
        db, ADA, "Migraine", "SNOMED-CT:37796009", "2019-01-01", occurrence=7
    )
    ids.problems["asthma"] = add_problem(
        db, ADA, "Asthma", "", "2010-01-01", occurrence=1, comments=" Uses inhaler "
    )
    ids.problems["anemia"] = add_problem(
        db, ADA, "Anemia", "ICD10:D64.9", "2026-01-01", enddate="2027-01-01"
    )
    add_problem(db, ADA, "Refuted gout", "ICD10:M10.9", "2021-01-01", verification="refuted")
    add_problem(db, ADA, "Typo", "", "2021-01-01", verification="entered-in-error")
    add_problem(db, ADA, "Taken off the list", "", "2021-01-01", activity=0)

    ids.allergies["penicillin"] = add_allergy(db, ADA, "Penicillin", "RXCUI:70618", "2019-05-01")
    add_allergy(db, BOB, "Aspirin", "RXCUI:1191", "2019-05-01")
    ids.allergies["peanuts"] = add_allergy(
        db,
        ADA,
        "Peanuts",
        "SNOMED-CT:91935009",
        "2001-01-01",
        reaction="nausea",
        severity="life_threatening_severity",
    )
    ids.allergies["latex"] = add_allergy(
        db,
        ADA,
        "Latex",
        "",
        "2015-01-01",
        reaction="unassigned",
        severity="unassigned",
        enddate="2023-01-01",
        outcome=1,
    )
    ids.allergies["sulfa"] = add_allergy(
        db, ADA, "Sulfa", "", "2016-01-01", severity=None, enddate="2022-01-01"
    )
    add_allergy(db, ADA, "Shellfish", "", "2020-01-01", verification="refuted")
    add_allergy(db, ADA, "Codeine", "", "2020-01-01", activity=0)

    ids.rx["metformin"] = add_prescription(
        db,
        ADA,
        "Metformin 500 mg",
        "861007",
        "2021-03-01",
        provider=ids.adams,
        instructions="Take 1 tablet by mouth twice daily",
        note="With meals",
    )
    add_prescription(db, BOB, "Atorvastatin 20 mg", "617311", "2022-01-01")
    ids.rx["amoxicillin"] = add_prescription(
        db, ADA, "Amoxicillin 500 mg", "308182", "2026-11-01", end="2026-11-10"
    )
    ids.rx["prednisone"] = add_prescription(
        db, ADA, "Prednisone 10 mg", "312615", "2026-11-20", end="2026-11-30"
    )
    add_prescription(db, ADA, "Warfarin 5 mg", "855332", "2019-01-01", active=0)

    ids.listed["lisinopril"] = add_medication(db, ADA, "Lisinopril 10 mg", "314076", "2020-01-02")
    add_medication(db, BOB, "Vitamin D", "", "2020-01-02")
    # The Rx form's medication-list copy of Metformin, linked and (older) by title only.
    add_medication(
        db, ADA, "Metformin 500 mg", "861007", "2021-03-01", prescription_id=ids.rx["metformin"]
    )
    add_medication(db, ADA, " prednisone 10 MG ", "", "2026-11-20", details=False)
    ids.listed["ibuprofen"] = add_medication(
        db, ADA, "Ibuprofen 200 mg", "310965", "2025-01-01", enddate="2025-02-01"
    )
    ids.listed["fish oil"] = add_medication(db, ADA, "Fish oil", "", "2024-05-01", details=False)
    add_medication(db, ADA, "Stopped by staff", "", "2024-05-01", activity=0)

    ids.visits["sinus"] = add_encounter(
        db,
        ADA,
        5001,
        "2026-10-01 10:00:00",
        reason="Sinus congestion",
        provider=ids.adams,
        ended="2026-10-01 10:30:00",
    )
    add_encounter(db, BOB, 5004, "2026-10-15 11:00:00", reason="Bob's visit")
    ids.visits["new"] = add_encounter(
        db, ADA, 5002, "2026-11-05 09:00:00", reason="", provider=0, catid=NEW_PATIENT
    )
    add_encounter(db, ADA, 5003, "2026-12-01 09:00:00", reason="Not yet")

    ids.labs["a1c"] = add_lab_result(
        db,
        ADA,
        "4548-4",
        "Hemoglobin A1c",
        "6.1",
        units="%",
        reference_range="4.0-5.6",
        abnormal="high",
        collected="2026-10-01 10:15:00",
        encounter=5001,
    )
    add_lab_result(db, BOB, "2345-7", "Glucose", "99", collected="2026-10-01 10:15:00")
    ids.labs["cholesterol"] = add_lab_result(
        db,
        ADA,
        "2093-3",
        "Lipid panel",
        "180",
        units="mg/dL",
        reference_range="<200",
        abnormal="no",
        status="prelim",
        analyte="Cholesterol, total",
        comments="Fasting",
        collected="2026-11-10 08:00:00",
    )
    ids.labs["urine"] = add_lab_result(
        db,
        ADA,
        "5778-6",
        "Urine color",
        "Yellow",
        units="",
        abnormal="",
        status="",
        report_status="final",
        collected="2026-11-10 08:00:00",
    )
    # Filed against Bob's visit number: Ada's result, but not pointing at Bob's visit.
    ids.labs["hemoglobin"] = add_lab_result(
        db,
        ADA,
        "718-7",
        "Hemoglobin",
        "13.5",
        units="g/dL",
        reference_range="12.0-15.5",
        abnormal="vlow",
        collected="2026-09-01 08:00:00",
        encounter=5004,
    )
    add_lab_result(db, ADA, "1558-6", "Cancelled glucose", "", status="cancel")
    add_lab_result(db, ADA, "1558-6", "Glucose in error", "250", status="error")
    add_lab_result(db, ADA, "1558-6", "Deleted order", "90", activity=0)

    # A CPT row with CVX 141's number comes first: only the CVX row names the vaccine.
    insert(db, "codes", {"code": "141", "code_type": 1, "code_text": "Not a vaccine"})
    add_cvx_code(db, "141", "Influenza, seasonal, injectable", short="Flu")
    add_cvx_code(db, "208", "", short="COVID-19, mRNA, Pfizer")
    ids.shots["flu"] = add_immunization(
        db,
        ADA,
        "141",
        "2025-10-01 10:00:00",
        lot_number="FL-2025",
        expiration="2026-06-30",
        note="Left arm",
    )
    add_immunization(db, BOB, "141", "2025-10-02 10:00:00")
    ids.shots["covid"] = add_immunization(
        db, ADA, "208", "2021-04-01 09:00:00", completion_status=None, manufacturer=""
    )
    ids.shots["refused"] = add_immunization(
        db, ADA, "33", "2024-01-10 11:00:00", completion_status="Refused", lot_number=""
    )
    add_immunization(db, ADA, "141", "2024-10-01 10:00:00", added_erroneously=1)
    return ids


def expected_ada(ids: Ids) -> ClinicalRecord:
    def problem(key: str, **fields: Any) -> ProblemRow:
        return ProblemRow(id=ids.problems[key], **fields)

    def allergy(key: str, **fields: Any) -> AllergyRow:
        return AllergyRow(id=ids.allergies[key], **fields)

    def prescription(key: str, **fields: Any) -> MedicationRow:
        return MedicationRow(id=2 * ids.rx[key] + 1, **fields)

    def listed(key: str, **fields: Any) -> MedicationRow:
        return MedicationRow(id=2 * ids.listed[key], **fields)

    sinus = ids.visits["sinus"]
    return ClinicalRecord(
        patient=PatientRow(
            id=ADA,
            first_name="Ada",
            last_name="Lovelace",
            date_of_birth=date(1980, 4, 2),
            email="ada@example.org",
            phone="617-555-0100",
            home_zip="02139",
        ),
        allergies=(
            allergy(
                "peanuts",
                substance="Peanuts",
                code_system="snomed",
                code="91935009",
                reaction="nausea",
                severity="severe",
                noted_on=date(2001, 1, 1),
            ),
            allergy(
                "penicillin",
                substance="Penicillin",
                code_system="rxnorm",
                code="70618",
                reaction="Hives",
                severity="moderate",
                noted_on=date(2019, 5, 1),
            ),
            allergy("latex", substance="Latex", status="resolved", noted_on=date(2015, 1, 1)),
            allergy(
                "sulfa",
                substance="Sulfa",
                reaction="Hives",
                status="inactive",
                noted_on=date(2016, 1, 1),
            ),
        ),
        medications=(
            prescription(
                "prednisone",
                name="Prednisone 10 mg",
                rxnorm_code="312615",
                dosage="Take 1 tablet by mouth daily",
                started_on=date(2026, 11, 20),
                ended_on=date(2026, 11, 30),
                prescriber="Administrator",
            ),
            listed("fish oil", name="Fish oil", started_on=date(2024, 5, 1)),
            prescription(
                "metformin",
                name="Metformin 500 mg",
                rxnorm_code="861007",
                dosage="Take 1 tablet by mouth twice daily",
                started_on=date(2021, 3, 1),
                prescriber="Dr. Ann Adams",
                note="With meals",
            ),
            listed(
                "lisinopril",
                name="Lisinopril 10 mg",
                rxnorm_code="314076",
                dosage="1 tablet daily",
                started_on=date(2020, 1, 2),
            ),
            prescription(
                "amoxicillin",
                name="Amoxicillin 500 mg",
                rxnorm_code="308182",
                dosage="Take 1 tablet by mouth daily",
                status="completed",
                started_on=date(2026, 11, 1),
                ended_on=date(2026, 11, 10),
                prescriber="Administrator",
            ),
            listed(
                "ibuprofen",
                name="Ibuprofen 200 mg",
                rxnorm_code="310965",
                dosage="1 tablet daily",
                status="completed",
                started_on=date(2025, 1, 1),
                ended_on=date(2025, 2, 1),
            ),
        ),
        problems=(
            problem(
                "anemia",
                description="Anemia",
                icd10_code="D64.9",
                onset_on=date(2026, 1, 1),
                resolved_on=date(2027, 1, 1),
            ),
            problem(
                "hypertension",
                description="Hypertension",
                icd10_code="I10",
                snomed_code="38341003",
                onset_on=date(2020, 1, 1),
            ),
            problem("asthma", description="Asthma", onset_on=date(2010, 1, 1), note="Uses inhaler"),
            problem(
                "bronchitis",
                description="Bronchitis",
                icd10_code="J20.9",
                status="inactive",
                onset_on=date(2025, 2, 1),
                resolved_on=date(2025, 3, 1),
            ),
            problem(
                "sprain",
                description="Ankle sprain",
                icd10_code="S93.401A",
                status="resolved",
                onset_on=date(2024, 6, 1),
                resolved_on=date(2024, 7, 1),
            ),
            problem(
                "migraine",
                description="Migraine",
                snomed_code="37796009",
                status="recurrence",
                onset_on=date(2019, 1, 1),
            ),
        ),
        visits=(
            VisitRow(
                id=ids.visits["new"],
                started_at=datetime(2026, 11, 5, 14, 0),  # 09:00 EST
                reason="New Patient",
            ),
            VisitRow(
                id=sinus,
                started_at=datetime(2026, 10, 1, 14, 0),  # 10:00 EDT
                ended_at=datetime(2026, 10, 1, 14, 30),
                reason="Sinus congestion",
                provider_id=ids.adams,
                provider_name="Dr. Ann Adams",
            ),
        ),
        labs=(
            LabRow(
                id=ids.labs["cholesterol"],
                test_name="Cholesterol, total",
                value="180",
                collected_at=datetime(2026, 11, 10, 13, 0),
                loinc_code="2093-3",
                unit="mg/dL",
                reference_range="<200",
                flag="normal",
                status="preliminary",
                note="Fasting",
            ),
            LabRow(
                id=ids.labs["urine"],
                test_name="Urine color",
                value="Yellow",
                collected_at=datetime(2026, 11, 10, 13, 0),
                loinc_code="5778-6",
            ),
            LabRow(
                id=ids.labs["a1c"],
                test_name="Hemoglobin A1c",
                value="6.1",
                collected_at=datetime(2026, 10, 1, 14, 15),
                loinc_code="4548-4",
                unit="%",
                reference_range="4.0-5.6",
                flag="high",
                visit_id=sinus,
            ),
            LabRow(
                id=ids.labs["hemoglobin"],
                test_name="Hemoglobin",
                value="13.5",
                collected_at=datetime(2026, 9, 1, 12, 0),
                loinc_code="718-7",
                unit="g/dL",
                reference_range="12.0-15.5",
                flag="critical_low",
            ),
        ),
        immunizations=(
            ImmunizationRow(
                id=ids.shots["flu"],
                vaccine="Influenza, seasonal, injectable",
                administered_at=datetime(2025, 10, 1, 14, 0),
                cvx_code="141",
                lot_number="FL-2025",
                manufacturer="Acme Vaccines",
                expires_on=date(2026, 6, 30),
                note="Left arm",
            ),
            ImmunizationRow(
                id=ids.shots["refused"],
                vaccine="",
                administered_at=datetime(2024, 1, 10, 16, 0),
                cvx_code="33",
                status="not-done",
                manufacturer="Acme Vaccines",
            ),
            ImmunizationRow(
                id=ids.shots["covid"],
                vaccine="COVID-19, mRNA, Pfizer",
                administered_at=datetime(2021, 4, 1, 13, 0),
                cvx_code="208",
                lot_number="L123",
            ),
        ),
    )
