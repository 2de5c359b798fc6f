"""What OpenEMR's clinical codes mean in Portico's record types (agent/openemr/clinical.py),
option by option of the lists OpenEMR ships (sql/database.sql), expected values by hand."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from agent.openemr import clinical as c


@pytest.mark.parametrize(
    ("outcome", "occurrence", "ended", "status"),
    [
        (0, 0, False, "active"),
        (0, 1, False, "active"),  # "First": OpenEMR's FHIR layer says resolved
        (0, 4, False, "active"),  # "Chronic/Recurrent": OpenEMR's FHIR layer says recurrence
        (0, 5, False, "active"),
        (0, 6, False, "recurrence"),
        (0, 7, False, "recurrence"),
        (0, 8, False, "recurrence"),
        (0, None, False, "active"),
        (0, 7, True, "inactive"),
        (1, 0, False, "resolved"),
        (1, 0, True, "resolved"),
        (2, 0, True, "inactive"),  # "Improved", then ended
    ],
)
def test_problem_status(outcome: int, occurrence: int | None, ended: bool, status: str) -> None:
    assert c.problem_status(outcome, occurrence, ended) == status


@pytest.mark.parametrize(
    ("outcome", "ended", "status"),
    [(0, False, "active"), (1, False, "active"), (0, True, "inactive"), (1, True, "resolved")],
)
def test_allergy_status(outcome: int, ended: bool, status: str) -> None:
    assert c.allergy_status(outcome, ended) == status


@pytest.mark.parametrize(
    ("severity", "fhir"),
    [
        ("mild", "mild"),
        ("mild_to_moderate", "moderate"),
        ("moderate", "moderate"),
        ("moderate_to_severe", "severe"),
        ("severe", "severe"),
        ("life_threatening_severity", "severe"),
        ("fatal", "severe"),
        ("unassigned", None),
        ("", None),
        (None, None),
        ("something else", None),
    ],
)
def test_allergy_severity_rounds_up_to_fhirs_three(severity: str | None, fhir: str | None) -> None:
    assert c.allergy_severity(severity) == fhir


@pytest.mark.parametrize(
    ("abnormal", "flag"),
    [
        ("no", "normal"),
        ("yes", "abnormal"),
        ("high", "high"),
        ("low", "low"),
        ("vhigh", "critical_high"),
        ("vlow", "critical_low"),
        (" high ", "high"),
        ("", None),
        (None, None),
        ("Positive", "Positive"),  # a lab's own word is kept as written
    ],
)
def test_lab_flag(abnormal: str | None, flag: str | None) -> None:
    assert c.lab_flag(abnormal) == flag


@pytest.mark.parametrize(
    ("result_status", "report_status", "status"),
    [
        ("final", "", "final"),
        ("prelim", "final", "preliminary"),
        ("incomplete", "", "preliminary"),
        ("correct", "", "corrected"),
        ("cancel", "", "cancelled"),
        ("error", "", "entered-in-error"),
        ("amended", "", "amended"),
        ("Final", "", "final"),
        ("", "review", "final"),
        ("", "prelim", "preliminary"),
        ("", "", "unknown"),
        (None, None, "unknown"),
        ("F", "", "unknown"),
    ],
)
def test_lab_status(result_status: str | None, report_status: str | None, status: str) -> None:
    assert c.lab_status(result_status, report_status) == status


@pytest.mark.parametrize(
    ("completion", "status"),
    [
        ("Completed", "completed"),
        ("Partially_Administered", "completed"),
        ("", "completed"),
        (None, "completed"),
        ("Refused", "not-done"),
        ("Not_Administered", "not-done"),
    ],
)
def test_immunization_status(completion: str | None, status: str) -> None:
    assert c.immunization_status(completion) == status


def test_diagnosis_codes_take_the_first_code_of_each_system() -> None:
    codes = c.diagnosis_codes("ICD10:I10; snomed-ct:38341003;ICD10:I11.9;RXCUI:;junk;:5")
    assert codes == {"ICD10": "I10", "SNOMED-CT": "38341003", "": "5"}
    assert (c.icd10(codes), c.snomed(codes), c.rxnorm(codes)) == ("I10", "38341003", None)
    assert c.diagnosis_codes(None) == {}
    assert c.rxnorm(c.diagnosis_codes("RXNORM:1191")) == "1191"
    assert c.snomed(c.diagnosis_codes("SNOMED:91935009")) == "91935009"


def test_names_text_and_dates() -> None:
    assert c.person_name("Dr.", "Ann", "Adams") == "Dr. Ann Adams"
    assert c.person_name(None, "", " Administrator ") == "Administrator"
    assert c.person_name(None, None, None) is None
    assert c.text("  ") is None
    assert c.text(" a ") == "a"
    assert c.moment("0000-00-00 00:00:00") is None
    assert c.moment(date(2026, 1, 2)) == datetime(2026, 1, 2)
    assert c.day("0000-00-00") is None
    assert c.day(datetime(2026, 1, 2, 3, 4)) == date(2026, 1, 2)
