"""Who is already a patient, and which birth dates cannot be right (agent/access/charts.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from agent.access.charts import birth_date_problem, name_key, same_person

CHART = {
    "first_name": "Zoë",
    "last_name": "Ångström-Nuñez",
    "date_of_birth": date(1985, 4, 12),
    "home_zip": "02139-4307",
}


@pytest.mark.parametrize(
    ("typed", "on_file"),
    [
        ("Zoe", "Zoë"),
        ("ZOË", "zoë"),
        ("angstrom nunez", "Ångström-Nuñez"),
        ("O'Brien", "OBrien"),
        ("Lodz", "Łódź"),
        ("Soren", "Søren"),
        ("Yilmaz", "Y\u0131lmaz"),  # dotless i
        ("Zoe\u0308", "Zo\u00eb"),  # combining diaeresis vs precomposed
    ],
)
def test_names_compare_without_accents_case_or_punctuation(typed: str, on_file: str) -> None:
    assert name_key(typed) == name_key(on_file)


def test_different_names_stay_different() -> None:
    assert name_key("Ann") != name_key("Anne")


def test_same_person_needs_names_birth_date_and_zip() -> None:
    born = date(1985, 4, 12)
    assert same_person(CHART, "zoe", "ANGSTROM NUNEZ", born, "02139")
    assert not same_person(CHART, "zoe", "angstrom nunez", date(1985, 4, 13), "02139")
    assert not same_person(CHART, "zoe", "angstrom nunez", born, "02138")
    assert not same_person(CHART, "zoey", "angstrom nunez", born, "02139")
    assert not same_person({**CHART, "home_zip": None}, "zoe", "angstrom nunez", born, "02139")


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("born", "problem"),
    [
        (date(2026, 11, 24), None),  # already 24 November in Kiribati (UTC+14)
        (date(2026, 11, 25), "that date is in the future. Please check the year"),
        (date(1901, 11, 24), None),
        (date(1901, 11, 23), "that date is more than 125 years ago. Please check the year"),
    ],
)
def test_birth_dates_that_cannot_be_right(born: date, problem: str | None) -> None:
    assert birth_date_problem(born, NOW) == problem
