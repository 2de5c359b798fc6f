"""Plant clinical rows for one patient, straight into the practice's tables.

`seed_records(settings, patient_id, marker="CANARY-7")` writes two allergies, two medications,
two problems, two visits and three lab results (numeric high, numeric normal, text), with the
marker inside their substances, names, notes, reasons and summaries, so a test can look for
it (in another patient's bundle, in the proxy's logs) and know where it came from. It returns
what it planted: {kind: [row as written, with its id]}. The proxy and browser tests use it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from agent.db.pool import DatabaseSettings
from tests.support.database import connect

KINDS = ("allergies", "medications", "problems", "visits", "labs")

TABLES = {
    "allergies": "patient_allergies",
    "medications": "patient_medications",
    "problems": "patient_problems",
    "visits": "encounters",
    "labs": "lab_results",
}


def seed_records(
    settings: DatabaseSettings, patient_id: int, *, marker: str = ""
) -> dict[str, list[dict[str, Any]]]:
    """Plant one patient's rows of every kind; returns {kind: [row, ...]} with ids."""
    connection = connect(settings, dict_rows=True)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id) AS id FROM providers")
        provider = cursor.fetchone()["id"]
        return _plant(cursor, patient_id, _with(marker), provider)


def _with(marker: str) -> Any:
    def text(value: str) -> str:
        return f"{value} {marker}" if marker else value

    return text


def _plant(cursor: Any, patient_id: int, text: Any, provider: int | None) -> dict[str, Any]:
    planted: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}

    def insert(kind: str, **row: Any) -> dict[str, Any]:
        row = {"patient_id": patient_id, **row}
        columns = ", ".join(row)
        values = ", ".join(["%s"] * len(row))
        cursor.execute(
            f"INSERT INTO {TABLES[kind]} ({columns}) VALUES ({values})", tuple(row.values())
        )
        row["id"] = cursor.lastrowid
        planted[kind].append(row)
        return row

    insert(
        "allergies",
        substance=text("Penicillin"),
        code_system="rxnorm",
        code="7980",
        category="medication",
        reaction=text("Hives"),
        severity="moderate",
        status="active",
        noted_on=date(2020, 3, 14),
        note=text("Noted at the first visit"),
    )
    insert(
        "allergies",
        substance=text("Peanut"),
        code_system="snomed",
        code="256349002",
        category="food",
        reaction="Anaphylaxis",
        severity="severe",
        status="active",
        noted_on=date(2015, 6, 1),
        note=None,
    )
    insert(
        "medications",
        name=text("Lisinopril 10 mg tablet"),
        rxnorm_code="29046",
        dosage="1 tablet by mouth once daily",
        status="active",
        started_on=date(2024, 1, 10),
        ended_on=None,
        prescriber_id=provider,
        note=text("Take in the morning"),
    )
    insert(
        "medications",
        name=text("Amoxicillin 500 mg capsule"),
        rxnorm_code="723",
        dosage="1 capsule 3 times daily for 10 days",
        status="completed",
        started_on=date(2026, 10, 1),
        ended_on=date(2026, 10, 11),
        prescriber_id=provider,
        note=None,
    )
    insert(
        "problems",
        description=text("High blood pressure"),
        icd10_code="I10",
        snomed_code="38341003",
        status="active",
        onset_on=date(2024, 1, 10),
        resolved_on=None,
        note=text("Home readings at goal"),
    )
    insert(
        "problems",
        description=text("Sinus infection"),
        icd10_code="J01.90",
        snomed_code=None,
        status="resolved",
        onset_on=date(2026, 10, 1),
        resolved_on=date(2026, 10, 15),
        note=None,
    )
    sinus = insert(
        "visits",
        provider_id=provider,
        started_at=datetime(2026, 10, 1, 14, 0),
        ended_at=datetime(2026, 10, 1, 14, 30),
        reason=text("Sinus congestion"),
        summary=text("Started amoxicillin.") + "\nCall if not better in a week.",
    )
    check = insert(
        "visits",
        provider_id=provider,
        started_at=datetime(2026, 6, 15, 13, 0),
        ended_at=None,
        reason="Follow-up: blood pressure",
        summary=text("Blood pressure 128/82. Continue lisinopril."),
    )
    insert(
        "labs",
        encounter_id=sinus["id"],
        test_name=text("Glucose, fasting"),
        loinc_code="2345-7",
        value="105",
        unit="mg/dL",
        reference_range="70-99",
        flag="high",
        status="final",
        collected_at=datetime(2026, 10, 1, 14, 20),
        note=None,
    )
    insert(
        "labs",
        encounter_id=check["id"],
        test_name="Hemoglobin A1c",
        loinc_code="4548-4",
        value="5.4",
        unit="%",
        reference_range="4.0-5.6",
        flag="normal",
        status="final",
        collected_at=datetime(2026, 6, 15, 13, 20),
        note=text("Fasting sample"),
    )
    insert(
        "labs",
        encounter_id=None,
        test_name="Strep A rapid test",
        loinc_code="78012-2",
        value=text("Negative"),
        unit=None,
        reference_range="Negative",
        flag="normal",
        status="final",
        collected_at=datetime(2026, 10, 1, 14, 25),
        note=None,
    )
    return planted
