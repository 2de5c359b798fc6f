"""`pc_recurrspec` values as OpenEMR writes them, for rows the tests put in the calendar.

Serialized by hand the way PHP's `serialize()` writes an array of strings (README 6.2: `a:<n>:{`,
then `s:<bytes>:"<key>";` and `s:<bytes>:"<value>";` or `N;` per entry, then `}`), so the
fixtures do not lean on the parser under test; a test checks this agrees with
`phpserialize.dumps`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# event_repeat_freq_type units (library/encounter_events.inc.php:25-30).
DAY, WEEK, MONTH, YEAR, WORKDAY = 0, 1, 2, 3, 4
DAYS_OF_WEEK = 6
# Weekday numbers of a days-of-week series: 1 = Sunday ... 7 = Saturday.
SUNDAY, MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY = range(1, 8)


def php_serialize(values: Mapping[str, str | None]) -> str:
    """A PHP array of strings (or nulls) as `serialize()` writes it; lengths are UTF-8 bytes."""

    def string(text: str) -> str:
        return f's:{len(text.encode())}:"{text}";'

    body = "".join(string(k) + ("N;" if v is None else string(v)) for k, v in values.items())
    return f"a:{len(values)}:{{{body}}}"


@dataclass(frozen=True)
class Repeat:
    """`pc_recurrtype` and `pc_recurrspec` of one row."""

    type: int
    spec: str


def _staff_spec(
    freq: str,
    freq_type: int,
    on_num: int,
    on_day: int,
    on_freq: int,
    exdate: str,
    *,
    flag: bool = False,
) -> str:
    # The staff dialog's 6-key array (interface/main/calendar/add_edit_event.php:428-446).
    values = {
        "event_repeat_freq": freq,
        "event_repeat_freq_type": str(freq_type),
        "event_repeat_on_num": str(on_num),
        "event_repeat_on_day": str(on_day),
        "event_repeat_on_freq": str(on_freq),
        "exdate": exdate,
    }
    if flag:
        values["rt2_pf_flag"] = "1"
    return php_serialize(values)


def _exdate(dates: tuple[str, ...]) -> str:
    """ISO dates as the `exdate` list OpenEMR appends to: YYYYMMDD, comma-separated."""
    return ",".join(day.replace("-", "") for day in dates)


# A single event as the staff dialog saves it (freq "0", type "0", exdate "").
NO_REPEAT = Repeat(0, _staff_spec("0", DAY, 1, 0, 0, ""))

# A single event as OpenEMR's portal saves it (portal/add_edit_event_user.php:217-223).
PORTAL_NO_REPEAT = Repeat(
    0,
    php_serialize(
        {
            "event_repeat_freq": None,
            "event_repeat_freq_type": "0",
            "event_repeat_on_num": "1",
            "event_repeat_on_day": "0",
            "event_repeat_on_freq": "1",
        }
    ),
)


def every(interval: int, unit: int, *, exdate: tuple[str, ...] = ()) -> Repeat:
    """Type 1: every `interval` DAYs, WEEKs, MONTHs, YEARs or WORKDAYs; `exdate` ISO dates."""
    return Repeat(1, _staff_spec(str(interval), unit, 1, 0, 0, _exdate(exdate)))


def on_weekdays(*days: int, exdate: tuple[str, ...] = ()) -> Repeat:
    """Type 3: every week on `days` (SUNDAY = 1 ... SATURDAY = 7)."""
    listed = ",".join(str(day) for day in days)
    return Repeat(3, _staff_spec(listed, DAYS_OF_WEEK, 1, 0, 0, _exdate(exdate)))


def nth_weekday(nth: int, weekday: int, months: int = 1, *, exdate: tuple[str, ...] = ()) -> Repeat:
    """Type 2: the `nth` (5 = last) `weekday` (0 = Sunday ... 6 = Saturday) of every `months`
    months, with `rt2_pf_flag` as current code saves it."""
    return Repeat(2, _staff_spec("0", DAY, nth, weekday, months, _exdate(exdate), flag=True))
