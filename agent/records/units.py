"""The units lab results are written in, as UCUM codes and as words a patient reads: one table
for both the FHIR download (Quantity `system`/`code`/`unit`) and the records page.

Practice systems write units in several spellings ("K/uL", "10^3/uL", "10*3/uL"); each
spelling listed here maps to the one UCUM code it means. A unit not listed is not guessed at:
the download carries it as the lab wrote it, without a code, and the page shows it as written.
"""

from __future__ import annotations

from dataclasses import dataclass

UCUM = "http://unitsofmeasure.org"


@dataclass(frozen=True, slots=True)
class LabUnit:
    code: str  # the UCUM code (case matters in UCUM: "mmol/L", "Cel", "m[IU]/L")
    display: str  # how a patient reads it: "mmHg", "°C", ten to the third per µL


# UCUM code -> (display, other spellings practice systems use). The code itself is always a
# spelling too.
_UNITS: dict[str, tuple[str, tuple[str, ...]]] = {
    "mg/dL": ("mg/dL", ("mg/dl",)),
    "g/dL": ("g/dL", ("g/dl",)),
    "mg/L": ("mg/L", ("mg/l",)),
    "ng/mL": ("ng/mL", ("ng/ml",)),
    "pg/mL": ("pg/mL", ("pg/ml",)),
    "ug/dL": ("µg/dL", ("µg/dL", "mcg/dL", "ug/dl")),
    "mmol/L": ("mmol/L", ("mmol/l",)),
    "umol/L": ("µmol/L", ("µmol/L", "umol/l")),
    "meq/L": ("mEq/L", ("mEq/L", "meq/l")),
    "U/L": ("U/L", ("IU/L", "u/l")),
    "m[IU]/L": ("mIU/L", ("mIU/L", "miu/l")),
    "u[IU]/mL": ("µIU/mL", ("µIU/mL", "uIU/mL")),
    "%": ("%", ()),
    "10*3/uL": (
        "\u00d710\u00b3/\u00b5L",
        ("10^3/uL", "x10^3/uL", "x10E3/uL", "K/uL", "K/µL", "thou/uL"),
    ),
    "10*6/uL": (
        "\u00d710\u2076/\u00b5L",
        ("10^6/uL", "x10^6/uL", "x10E6/uL", "M/uL", "M/µL", "mill/uL"),
    ),
    "fL": ("fL", ("fl",)),
    "pg": ("pg", ()),
    "mL/min/{1.73_m2}": ("mL/min/1.73 m²", ("mL/min/1.73m2", "mL/min/1.73 m2")),
    "mm[Hg]": ("mmHg", ("mmHg", "mm Hg")),
    "kg": ("kg", ()),
    "g": ("g", ()),
    "[lb_av]": ("lb", ("lb", "lbs")),
    "cm": ("cm", ()),
    "[in_i]": ("in", ("in",)),
    "kg/m2": ("kg/m²", ("kg/m²",)),
    "/min": ("/min", ("bpm", "beats/min", "breaths/min")),
    "Cel": ("°C", ("°C", "degC", "C")),
    "[degF]": ("°F", ("°F", "degF", "F")),
}

# Exact spellings only: UCUM is case-sensitive ("mmol/L" is not "Mmol/L"), so a spelling in
# another case is matched only where listed above.
_BY_SPELLING: dict[str, LabUnit] = {
    spelling: LabUnit(code, display)
    for code, (display, others) in _UNITS.items()
    for spelling in (code, *others)
}


def lab_unit(text: str | None) -> LabUnit | None:
    """The UCUM unit the lab's unit text means, or None when it is blank or not in the table."""
    if text is None:
        return None
    return _BY_SPELLING.get(text.strip())


def unit_display(text: str | None) -> str | None:
    """The unit as the records page shows it: the table's words, else the lab's own text."""
    known = lab_unit(text)
    if known is not None:
        return known.display
    stripped = (text or "").strip()
    return stripped or None
