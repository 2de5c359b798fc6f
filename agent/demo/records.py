"""Plausible clinical records for the demo practice, generated deterministically from a seed.

Each demo patient gets a small, internally consistent chart: long-term problems suited to
their age with the medicines that treat them, sometimes allergies, a visit summary for every
completed appointment (with the appointment's provider and time), and lab results drawn at
those visits whose flags agree with their reference ranges. Everything is invented; codes are
real RxNorm ingredients, SNOMED CT concepts, ICD-10-CM and LOINC codes, so the FHIR download
looks like one a real system would produce.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from agent.demo.conditions import (
    ACUTE,
    ALLERGIES,
    CHRONIC,
    LABS,
    PHYSICAL_LABS,
    TEXT_LABS,
    Condition,
)
from agent.demo.practice import DemoSeedRefused


@dataclass(frozen=True, slots=True)
class RecordSeedSummary:
    allergies: int
    medications: int
    problems: int
    visits: int
    labs: int

    def describe(self) -> str:
        return (
            f"clinical records: {self.allergies} allergies, {self.medications} medications, "
            f"{self.problems} problems, {self.visits} visit summaries, {self.labs} lab results"
        )


@dataclass
class _Chart:
    """One patient's rows, each a tuple in its table's column order (see _write); each visit
    carries its labs, which get the visit's id once it has one."""

    patient_id: int
    allergies: list[tuple[Any, ...]] = field(default_factory=list)
    medications: list[tuple[Any, ...]] = field(default_factory=list)
    problems: list[tuple[Any, ...]] = field(default_factory=list)
    visits: list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]] = field(default_factory=list)

    def problem(
        self, name: str, icd10: str, snomed: str, status: str, onset: date, resolved: date | None
    ) -> None:
        self.problems.append((self.patient_id, name, icd10, snomed, status, onset, resolved))

    def medication(self, medicine: tuple[str, str, str], *columns: Any) -> None:
        """status, started, ended, prescriber id, note"""
        self.medications.append((self.patient_id, *medicine, *columns))


def seed_demo_records(
    connection: Any, *, now: datetime, patient_ids: Sequence[int], rng_seed: int = 11
) -> RecordSeedSummary:
    """Write clinical records for `patient_ids` in one transaction, after seed_demo.

    Visit summaries follow the patients' completed appointments. Raises DemoSeedRefused,
    writing nothing, if any clinical table already has rows."""
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    rng = random.Random(rng_seed)
    connection.begin()
    try:
        with connection.cursor() as cursor:
            _refuse_unless_empty(cursor)
            providers = [row["id"] for row in _rows(cursor, "SELECT id FROM providers ORDER BY id")]
            births = _births(cursor, patient_ids)
            visits = _completed_visits(cursor, patient_ids, now)
            charts = [
                _chart(rng, now, _Chart(pid), births[pid], visits.get(pid, []), providers)
                for pid in patient_ids
                if pid in births
            ]
            summary = _write(cursor, charts)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return summary


