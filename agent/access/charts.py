"""Is this person already a patient? Pure rules over plain values, no I/O.

Self-registration (seed 004) must not give a patient a second, empty chart. A sign-up is the
same person as a chart when the names agree once case, accents and punctuation are set aside
("Zoë Ångström-Nuñez" = "ZOE angstrom nunez"), and the date of birth and the home zip code
agree. The date of birth must be a possible one before any of that.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta

OLDEST_YEARS = 125  # older than any living person; anything before is a typing slip

# Letters NFKD does not take apart into a base letter and an accent.
# Written as escapes: U+0131 (dotless i) looks like "i" in an editor, which is the point.
_UNACCENTED = str.maketrans(
    {
        "\u00f8": "o",  # ø
        "\u0142": "l",  # ł
        "\u0111": "d",  # đ
        "\u0127": "h",  # ħ
        "\u0131": "i",  # dotless i
        "\u00e6": "ae",  # æ
        "\u0153": "oe",  # œ
        "\u00fe": "th",  # þ
    }
)


def name_key(name: str) -> str:
    """A name as compared: no accents, no case, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in bare.translate(_UNACCENTED) if c.isalnum())


def zip_matches(on_file: str | None, given: str) -> bool:
    """Compare zip codes the way people write them: case, spaces and a ZIP+4 tail ignored."""
    if not on_file:
        return False
    a = "".join(on_file.split()).upper().replace("-", "")
    b = "".join(given.split()).upper().replace("-", "")
    if a[:5].isdigit() and b[:5].isdigit():
        return a[:5] == b[:5]
    return a == b and bool(a)


def same_person(
    chart: dict[str, object], first_name: str, last_name: str, born: date, zip_code: str
) -> bool:
    """Whether a patients row (first_name, last_name, date_of_birth, home_zip) is this person."""
    return (
        chart["date_of_birth"] == born
        and name_key(str(chart["first_name"])) == name_key(first_name)
        and name_key(str(chart["last_name"])) == name_key(last_name)
        and zip_matches(chart["home_zip"] if isinstance(chart["home_zip"], str) else None, zip_code)
    )


def birth_date_problem(born: date, now: datetime) -> str | None:
    """Why a date of birth cannot be right, in words for the patient; None if it can be."""
    # The latest date it already is anywhere on Earth (UTC+14): a baby born today in the
    # practice's time zone is never "in the future".
    today = (now + timedelta(hours=14)).date()
    if born > today:
        return "that date is in the future. Please check the year"
    try:
        oldest = today.replace(year=today.year - OLDEST_YEARS)
    except ValueError:  # 29 February
        oldest = today.replace(year=today.year - OLDEST_YEARS, day=28)
    if born < oldest:
        return f"that date is more than {OLDEST_YEARS} years ago. Please check the year"
    return None
