"""What OpenEMR's clinical codes mean in Portico's record types (pure; the reader that runs the
SQL is agent/openemr/records.py).

OpenEMR's own FHIR layer (src/Services/FHIR, README of issue 13 section 2.7) is the model;
where it says something the data does not, Portico says what the data says, and the line
says so:

- Problem status: `outcome = 1` (Resolved) -> resolved; ended -> inactive; `occurrence` 6, 7, 8
  (the three "Recurrence" options) -> recurrence; else active. OpenEMR's FHIR layer also calls
  `occurrence = 1` ("First") resolved and 4-5 (chronic) a recurrence: not copied.
- Allergy status: ended with `outcome = 1` -> resolved; ended -> inactive; else active, as
  OpenEMR's FHIR layer, except that an end date still to come is not yet ended.
- Allergy severity (list `severity_ccda`) to FHIR's mild/moderate/severe, rounding up:
  mild_to_moderate -> moderate; moderate_to_severe, life_threatening_severity, fatal ->
  severe; unassigned -> none.
- Lab flag (`abnormal`, list `proc_res_abnormal`): no -> normal, yes -> abnormal, high, low,
  vhigh -> critical_high, vlow -> critical_low; any other text is kept as written.
- Lab status (`result_status`, else the report's `report_status`; lists `proc_res_status`,
  `proc_rep_status`): final/review -> final, prelim/incomplete -> preliminary, correct ->
  corrected, cancel -> cancelled, error -> entered-in-error, FHIR's own codes as they are,
  anything else unknown. OpenEMR's FHIR layer passes only FHIR's spellings and so calls
  `prelim` unknown: not copied.
- Immunization status: `Refused` and `Not_Administered` -> not-done, else completed. OpenEMR's
  FHIR layer calls everything but `Completed` not-done, but its form leaves the status blank
  by default and rows from before the column hold NULL, and those vaccines were given.
- Codes in `lists.diagnosis` are `SYSTEM:code` joined by `;` (systems are `code_types.ct_key`);
  the first code of each system is used.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

RESOLVED = 1  # list `outcome`
RECURRENCES = frozenset({6, 7, 8})  # list `occurrence`: early, late, delayed recurrence
NOT_THERE = ("refuted", "entered-in-error")  # list verification codes: the patient has not

_SEVERITY = {
    "mild": "mild",
    "mild_to_moderate": "moderate",
    "moderate": "moderate",
    "moderate_to_severe": "severe",
    "severe": "severe",
    "life_threatening_severity": "severe",
    "fatal": "severe",
}
_FLAGS = {
    "no": "normal",
    "yes": "abnormal",
    "high": "high",
    "low": "low",
    "vhigh": "critical_high",
    "vlow": "critical_low",
}
_FHIR_OBSERVATION_STATUS = (
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
)
_LAB_STATUS = {
    **{code: code for code in _FHIR_OBSERVATION_STATUS},
    "review": "final",
    "prelim": "preliminary",
    "incomplete": "preliminary",
    "correct": "corrected",
    "cancel": "cancelled",
    "error": "entered-in-error",
}
LAB_LEFT_OUT = frozenset({"cancelled", "entered-in-error"})  # not a result to show
_NOT_GIVEN = frozenset({"Refused", "Not_Administered"})


def problem_status(outcome: int, occurrence: int | None, ended: bool) -> str:
    if outcome == RESOLVED:
        return "resolved"
    if ended:
        return "inactive"
    return "recurrence" if occurrence in RECURRENCES else "active"


def allergy_status(outcome: int, ended: bool) -> str:
    if not ended:
        return "active"
    return "resolved" if outcome == RESOLVED else "inactive"


def allergy_severity(severity: str | None) -> str | None:
    return _SEVERITY.get(severity or "")


def lab_flag(abnormal: str | None) -> str | None:
    text = (abnormal or "").strip()
    return _FLAGS.get(text, text or None)


def lab_status(result_status: str | None, report_status: str | None) -> str:
    text = (result_status or "").strip() or (report_status or "").strip()
    return _LAB_STATUS.get(text.lower(), "unknown")


def immunization_status(completion_status: str | None) -> str:
    return "not-done" if completion_status in _NOT_GIVEN else "completed"


def diagnosis_codes(diagnosis: str | None) -> dict[str, str]:
    """`SYSTEM:code;SYSTEM:code` as the first code of each (upper-cased) system."""
    found: dict[str, str] = {}
    for part in (diagnosis or "").split(";"):
        system, colon, code = part.partition(":")
        if colon and code.strip():
            found.setdefault(system.strip().upper(), code.strip())
    return found


def icd10(codes: dict[str, str]) -> str | None:
    return codes.get("ICD10") or codes.get("ICD10-CM")


def rxnorm(codes: dict[str, str]) -> str | None:
    return codes.get("RXCUI") or codes.get("RXNORM")


def snomed(codes: dict[str, str]) -> str | None:
    return codes.get("SNOMED-CT") or codes.get("SNOMED")


def person_name(title: str | None, first: str | None, last: str | None) -> str | None:
    """A user's name as a patient reads it: "Dr. Ann Adams"."""
    return " ".join(part.strip() for part in (title, first, last) if part and part.strip()) or None


def text(value: Any) -> str | None:
    """Free text as the record types hold it: blank is none."""
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None


def moment(value: Any) -> datetime | None:
    """A DATETIME column's value, or None: PyMySQL hands zero dates ('0000-00-00 ...', which
    OpenEMR's non-strict writes leave behind) back as text."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    return None


def day(value: Any) -> date | None:
    """A DATE or DATETIME column's day, or None (zero dates included)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None