def _rows(cursor: Any, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows as dicts whatever the connection's cursor class (the CLI's gives tuples)."""
    cursor.execute(sql, args)
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    return [row if isinstance(row, dict) else dict(zip(names, row, strict=True)) for row in rows]


def _refuse_unless_empty(cursor: Any) -> None:
    for table in _COLUMNS:  # every clinical table
        if _rows(cursor, f"SELECT 1 AS one FROM {table} LIMIT 1"):
            raise DemoSeedRefused(
                f"the {table} table already has rows; demo records are only seeded into an "
                "empty database"
            )


def _in(ids: Sequence[int]) -> str:
    return ", ".join(["%s"] * len(ids)) or "NULL"


def _births(cursor: Any, patient_ids: Sequence[int]) -> dict[int, date]:
    sql = f"SELECT id, date_of_birth FROM patients WHERE id IN ({_in(patient_ids)})"
    return {row["id"]: row["date_of_birth"] for row in _rows(cursor, sql, list(patient_ids))}


def _completed_visits(
    cursor: Any, patient_ids: Sequence[int], now: datetime
) -> dict[int, list[dict[str, Any]]]:
    sql = (
        "SELECT a.id, a.patient_id, a.provider_id, a.starts_at, a.ends_at, t.name AS type"
        " FROM appointments a JOIN appointment_types t ON t.id = a.appointment_type_id"
        " WHERE a.status = 'completed' AND a.ends_at <= %s"
        f" AND a.patient_id IN ({_in(patient_ids)}) ORDER BY a.starts_at, a.id"
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in _rows(cursor, sql, [now, *patient_ids]):
        found.setdefault(row["patient_id"], []).append(row)
    return found


def _chart(
    rng: random.Random,
    now: datetime,
    chart: _Chart,
    born: date,
    appointments: list[dict[str, Any]],
    providers: list[int],
) -> _Chart:
    today = now.date()
    age = (today - born).days // 365
    # Nobody gets a long-term problem before the age of four: onsets must lie in the past.
    pool = [c for c in CHRONIC if age >= 18 or (age >= 4 and not c.adult_only)]
    count = rng.choices((0, 1, 2, 3), weights=(3, 4, 2, 1) if age < 50 else (1, 3, 3, 2))[0]
    conditions = rng.sample(pool, min(count, len(pool)))
    earliest = min(max(born, today - timedelta(days=4380)), today - timedelta(days=150))
    for condition in conditions:
        onset = _day_between(rng, earliest, today - timedelta(days=120))
        chart.problem(
            condition.description, condition.icd10, condition.snomed, "active", onset, None
        )
        _prescribe(rng, chart, condition, onset, today, providers)
    for allergy in rng.sample(ALLERGIES, rng.choices((0, 1, 2), weights=(11, 6, 3))[0]):
        noted = _day_between(rng, earliest, today - timedelta(days=30))
        chart.allergies.append((chart.patient_id, *allergy[:-1], noted, allergy[-1]))
    if not appointments and providers:  # no visit in the demo window: a physical last year
        start = datetime.combine(today - timedelta(days=rng.randrange(200, 500)), time(14))
        appointments = [
            {
                "id": None,
                "provider_id": rng.choice(providers),
                "starts_at": start,
                "ends_at": start + timedelta(minutes=45),
                "type": "Annual physical",
            }
        ]
    for appointment in appointments:
        chart.visits.append(_visit(rng, today, chart, appointment, conditions))
    return chart


def _prescribe(
    rng: random.Random,
    chart: _Chart,
    condition: Condition,
    onset: date,
    today: date,
    providers: list[int],
) -> None:
    prescriber = rng.choice(providers) if providers else None
    started = onset + timedelta(days=rng.randrange(0, 30))
    medicines = condition.medicines
    if len(medicines) > 1 and rng.random() < 0.3:
        # The classic switch: an ACE inhibitor's dry cough, then an ARB instead.
        switched = _day_between(rng, started + timedelta(days=30), today - timedelta(days=30))
        note = "Stopped because of a dry cough."
        chart.medication(medicines[0], "stopped", started, switched, prescriber, note)
        medicines, started = medicines[1:], switched
    chart.medication(medicines[0], "active", started, None, prescriber, None)


def _visit(
    rng: random.Random,
    today: date,
    chart: _Chart,
    appointment: dict[str, Any],
    conditions: list[Condition],
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    kind: str = appointment["type"]
    start: datetime = appointment["starts_at"]
    focus = rng.choice(conditions) if conditions else None
    if kind == "Annual physical":
        reason, labs = "Annual physical", list(PHYSICAL_LABS)
        labs += [lab for c in conditions for lab in c.labs if lab not in labs]
        said = [c.notes[0].format(bp=_bp(rng)) for c in conditions[:2]]
        summary = " ".join(
            ["Yearly check-up. Vaccines reviewed.", *said, "Routine blood work drawn."]
        )
    elif kind == "Quick check" or focus is None:
        reason, summary, labs = _acute_visit(rng, today, chart, appointment)
    else:
        label = "Video visit" if kind == "Telehealth" else kind
        reason = f"{label}: {focus.reason}"
        summary = rng.choice(focus.notes).format(bp=_bp(rng))
        labs = list(focus.labs)
    ids = (appointment["provider_id"], appointment["id"])
    visit = (chart.patient_id, *ids, start, appointment["ends_at"], reason, summary)
    drawn = start + timedelta(minutes=20)
    return visit, [_lab(rng, chart.patient_id, key, drawn) for key in labs]


def _acute_visit(
    rng: random.Random, today: date, chart: _Chart, appointment: dict[str, Any]
) -> tuple[str, str, list[str]]:
    """A short illness: a problem (resolved two weeks on, if that is past), maybe a course of
    medicine. Returns the visit's reason, summary and labs."""
    description, icd10, snomed, reason, summary, medicine, labs = rng.choice(ACUTE)
    onset = appointment["starts_at"].date()
    over = onset + timedelta(days=14)
    resolved = over if over < today else None
    chart.problem(description, icd10, snomed, "resolved" if resolved else "active", onset, resolved)
    if medicine is not None:
        status = "completed" if resolved else "active"
        ended = onset + timedelta(days=10)
        chart.medication(medicine, status, onset, ended, appointment["provider_id"], None)
    return reason, summary, list(labs)


