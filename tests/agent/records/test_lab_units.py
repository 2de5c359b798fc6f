"""The table of lab units (agent/records/units.py): one UCUM code and one display per
spelling, looked up exactly as written. Pure: no database."""

from __future__ import annotations

import pytest

from agent.records.units import _UNITS, lab_unit, unit_display


def test_no_spelling_means_two_units() -> None:
    spellings = [s for code, (_, others) in _UNITS.items() for s in (code, *others)]
    assert len(spellings) == len(set(spellings))


@pytest.mark.parametrize(
    ("written", "code", "shown"),
    [
        ("10*3/uL", "10*3/uL", "\u00d710\u00b3/\u00b5L"),
        ("K/uL", "10*3/uL", "\u00d710\u00b3/\u00b5L"),
        ("mm[Hg]", "mm[Hg]", "mmHg"),
        ("mmHg", "mm[Hg]", "mmHg"),
        ("Cel", "Cel", "\u00b0C"),
        (" mg/dL ", "mg/dL", "mg/dL"),
        ("mEq/L", "meq/L", "mEq/L"),
    ],
)
def test_spellings_map_to_their_ucum_code_and_words(written: str, code: str, shown: str) -> None:
    unit = lab_unit(written)
    assert unit is not None and (unit.code, unit.display) == (code, shown)
    assert unit_display(written) == shown


@pytest.mark.parametrize("written", ["Mmol/L", "mm/hr", "copies/mL", ""])
def test_an_unknown_spelling_is_not_guessed(written: str) -> None:
    assert lab_unit(written) is None
    assert unit_display(written) == (written.strip() or None)


def test_no_unit_is_no_display() -> None:
    assert unit_display(None) is None