def _lab(rng: random.Random, patient_id: int, key: str, drawn: datetime) -> tuple[Any, ...]:
    if key in TEXT_LABS:
        name, loinc, result, printed = TEXT_LABS[key]
        return (patient_id, name, loinc, result, None, printed, "normal", "final", drawn)
    name, loinc, unit, low, high, printed, decimals, mean, spread = LABS[key]
    value = max(round(rng.gauss(mean, spread), decimals), 0.1 if decimals else 1)
    flag = "low" if low is not None and value < low else "normal"
    if high is not None and value > high:
        flag = "high"
    return (patient_id, name, loinc, f"{value:.{decimals}f}", unit, printed, flag, "final", drawn)


def _bp(rng: random.Random) -> str:
    return f"{rng.randrange(112, 146)}/{rng.randrange(70, 92)}"


def _day_between(rng: random.Random, first: date, last: date) -> date:
    if last <= first:
        return first
    return first + timedelta(days=rng.randrange((last - first).days + 1))


_COLUMNS = {
    "patient_allergies": "patient_id, substance, code_system, code, category, reaction,"
    " severity, status, noted_on, note",
    "patient_medications": "patient_id, name, rxnorm_code, dosage, status, started_on,"
    " ended_on, prescriber_id, note",
    "patient_problems": "patient_id, description, icd10_code, snomed_code, status, onset_on,"
    " resolved_on",
    "encounters": "patient_id, provider_id, appointment_id, started_at, ended_at, reason, summary",
    "lab_results": "patient_id, test_name, loinc_code, value, unit, reference_range, flag,"
    " status, collected_at, encounter_id",
}


def _insert(cursor: Any, table: str, rows: list[tuple[Any, ...]]) -> int:
    # Placeholders only inside VALUES (...): PyMySQL then sends one multi-row INSERT.
    columns = _COLUMNS[table]
    values = ", ".join(["%s"] * (columns.count(",") + 1))
    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({values})", rows)
    return len(rows)


def _write(cursor: Any, charts: list[_Chart]) -> RecordSeedSummary:
    visits = [visit for chart in charts for visit in chart.visits]
    _insert(cursor, "encounters", [row for row, _ in visits])
    # The table was empty (checked) and only this transaction wrote to it, so ids ascend in
    # insertion order: the i-th id is the i-th visit.
    ids = [row["id"] for row in _rows(cursor, "SELECT id FROM encounters ORDER BY id")]
    labs = [(*lab, visit) for visit, (_, rows) in zip(ids, visits, strict=True) for lab in rows]
    return RecordSeedSummary(
        allergies=_insert(cursor, "patient_allergies", [r for c in charts for r in c.allergies]),
        medications=_insert(
            cursor, "patient_medications", [r for c in charts for r in c.medications]
        ),
        problems=_insert(cursor, "patient_problems", [r for c in charts for r in c.problems]),
        visits=len(visits),
        labs=_insert(cursor, "lab_results", labs),
    )
